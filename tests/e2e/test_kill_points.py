"""Fault injection at named kill points: `run`, `solve`, `resume` and `eval` stopped with
SIGKILL or SIGINT exactly where a crash hurts most, and readers reading meanwhile.

Each command runs with `NETOPS_KILLPOINT=NAME[:N]` (netops_agent.killpoints): when it
reaches that point it says so on stderr and waits; the test signals it then (never after
a fixed sleep). After each stop `netops-agent doctor` must pass and a rerun must work.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import EXE, Cli
from tests.helpers import query_db

HANG_GUARD_S = 240  # only against a hang; no test asserts how long anything takes


class Paused:
    """A netops-agent process started with a kill point, waiting there."""

    def __init__(self, cli: Cli, args: list[str], point: str) -> None:
        self.proc = subprocess.Popen(
            [EXE, *args],
            cwd=cli.cwd,
            env=cli.env(NETOPS_KILLPOINT=point),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.err: list[str] = []
        assert self.proc.stderr is not None
        self._reader = threading.Thread(target=self._read, args=(self.proc.stderr,), daemon=True)
        self._reader.start()
        deadline = time.monotonic() + HANG_GUARD_S
        while not any("at kill point" in line for line in self.err):
            assert self.proc.poll() is None, f"{args[0]} ended before {point}: {''.join(self.err)}"
            assert time.monotonic() < deadline
            time.sleep(0.02)

    def _read(self, stream) -> None:  # type: ignore[no-untyped-def]
        for line in stream:
            self.err.append(line)

    def stop(self, sig: int) -> tuple[int, str, str]:
        self.proc.send_signal(sig)
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()
        code = self.proc.wait(timeout=HANG_GUARD_S)
        self._reader.join(timeout=30)
        err = "".join(self.err)
        if sig == signal.SIGINT:
            assert code == 130 and "Traceback" not in err, err
            assert err.strip().splitlines()[-1].startswith("interrupted:")
        elif sig == signal.SIGKILL:
            assert code == -signal.SIGKILL
        return code, out, err


def _doctor_passes(cli: Cli, *args: str) -> dict:
    doc = cli.json("doctor", *args)
    assert doc["ok"] is True, doc["problems"]
    return doc


RECORDS = (
    "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM alerts), "
    "(SELECT count(*) FROM telemetry), (SELECT count(*) FROM changes), "
    "(SELECT string_agg(state, ',' ORDER BY id) FROM tickets)"
)


# --- run ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("point", "sig"),
    [
        ("opened", signal.SIGKILL),  # inside case 1's intake transaction
        ("incident:3", signal.SIGKILL),  # mid-run, the third incident's unit of record open
        ("commit", signal.SIGKILL),  # inside the final transaction: old records deleted, new not in
        ("commit", signal.SIGINT),
    ],
)
def test_run_stopped_at_a_point_keeps_the_previous_run(
    cli: Cli, finished: Path, point: str, sig: int
) -> None:
    shutil.copytree(finished, cli.cwd / "outputs")
    db = cli.cwd / "outputs" / "netops.duckdb"
    before = query_db(db, RECORDS)
    assert before[0][0] == 4
    _, _, err = Paused(cli, ["run", "--scenario", "smoke", "--seed", "7"], point).stop(sig)
    if sig == signal.SIGINT:
        assert "previous run's records" in err
    assert query_db(db, RECORDS) == before  # the old run, whole: nothing of the new one
    _doctor_passes(cli)
    assert cli.json("run", "--scenario", "smoke")["summary"]["incidents"] == 4
    _doctor_passes(cli)


def test_run_killed_after_its_commit_is_whole(cli: Cli, finished: Path) -> None:
    shutil.copytree(finished, cli.cwd / "outputs")
    db = cli.cwd / "outputs" / "netops.duckdb"
    Paused(cli, ["run", "--scenario", "smoke", "--seed", "7"], "committed").stop(signal.SIGKILL)
    tickets = query_db(db, "SELECT count(*), count(*) FILTER (state IN ('new', 'in_progress')) FROM tickets")
    assert tickets == [(4, 0)]  # the new run, whole
    doc = _doctor_passes(cli)
    assert doc["settled"] and "0 ticket(s)" in doc["settled"]  # only the running mark was left
    assert cli.json("run", "--scenario", "smoke")["summary"]["incidents"] == 4


# --- readers while writers work ----------------------------------------------------------------
def test_readers_read_while_a_run_works(cli: Cli, finished: Path) -> None:
    shutil.copytree(finished, cli.cwd / "outputs")
    db = cli.cwd / "outputs" / "netops.duckdb"
    before = query_db(db, RECORDS)
    # Paused mid-run (inside an incident's unit of record): readers need not wait at all.
    paused = Paused(cli, ["run", "--scenario", "smoke", "--seed", "7", "--json"], "incident:2")
    shown = json.loads(cli("show-db", "--json", env={"NETOPS_LOCK_WAIT": "0"}).stdout)
    assert shown["tickets"] == 4
    listed = json.loads(cli("incidents", "--json", env={"NETOPS_LOCK_WAIT": "0"}).stdout)
    assert [i["id"] for i in listed] == ["IM-0001", "IM-0002", "IM-0003", "IM-0004"]
    assert query_db(db, RECORDS) == before  # the previous run's records until the new ones commit
    code, out, err = paused.stop(signal.SIGUSR1)  # go on
    assert code == 0, err
    assert json.loads(out)["summary"]["incidents"] == 4

    # Not paused: a demo run working, readers from other processes succeed meanwhile
    # (possibly after a short wait they announce), never fail.
    log = cli.cwd / "outputs" / "netops.log"
    start = log.stat().st_size
    proc = subprocess.Popen(
        [EXE, "run", "--json"], cwd=cli.cwd, env=cli.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + HANG_GUARD_S
        while "[IM-0003]" not in log.read_bytes()[start:].decode(errors="replace"):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        for args in (["show-db", "--json"], ["incidents", "--json"], ["approvals", "--json"]):
            r = cli(*args, check=False)
            assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
            assert not r.stderr.strip() or "waiting" in r.stderr  # nothing, or the one-line wait
    finally:
        _, err_b = proc.communicate(timeout=HANG_GUARD_S)
    assert proc.returncode == 0, err_b


def _lab_with_two_faults(cli: Cli) -> None:
    cli("lab", "up")
    cli("lab", "inject", "interface_admin_down", "--seed", "1")
    cli("lab", "inject", "bgp_neighbor_shutdown", "--seed", "2")


def test_readers_get_in_between_solve_incidents(cli: Cli) -> None:
    _lab_with_two_faults(cli)
    paused = Paused(cli, ["solve", "--json"], "released:2")  # IM-0001 done, the file let go
    listed = json.loads(cli("incidents", "--json", env={"NETOPS_LOCK_WAIT": "0"}).stdout)
    assert [i["id"] for i in listed] == ["IM-0001", "IM-0002"]  # both opened with their alerts
    states = dict(query_db(cli.cwd / "outputs" / "netops.duckdb", "SELECT incident_id, state FROM tickets"))
    assert states == {"IM-0001": "resolved", "IM-0002": "new"}  # IM-0001 committed whole
    code, out, err = paused.stop(signal.SIGUSR1)
    assert code == 0, err
    assert [i["outcome"] for i in json.loads(out)["incidents"]] == ["resolved", "resolved"]
    _doctor_passes(cli)


def test_a_second_lab_writer_waits_for_the_first(cli: Cli) -> None:
    _lab_with_two_faults(cli)
    paused = Paused(cli, ["solve", "--json"], "released:2")
    # Readers got in (above); a second writer does not interleave its twin with solve's.
    wait = {"NETOPS_LOCK_WAIT": "0.5"}
    r = cli("lab", "inject", "interface_admin_down", "--seed", "3", env=wait, check=False)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "being changed by `solve`" in r.stderr.strip().splitlines()[-1]
    code, _, err = paused.stop(signal.SIGUSR1)
    assert code == 0, err


# --- solve ------------------------------------------------------------------------------------
def test_solve_killed_while_opening_incidents_records_none_of_them(cli: Cli) -> None:
    db = cli.cwd / "outputs" / "netops.duckdb"
    _lab_with_two_faults(cli)
    Paused(cli, ["solve"], "opened").stop(signal.SIGKILL)
    # Alerts, incident rows and tickets were one transaction: none of it is kept.
    assert query_db(db, "SELECT (SELECT count(*) FROM alerts), (SELECT count(*) FROM incidents), "
                      "(SELECT count(*) FROM tickets)") == [(0, 0, 0)]  # fmt: skip
    _doctor_passes(cli)
    again = cli.json("solve")
    assert [i["id"] for i in again["incidents"]] == ["IM-0001", "IM-0002"]
    _doctor_passes(cli)


# --- resume -----------------------------------------------------------------------------------
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_resume_stopped_mid_approval_keeps_it_for_the_next_resume(cli: Cli, tmp_path: Path, sig: int) -> None:
    db = cli.cwd / "outputs" / "netops.duckdb"
    suite = tmp_path / "s.yaml"
    suite.write_text("name: s\ncases:\n  - id: c\n    seed: 1\n    faults: [{type: bgp_max_prefix}]\n")
    [inc] = cli.json("run", "--scenario", str(suite))["incidents"]
    cli("approve", inc["approval"], "--by", "alice")
    Paused(cli, ["resume"], "resume").stop(sig)
    # The ticket's transition, the `executed` mark and the lab state commit together: none did.
    assert query_db(db, "SELECT state FROM approvals") == [("approved",)]
    assert query_db(db, "SELECT state FROM tickets") == [("awaiting_approval",)]
    _doctor_passes(cli)
    [resumed] = cli.json("resume")
    assert resumed["outcome"] == "resolved"
    assert query_db(db, "SELECT state FROM approvals") == [("executed",)]
    _doctor_passes(cli)


# --- eval -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("point", "sig"),
    [
        ("saving:2", signal.SIGKILL),  # inside the transaction storing the second case
        ("saved:1", signal.SIGINT),  # just after the first case was stored
    ],
)
def test_eval_stopped_at_a_point_keeps_whole_cases(cli: Cli, point: str, sig: int) -> None:
    db = cli.cwd / "e.duckdb"
    _, _, err = Paused(cli, ["eval", "--suite", "smoke", "--jobs", "1", "--db", str(db)], point).stop(sig)
    assert query_db(db, "SELECT count(*) FROM eval_cases") == [(1,)]
    [(run_id, status)] = query_db(db, "SELECT id, status FROM eval_runs")
    assert status == "running"
    if sig == signal.SIGINT:
        assert f"1 of 5 cases of run {run_id} are stored" in err and f"eval --resume {run_id}" in err
    doc = _doctor_passes(cli, "--db", str(db))
    assert [w["check"] for w in doc["warnings"]] == ["eval-unfinished"]
    data = json.loads(cli("eval", "--resume", run_id, "--db", str(db), "--json").stdout)
    assert data["cases"] == 5
    assert query_db(db, "SELECT count(*), count(DISTINCT case_id) FROM eval_cases") == [(5, 5)]
    assert _doctor_passes(cli, "--db", str(db))["warnings"] == []
