"""Fault injection: kill `run` and `solve` mid-incident (SIGKILL and SIGINT).

The kill point is deterministic: the moment the agent logs its first step on a given
incident (a line tagged `[IM-000N]` in the log file), not a fixed sleep. Afterwards
`netops-agent doctor` must pass (it settles an unfinished writer as the next start
would) and a rerun must work. `eval` is killed in test_eval_durable.py.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import EXE, Cli
from tests.helpers import query_db


def _start_until(cli: Cli, args: list[str], tag: str) -> subprocess.Popen[str]:
    log = cli.cwd / "outputs" / "netops.log"
    start = log.stat().st_size if log.exists() else 0
    proc = subprocess.Popen(
        [EXE, *args], cwd=cli.cwd, env=cli.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 300  # hang guard only
    while not (log.exists() and f"[{tag}]" in log.read_bytes()[start:].decode(errors="replace")):
        assert proc.poll() is None, f"{args[0]} ended before {tag}: {proc.communicate()[1]}"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return proc


def _kill(proc: subprocess.Popen[str], sig: int) -> str:
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and "Traceback" not in err
        assert err.strip().splitlines()[-1].startswith("interrupted:")
    else:
        assert proc.returncode == -signal.SIGKILL
    return err


COUNTS = (
    "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM telemetry), (SELECT count(*) FROM changes)"
)


@pytest.mark.parametrize(("sig", "tag"), [(signal.SIGKILL, "IM-0002"), (signal.SIGINT, "IM-0001")])
def test_killed_run_keeps_the_previous_run(cli: Cli, finished: Path, sig: int, tag: str) -> None:
    shutil.copytree(finished, cli.cwd / "outputs")
    db = cli.cwd / "outputs" / "netops.duckdb"
    before = query_db(db, COUNTS)
    assert before[0][0] == 4
    err = _kill(_start_until(cli, ["run", "--scenario", "smoke", "--seed", "7"], tag), sig)
    if sig == signal.SIGINT:
        assert "previous run's records" in err
    assert query_db(db, COUNTS) == before  # reset and new records commit together, or not at all
    doc = cli.json("doctor")
    assert doc["ok"] is True, doc["problems"]
    again = cli.json("run", "--scenario", "smoke")
    assert again["summary"]["incidents"] == 4 and cli.json("doctor")["ok"] is True


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_solve_keeps_finished_incidents_and_marks_the_one_in_progress(cli: Cli, sig: int) -> None:
    db = cli.cwd / "outputs" / "netops.duckdb"
    cli("lab", "up")
    cli("lab", "inject", "interface_admin_down", "--seed", "1")
    cli("lab", "inject", "bgp_neighbor_shutdown", "--seed", "2")
    _kill(_start_until(cli, ["solve"], "IM-0002"), sig)
    doc = cli.json("doctor")
    assert doc["ok"] is True, doc["problems"]
    if sig == signal.SIGKILL:
        assert doc["settled"] and "1 ticket(s) marked interrupted and escalated" in doc["settled"]
    # IM-0001 finished before the kill: kept whole (ticket, its change and the lab state)
    states = dict(query_db(db, "SELECT incident_id, state FROM tickets"))
    assert states["IM-0001"] == "resolved" and states["IM-0002"] == "escalated"  # handed to a human
    marked = query_db(
        db,
        "SELECT t.incident_id FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id "
        "WHERE e.kind = 'interrupted'",
    )
    assert marked == [("IM-0002",)]
    assert query_db(
        db,
        "SELECT count(*) FROM changes c JOIN tickets t ON t.incident_id = c.incident_id "
        "WHERE t.incident_id = 'IM-0002'",
    ) == [(0,)]  # its work was rolled back
    audit = cli.json("audit", "IM-0002")
    assert any(e["kind"] == "ticket:interrupted" and "rolled back" in e["what"] for e in audit)
    assert cli.json("solve")["incidents"] == []  # a rerun works and does not duplicate it
    assert cli.json("doctor")["ok"] is True
