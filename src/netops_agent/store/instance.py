"""One DuckDB instance per process: every `Store`'s database is attached to it.

Opening a DuckDB instance (`duckdb.connect`) costs ~25-45 ms: it builds the catalog of
built-in functions, starts threads and so on; attaching a database to an open instance
costs ~1 ms and a cursor nothing. A `run` used to open five (the file twice, the stage,
the ground-truth file, the file again for the last recovery mark). So a process keeps one
in-memory instance (`instance()`), and:

- each file is attached to it once (`ATTACH 'path' AS fN`), however many stores use it
  (a count of users); detached when the last one lets go (`Store.release`/`close`), which
  checkpoints it and drops DuckDB's OS lock on the file, so other processes get in;
- each in-memory store is a database of its own attached to it (`ATTACH ':memory:' AS mN`,
  compressed when asked), detached (freed) when the store closes;
- each store gets its own cursor (a connection of its own: its own transaction) whose
  default database (`USE`) is its own, so unqualified names resolve there as before.
  Catalog queries must name their database (`current_database()`): the instance's
  catalog lists every attached database.

A file this process already holds through another instance (say code that called
`duckdb.connect(path)` itself) cannot be attached (DuckDB refuses one file twice per
process): such a store gets a connection of its own, as before. A forked child never
uses its parent's instance (the key is the process id).
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb

from netops_agent.errors import StoreError

_CONFLICT = "Unique file handle conflict"


@dataclass
class _File:
    alias: str
    read_only: bool
    users: int = 0


class Instance:
    """This process's DuckDB instance and what is attached to it."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.root = duckdb.connect(":memory:")
        self.lock = threading.RLock()
        self.files: dict[str, _File] = {}
        self._gates: dict[str, threading.Lock] = {}  # one opener per file (see `file`)
        self._names = itertools.count(1)
        self.opened = 0  # databases attached so far (files and memory), for tests

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        with self.lock:  # one connection object: its methods are not safe across threads
            return self.root.cursor()

    def memory(self, compress: bool) -> tuple[duckdb.DuckDBPyConnection, str]:
        """A new in-memory database and a cursor whose default it is."""
        with self.lock:
            alias = f"m{next(self._names)}"
        cur = self._cursor()
        try:
            try:
                cur.execute(f"ATTACH ':memory:' AS {alias}" + (" (COMPRESS)" if compress else ""))
            except duckdb.Error:
                if not compress:
                    raise
                cur.execute(f"ATTACH ':memory:' AS {alias}")  # DuckDB before 1.3: uncompressed
            cur.execute(f"USE {alias}")
        except BaseException:
            cur.close()
            raise
        self.opened += 1
        return cur, alias

    def file(
        self, path: str, read_only: bool, attach: Callable[[Callable[[], Any]], Any]
    ) -> tuple[duckdb.DuckDBPyConnection, str] | None:
        """A cursor on `path` (attached now, or already), or None when another instance of
        this process holds the file (the caller connects on its own). `attach(opener)`
        runs the ATTACH, waiting for another process's lock as the caller likes."""
        key = os.path.realpath(path)
        with self.lock:
            gate = self._gates.setdefault(key, threading.Lock())
        # One opener per file at a time; the instance's lock is not held while this one waits
        # for another process's lock (other files and in-memory stores go on meanwhile).
        with gate:
            with self.lock:
                held = self.files.get(key)
                if held is not None and held.read_only and not read_only:
                    raise StoreError(
                        f"cannot open database {path} for writing: this process has it open read-only"
                    )
                if held is not None:
                    held.users += 1
                    cur = self.root.cursor()
                else:
                    alias = f"f{next(self._names)}"
                    cur = self.root.cursor()
            if held is None:
                mode = " (READ_ONLY)" if read_only else ""
                quoted = path.replace("'", "''")
                try:
                    attach(lambda: cur.execute(f"ATTACH '{quoted}' AS {alias}{mode}").fetchall())
                except BaseException as exc:
                    cur.close()
                    if isinstance(exc, StoreError) and _CONFLICT in str(exc):
                        return None
                    raise
                with self.lock:
                    held = self.files[key] = _File(alias, read_only, users=1)
                    self.opened += 1
        try:
            cur.execute(f"USE {held.alias}")
        except BaseException:
            cur.close()
            self.let_go(path)
            raise
        return cur, held.alias

    def let_go(self, path: str) -> None:
        """One user of `path` is done (its cursor closed): the last one detaches it."""
        key = os.path.realpath(path)
        with self.lock:
            held = self.files.get(key)
            if held is None:
                return
            held.users -= 1
            if held.users > 0:
                return
            del self.files[key]
            self.root.execute(f"DETACH DATABASE IF EXISTS {held.alias}")

    def drop(self, alias: str) -> None:
        """Detach (free) an in-memory database made by `memory`."""
        with self.lock:
            self.root.execute(f"DETACH DATABASE IF EXISTS {alias}")

    def alias(self, path: str) -> str | None:
        """The name `path` is attached under, or None when it is not."""
        with self.lock:
            held = self.files.get(os.path.realpath(path))
            return None if held is None else held.alias

    def name(self, con: Any, path: str) -> None:
        """Make `path`'s database the default of `con` when `con` is a fresh cursor of this
        instance (a cursor of a store's cursor starts on the instance's own empty database)."""
        alias = self.alias(path)
        if alias is None:
            return
        row = con.execute(
            "SELECT current_database(), (SELECT path FROM duckdb_databases() WHERE database_name = ?)",
            [alias],
        ).fetchone()
        if row and row[0] == "memory" and row[1] and os.path.realpath(row[1]) == os.path.realpath(path):
            con.execute(f"USE {alias}")


