"""Ctrl-C during a DuckDB query stays a Ctrl-C; a released store reopens; readers go first."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from netops_agent.errors import StoreError
from netops_agent.store import Store
from netops_agent.store.db import interrupted
from netops_agent.store.writer import holder, let_readers_in, readers_waiting, writer_lock

LONG = "SELECT count(*) FROM range(100000000000) t(x) WHERE x % 7 = 3"


def test_an_interrupted_query_is_a_keyboard_interrupt() -> None:
    # Ctrl-C while DuckDB runs a query: DuckDB takes the signal (when it notices it) and
    # raises an error of its own, an Exception; `except Exception` handlers (the eval's
    # per-case guard) would swallow it. `interrupt()` is the same path, deterministically.
    store = Store(":memory:")
    done = threading.Event()

    def poke() -> None:
        while not done.wait(0.1):
            store.connection.interrupt()

    threading.Thread(target=poke, daemon=True).start()
    try:
        with pytest.raises(KeyboardInterrupt):
            store.scalar(LONG)
    finally:
        done.set()
        store.close()


def test_interrupted_recognises_duckdb_s_own_errors() -> None:
    assert interrupted(RuntimeError("Query interrupted"))
    wrapped = ValueError("outer")
    wrapped.__cause__ = RuntimeError("Query interrupted")
    assert interrupted(wrapped)
    assert not interrupted(RuntimeError("something else")) and not interrupted(None)


def test_a_released_store_reopens_and_lets_others_in(tmp_path: Path) -> None:
    db = tmp_path / "r.duckdb"
    store = Store(db)
    with store.transaction():
        store.execute("CREATE TABLE t (x INTEGER)")
    store.release()
    other = duckdb.connect(str(db))  # another writer gets the file while it is let go
    other.execute("INSERT INTO t VALUES (1)")
    other.close()
    assert store.scalar("SELECT count(*) FROM t") == 1  # reopened on the next statement
    with store.transaction():
        store.release()  # inside a transaction: a no-op
        store.execute("INSERT INTO t VALUES (2)")
    assert store.scalar("SELECT sum(x) FROM t") == 3
    store.close()


def test_writer_lock_names_its_holder_and_refuses_a_second_writer(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    told: list[str] = []
    assert holder(db) is None
    with writer_lock(db, "solve"):
        assert holder(db) == f"`solve` (process {os.getpid()})"
        # flock is per open file: a second lock in this process conflicts like another process
        second = writer_lock(db, "lab inject", wait_s=0.2, on_wait=told.append)
        with pytest.raises(StoreError, match=r"being changed by `solve`"), second:
            pass
    assert told and "waiting up to 0 s" in told[0]
    assert holder(db) is None


def test_a_waiting_reader_goes_first(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    order: list[str] = []
    code = (
        "import sys\nfrom netops_agent.store.writer import reader_waiting\n"
        f"with reader_waiting({str(db)!r}):\n    print('waiting', flush=True)\n    sys.stdin.read()\n"
    )
    with writer_lock(db, "solve"):
        # Record locks are per process: the waiting reader is another process, as in real use.
        reader = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert reader.stdout is not None and reader.stdout.readline().strip() == "waiting"
        writer = threading.Thread(target=lambda: (let_readers_in(db, wait_s=60), order.append("writer")))
        writer.start()
        writer.join(timeout=0.5)  # the writer, about to reopen the file, holds back
        order.append("reader")
        reader.communicate("")  # the reader got in and lets go
        writer.join(timeout=60)
    assert order == ["reader", "writer"]


def test_a_file_attached_to_an_in_memory_store_is_let_go_and_reopened(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    store = Store(db)
    store.set_meta("k", "old")
    stage = Store(":memory:")
    stage.set_meta("k", "new")
    store.release()
    with stage.attached(store, "f") as f, stage.transaction():
        # the file is not open twice in this process: both stores' cursors name the one
        # database of the process's DuckDB instance (attached again after the release)
        assert f == store.database() and store._con is not None
        stage.execute(f"INSERT OR REPLACE INTO {f}.meta SELECT * FROM {stage.database()}.meta")
    assert stage.scalar("SELECT count(*) FROM duckdb_databases() WHERE database_name = 'f'") == 0
    assert store.get_meta("k") == "new"  # its own cursor sees the copy
    # Neither a store in memory nor one inside a transaction can be let go of.
    with pytest.raises(StoreError, match="cannot be attached"), stage.attached(Store(":memory:"), "m"):
        pass
    with (
        store.transaction(),
        pytest.raises(StoreError, match="cannot be attached"),
        stage.attached(store, "f"),
    ):
        pass
    store.close()


def test_attaching_a_file_another_process_writes_waits_for_it(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    store = Store(db, wait_s=30.0)
    store.release()  # as `run` holds it while it works in memory
    holder_code = (
        "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
        " time.sleep(1.0); c.close()"
    )
    proc = subprocess.Popen([sys.executable, "-c", holder_code, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        stage = Store(":memory:")
        with stage.attached(store, "f") as f:
            assert stage.scalar(f"SELECT count(*) FROM {f}.meta") == 0
        assert proc.wait(timeout=30) == 0  # it got there only once the other let go
    finally:
        proc.kill()


def test_a_writer_can_ask_whether_a_reader_waits(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    code = (
        "import sys\nfrom netops_agent.store.writer import reader_waiting\n"
        f"with reader_waiting({str(db)!r}):\n    print('waiting', flush=True)\n    sys.stdin.read()\n"
    )
    assert readers_waiting(db) is False  # no lock file yet
    with writer_lock(db, "eval"):
        assert readers_waiting(db) is False
        reader = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert reader.stdout is not None and reader.stdout.readline().strip() == "waiting"
        assert readers_waiting(db) is True
        reader.communicate("")
        assert readers_waiting(db) is False
