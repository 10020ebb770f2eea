"""Issue 13: the `netops-agent` command leaves the process without the interpreter's
teardown once a command succeeded, after its output is flushed and its atexit handlers
(logging, weakref finalizers) ran; anything else exits the usual way."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb

from netops_agent.store import Store

# Registers an atexit handler and keeps an object whose __del__ only runs when the
# interpreter tears its modules down; optionally leaves a non-daemon thread running.
PROBE = """
import atexit, sys, threading
class Teardown:
    def __del__(self, write=sys.stderr.write):  # module globals are gone by then
        write("teardown\\n")
keep = Teardown()
atexit.register(lambda: sys.stderr.write("atexit\\n"))
if sys.argv[1] == "thread":
    stop = threading.Event()
    threading.Thread(target=stop.wait, args=(2,)).start()
sys.argv = ["netops-agent", *sys.argv[2:]]
from netops_agent.cli.app import entry
entry()
"""


def _run(mode: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE, mode, *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_a_command_that_succeeded_ends_without_the_teardown_and_loses_nothing(tmp_path: Path) -> None:
    out = _run("plain", "run", "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)  # the whole document was flushed
    assert "atexit" in out.stderr.splitlines()  # the handlers ran (logging's among them)
    assert "teardown" not in out.stderr  # ... and the interpreter was not torn down
    log = (tmp_path / "outputs" / "netops.log").read_text().splitlines()
    assert "netops_agent.pipeline case" in log[-1]  # the run's last log line is in the file
    with duckdb.connect(str(tmp_path / "outputs" / "netops.duckdb"), read_only=True) as con:
        stored = con.execute("SELECT count(*) FROM incidents").fetchone()
    assert stored == (report["summary"]["incidents"],)


def test_a_running_thread_or_a_failed_command_exits_the_usual_way(tmp_path: Path) -> None:
    Store(tmp_path / "outputs" / "netops.duckdb").close()
    busy = _run("thread", "show-db", "--json", cwd=tmp_path)
    assert busy.returncode == 0, busy.stderr
    assert "teardown" in busy.stderr  # Python waited for the thread, then tore down
    failed = _run("plain", "show-db", "--table", "nope", cwd=tmp_path)
    assert failed.returncode != 0
    assert "nope" in failed.stderr and "teardown" in failed.stderr
