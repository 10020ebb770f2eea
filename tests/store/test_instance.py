"""One DuckDB instance per process (`store.instance`): every Store is a cursor on a database
attached to it; files are attached once and detached (their OS lock dropped) when the last
store lets go; catalog queries see only the store's own database."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from netops_agent.errors import StoreError
from netops_agent.store import Store
from netops_agent.store.instance import instance
from netops_agent.store.truth import TruthStore

# Another process reads the file: it gets in only while no process holds DuckDB's lock.
_READ = (
    "import duckdb, sys\n"
    "try:\n"
    "    c = duckdb.connect(sys.argv[1], read_only=True)\n"
    "    print(c.execute('SELECT value FROM meta WHERE key = ?', ['k']).fetchone()[0])\n"
    "except duckdb.Error as exc:\n"
    "    print('locked' if 'lock' in str(exc) else str(exc))\n"
)


def _other_process_reads(db: Path) -> str:
    out = subprocess.run([sys.executable, "-c", _READ, str(db)], capture_output=True, text=True, timeout=60)
    return out.stdout.strip() or out.stderr.strip()


def test_stores_share_one_instance_and_a_file_is_attached_once(tmp_path: Path) -> None:
    connects: list[object] = []
    real = duckdb.connect

    def counting(*args: object, **kwargs: object) -> object:
        connects.append(args)
        return real(*args, **kwargs)

    instance()  # this process's instance exists before the stores below
    duckdb.connect = counting  # type: ignore[assignment]
    try:
        db = tmp_path / "one.duckdb"
        a, b = Store(db), Store(db)  # the same file twice in one process
        stage, truth = Store(":memory:", compress=True), TruthStore(tmp_path / "one.truth.duckdb")
        a.set_meta("k", "from a")
        assert b.get_meta("k") == "from a"  # one database, two cursors
        assert a.database() == b.database() != stage.database()
        with a.transaction():  # each store has its own transaction
            a.set_meta("k", "uncommitted")
            assert b.get_meta("k") == "from a"
        for s in (a, b, stage):
            s.close()
        truth.close()
    finally:
        duckdb.connect = real  # type: ignore[assignment]
    assert connects == []  # no instance of their own: ~30 ms each


def test_the_last_store_to_let_go_drops_the_lock_for_other_processes(tmp_path: Path) -> None:
    db = tmp_path / "lock.duckdb"
    a, b = Store(db), Store(db)
    a.set_meta("k", "v1")
    a.release()
    assert _other_process_reads(db) == "locked"  # b still holds the file
    b.release()
    assert _other_process_reads(db) == "v1"  # detached: the OS lock is gone
    a.set_meta("k", "v2")  # attached again on its next statement
    assert _other_process_reads(db) == "locked"
    a.close()
    b.close()
    assert _other_process_reads(db) == "v2"
    assert not instance().alias(str(db))


def test_a_store_collected_unclosed_lets_go_of_its_file_and_memory(tmp_path: Path) -> None:
    db = tmp_path / "leak.duckdb"
    Store(db).set_meta("k", "kept")
    mem = Store(":memory:")
    name = mem.database()
    del mem
    gc.collect()
    assert _other_process_reads(db) == "kept"
    databases = {
        r[0] for r in instance().root.execute("SELECT database_name FROM duckdb_databases()").fetchall()
    }
    assert name not in databases


def test_catalog_queries_see_only_the_store_s_own_database(tmp_path: Path) -> None:
    other = Store(":memory:")
    other.execute("CREATE TABLE only_there (x INTEGER)")
    with Store(tmp_path / "c.duckdb") as store, Store(":memory:") as mem:
        mem.execute("CREATE TABLE only_here (x INTEGER)")
        assert "only_there" not in store.tables() and "only_here" not in store.tables()
        assert "only_here" in mem.tables() and "only_there" not in mem.tables()
        assert mem.columns("only_there") == [] and mem.columns("only_here") == ["x"]
        assert store.columns("only_there") == []
    other.close()


def test_a_read_only_store_shares_a_writer_s_attachment_but_not_the_reverse(tmp_path: Path) -> None:
    db = tmp_path / "ro.duckdb"
    with Store(db) as writer:
        writer.set_meta("k", "w")
        with Store(db, read_only=True) as reader:
            assert reader.get_meta("k") == "w"
    with Store(db, read_only=True) as reader, pytest.raises(StoreError, match="open read-only"):
        Store(db)


def test_a_file_held_by_another_instance_of_the_process_gets_its_own_connection(tmp_path: Path) -> None:
    db = tmp_path / "mine.duckdb"
    Store(db).close()
    own = duckdb.connect(str(db))  # code of its own opened the file: DuckDB refuses it twice
    try:
        with Store(db) as store:
            store.set_meta("k", "through the process's cache")
            assert store._alias is None
        assert own.execute("SELECT value FROM meta WHERE key = 'k'").fetchone() == (
            "through the process's cache",
        )
    finally:
        own.close()


def test_a_forked_child_makes_its_own_instance(tmp_path: Path) -> None:
    db = tmp_path / "fork.duckdb"
    parent = instance()
    with Store(db) as store:
        store.set_meta("k", "parent")
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            with Store(db) as child:
                ok = instance() is not parent and child.get_meta("k") == "parent"
            os.write(w, b"ok" if ok else b"no")
        finally:
            os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    assert os.read(r, 10) == b"ok"
    os.close(r)
    assert instance() is parent


# Holds a database file until a line comes on stdin; says "holding" once it does.
_HOLD = """
import duckdb, sys
c = duckdb.connect(sys.argv[1])
print("holding", flush=True)
input()
"""


def test_a_store_waiting_for_another_process_does_not_hold_up_other_stores(tmp_path: Path) -> None:
    import threading

    db = tmp_path / "busy.duckdb"
    Store(db).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        assert _other_process_reads(db) == "locked"  # the holder has the file
        waiting: list[str] = []
        opened: list[Store] = []
        t = threading.Thread(
            target=lambda: opened.append(Store(db, wait_s=60, on_wait=waiting.append)), daemon=True
        )
        t.start()
        while not waiting and t.is_alive():  # the thread now waits for the other process's lock
            t.join(0.01)
        assert waiting, "the store did not wait for the other process's lock"
        with Store(":memory:") as mem, Store(tmp_path / "other.duckdb") as other:
            assert mem.scalar("SELECT 1") == 1 and other.tables()  # not held up by the waiting one
        assert t.is_alive() and not opened
    finally:
        holder.communicate("\n")
    t.join(60)
    assert opened and opened[0].tables()
    opened[0].close()
