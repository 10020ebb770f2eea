"""Readers while another process holds the database (issue 12).

DuckDB lets one process write a file, or many processes read it. Readers (show-db,
incidents, alerts, audit, approvals, lab status) open it read-only, so they work next
to each other; while a writer holds it they say so in one line and retry.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import duckdb
import pytest

from tests.e2e.conftest import EXE, Cli


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    c = Cli(tmp_path_factory.mktemp("readers"))
    c("run", "--scenario", "smoke", "--json")
    return c


def _db(c: Cli) -> str:
    return str(c.cwd / "outputs" / "netops.duckdb")


@pytest.mark.parametrize(
    "args",
    [
        ["show-db"],
        ["show-db", "--table", "tickets"],
        ["incidents"],
        ["alerts"],
        ["audit", "IM-0001"],
        ["approvals"],
        ["approvals", "--all"],
        ["lab", "status"],
    ],
)
def test_readers_need_no_write_access(ran: Cli, args: list[str]) -> None:
    # A read-only connection held here would make any read-write open fail at once.
    con = duckdb.connect(_db(ran), read_only=True)
    try:
        proc = ran(*args, env={"NETOPS_LOCK_WAIT": "0"}, check=False)
    finally:
        con.close()
    assert proc.returncode == 0, proc.stderr


def test_reader_waits_for_a_writer_then_reads(ran: Cli) -> None:
    con = duckdb.connect(_db(ran))  # a writer, as `run` would be
    proc = subprocess.Popen(
        [EXE, "show-db", "--json"],
        cwd=ran.cwd,
        env=ran.env(NETOPS_LOCK_WAIT="60"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()  # the reader says it waits before we let go
        assert "is busy" in line and "waiting up to 60 s" in line
    finally:
        con.close()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert '"tickets"' in out and "Traceback" not in err


def test_reader_gives_up_in_one_line(ran: Cli) -> None:
    con = duckdb.connect(_db(ran))
    try:
        proc = ran("incidents", env={"NETOPS_LOCK_WAIT": "0.5"}, check=False)
    finally:
        con.close()
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert "is in use by process" in last and "--db PATH" in last


def test_bad_lock_wait_setting(ran: Cli, tmp_path: Path) -> None:
    proc = ran("show-db", env={"NETOPS_LOCK_WAIT": "soon"}, check=False)
    assert proc.returncode == 2 and "NETOPS_LOCK_WAIT" in proc.stderr