class Hold:
    """What one store holds of the instance: its cursor (`con`) and the database it names
    (`alias`). Let go of when the store closes, or when it is collected unclosed (a store
    nobody closed must not keep a file locked, or an in-memory database alive, for the rest
    of the process). `con` may also be a connection of the store's own (see `Instance.file`)
    or its caller's (`Store.attach`)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.con: Any = None
        self.alias: str | None = None
        self.hub: Instance | None = None  # where `alias` is attached (None: not attached)
        self.file = False  # counted as a user of the file (`Instance.file`)

    def open(self, read_only: bool, compress: bool, attach: Callable[[Callable[[], Any]], Any]) -> bool:
        """Take a cursor of this process's instance on the database; False when the file is
        held by another instance of this process (the caller connects on its own)."""
        hub = instance()
        if self.path == ":memory:":
            self.con, self.alias = hub.memory(compress)
            self.hub = hub
            return True
        got = hub.file(self.path, read_only, attach)
        if got is None:
            return False
        self.con, self.alias = got
        self.hub, self.file = hub, True
        return True

    def let_go(self) -> None:
        """Close the cursor; the file is detached if no other store uses it."""
        con, self.con = self.con, None
        if con is not None and self._ours():
            con.close()
        if self.file:
            self.file = False
            if self._ours():
                self.hub.let_go(self.path)  # type: ignore[union-attr]

    def close(self) -> None:
        """`let_go`, and free an in-memory database."""
        self.let_go()
        alias, self.alias = self.alias, None
        if alias is not None and self.path == ":memory:" and self._ours():
            self.hub.drop(alias)  # type: ignore[union-attr]

    def _ours(self) -> bool:
        """Not a forked child's copy of its parent's (whose DuckDB threads it lacks)."""
        return self.hub is None or self.hub.pid == os.getpid()


_INSTANCE: list[Instance] = []
_MADE = threading.Lock()


def instance() -> Instance:
    """This process's instance (a forked child makes its own)."""
    if _INSTANCE and _INSTANCE[0].pid == os.getpid():
        return _INSTANCE[0]
    with _MADE:
        if not _INSTANCE or _INSTANCE[0].pid != os.getpid():
            _INSTANCE[:] = [Instance()]
        return _INSTANCE[0]
