"""Durable evals: each case stored as it finishes; Ctrl-C and kill -9 keep them; --resume finishes.

Signals are sent at a deterministic point, never after a fixed sleep: at a kill point
(`NETOPS_KILLPOINT`, where the command waits to be signalled), or once the database holds
at least N stored cases of the run (polled read-only) where the run is long enough that
it cannot end first.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import duckdb
import pytest

from tests.e2e.conftest import EXE, Cli


def _stored(db: Path) -> int:
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:  # the writer holds it this moment, or it does not exist yet
        return -1
    try:
        return int(con.execute("SELECT count(*) FROM eval_cases").fetchone()[0])
    except duckdb.Error:
        return -1
    finally:
        con.close()


def _start_and_wait(cli: Cli, args: list[str], db: Path, cases: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [EXE, *args, "--db", str(db)],
        cwd=cli.cwd,
        env=cli.env(NETOPS_LOCK_WAIT="60"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 240  # a hang guard, not a timing assertion
    while _stored(db) < cases:
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "no case stored"
        time.sleep(0.1)
    return proc


def _start_paused(cli: Cli, args: list[str], db: Path, point: str) -> tuple[subprocess.Popen[str], list[str]]:
    """The command, waiting at kill point `point` (see netops_agent.killpoints); its stderr
    lines so far, and to come (read on a thread)."""
    proc = subprocess.Popen(
        [EXE, *args, "--db", str(db)],
        cwd=cli.cwd,
        env=cli.env(NETOPS_LOCK_WAIT="60", NETOPS_KILLPOINT=point),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    err: list[str] = []
    assert proc.stderr is not None
    threading.Thread(target=err.extend, args=(proc.stderr,), daemon=True).start()
    deadline = time.monotonic() + 240  # a hang guard, not a timing assertion
    while not any("at kill point" in line for line in err):
        assert proc.poll() is None, "".join(err)
        assert time.monotonic() < deadline, "never reached the kill point"
        time.sleep(0.02)
    return proc, err


def _children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry))
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_ctrl_c_keeps_finished_cases_and_resume_completes_the_run(cli: Cli) -> None:
    db = cli.cwd / "e.duckdb"
    # Twelve quick cases in a pool: the parent lets go of its file within ~0.25 s of a
    # save, so the first stored case is seen while several remain (the smoke suite's five
    # could all be done before a reader got in), and it waits on its workers in Python,
    # where Ctrl-C arrives as KeyboardInterrupt.
    kinds = ["interface_admin_down", "bgp_neighbor_shutdown", "high_cpu_process", None]
    cases = [
        {"id": f"c{n:02d}", "seed": n, "faults": [{"type": kinds[n % 4]}] if kinds[n % 4] else []}
        for n in range(12)
    ]
    suite = cli.cwd / "twelve.yaml"
    suite.write_text(
        json.dumps(
            {"name": "twelve", "version": 1, "topology": {"profile": "small", "seed": 42}, "cases": cases}
        )
    )
    ids = [c["id"] for c in cases]
    # Paused just after the first case is stored, the pool's workers alive (a run this
    # quick could otherwise end between a poll that saw the case and the signal).
    proc, lines = _start_paused(cli, ["eval", "--suite", str(suite), "--jobs", "2"], db, "saved:1")
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=180)
    deadline = time.monotonic() + 30
    while not (lines and lines[-1].startswith("interrupted:")) and time.monotonic() < deadline:
        time.sleep(0.02)  # the reader thread takes the last lines
    err = "".join(lines)
    assert proc.returncode == 130
    line = err.strip().splitlines()[-1]
    assert line.startswith("interrupted:") and "cases of run" in line and "Traceback" not in err
    run_id = line.split("eval --resume ")[1].rstrip("`")
    kept = int(line.split("interrupted: ")[1].split(" of ")[0])
    assert 1 <= kept < len(ids)
    doc = cli.json("doctor", "--db", str(db))
    assert doc["ok"] is True and [w["check"] for w in doc["warnings"]] == ["eval-unfinished"]

    data = json.loads(cli("eval", "--resume", run_id, "--db", str(db), "--json").stdout)
    assert data["cases"] == len(ids) and [c["id"] for c in data["per_case"]] == ids
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT position, case_id FROM eval_cases WHERE run_id = ? ORDER BY 1", [run_id])
    assert [r[0] for r in rows.fetchall()] == list(range(len(ids)))  # no case twice
    assert con.execute("SELECT status FROM eval_runs WHERE id = ?", [run_id]).fetchone() == ("complete",)
    con.close()
    assert cli.json("doctor", "--db", str(db))["warnings"] == []
    again = cli("eval", "--resume", run_id, "--db", str(db), check=False)
    assert again.returncode == 2 and "already complete" in again.stderr


def test_ctrl_c_with_jobs_stops_the_workers(cli: Cli) -> None:
    db = cli.cwd / "j.duckdb"
    proc = _start_and_wait(cli, ["eval", "--suite", "catalog", "--jobs", "2"], db, cases=1)
    workers = _children(proc.pid)
    assert workers, "expected worker processes"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 130 and "eval --resume" in err and "Traceback" not in err
    deadline = time.monotonic() + 20  # a hang guard while the OS reaps them, not a timing assertion
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)  # cases in flight were stopped, not awaited


def test_kill_9_keeps_finished_cases(cli: Cli) -> None:
    db = cli.cwd / "k.duckdb"
    # one process: SIGKILL cannot be passed on, so worker processes would outlive it
    proc = _start_and_wait(cli, ["eval", "--suite", "smoke", "--jobs", "1"], db, cases=1)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=180)
    con = duckdb.connect(str(db), read_only=True)
    run_id, status = con.execute("SELECT id, status FROM eval_runs").fetchone()
    con.close()
    assert status == "running"
    assert cli.json("doctor", "--db", str(db))["ok"] is True
    data = json.loads(cli("eval", "--resume", run_id, "--db", str(db), "--json").stdout)
    assert data["cases"] == 5


@pytest.mark.parametrize("bad", [["--resume", "nope"], ["--resume", "x", "--suite", "smoke"], []])
def test_resume_and_suite_errors(cli: Cli, bad: list[str]) -> None:
    proc = cli("eval", *bad, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
