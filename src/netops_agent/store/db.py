"""`Store`: one DuckDB file, migrated on open, bulk writes through Arrow.

Every other package reaches the database through this class, so the schema, the
transaction rules and the error messages live in one place.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import sys
import time
import weakref
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import duckdb

if TYPE_CHECKING:  # only in annotations: `show-db` and other readers never load pyarrow/numpy
    import pyarrow as pa

from netops_agent.errors import StoreError
from netops_agent.store.instance import Hold
from netops_agent.store.migrations import MIGRATIONS, RUN_TABLES
from netops_agent.store.writer import let_readers_in, reader_waiting


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


# Views that are appended to: where their rows (and `ts`) are stored.
_STORED_AS = {"telemetry": "telemetry_samples"}
LOCK_WAIT_S = 30.0  # how long a command waits for another process's write lock by default
_LOCK_MARKER = "Could not set lock"


class Store:
    """A migrated DuckDB database. Use as a context manager or call `close()`.

    `read_only` opens without write access (readers: show-db, incidents, audit, ...).
    `force` accepts a file that holds other tables and no netops-agent schema.
    `wait_s` is how long to wait when another process holds DuckDB's write lock (DuckDB
    allows one writer process); `on_wait` is called once with a one-line message when
    waiting starts. `compress` keeps an in-memory database's tables compressed (less
    memory, a little more CPU), as a file's always are.
    """

    _scan: Any = None  # what the running statement reads as `_SCAN` (see `_scanning`)

    def __init__(
        self,
        path: Path | str = ":memory:",
        *,
        read_only: bool = False,
        force: bool = False,
        wait_s: float = 0.0,
        on_wait: Callable[[str], None] | None = None,
        compress: bool = False,
    ) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            p = Path(self.path)
            if p.is_dir():
                raise StoreError(
                    f"database {p} is a directory; pass --db PATH to a file such as {p}/netops.duckdb"
                )
            if read_only and not p.exists():
                raise StoreError(
                    f"database {p} does not exist yet; run `netops-agent run` first "
                    "(or pass --db PATH to point at another file)"
                )
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the directory for database {p}: {exc.strerror}") from exc
        self._read_only, self._wait_s, self._on_wait = read_only, wait_s, on_wait
        self._leased = False
        self._hold = Hold(self.path)
        weakref.finalize(self, self._hold.close)  # a store collected unclosed lets go
        self._con = self._open(read_only, on_wait, compress)
        self._depth = 0
        self._behind = _Behind()
        self._columns: dict[str, list[str]] | None = None  # see `columns`
        try:
            self._check_ours(read_only, force)
            if read_only and self._pending():
                self.close()  # an older schema: migrate once, then read
                self._con = self._open(False, on_wait)
                self.migrate()
                self.close()
                self._con = self._open(True, on_wait)
            elif not read_only:
                self.migrate()
        except BaseException:
            self.close()
            raise
        self._migrated = not read_only

    def _check_ours(self, read_only: bool, force: bool) -> None:
        """Refuse a DuckDB file that another application made, unless forced."""
        if self.path == ":memory:":
            return
        tables = self.tables()
        if not tables or "schema_migrations" in tables or force:
            return
        shown = ", ".join(tables[:4]) + (", ..." if len(tables) > 4 else "")
        if read_only:
            raise StoreError(
                f"database {self.path} was not made by netops-agent (it holds {shown}); "
                "pass --db PATH to a netops-agent database"
            )
        raise StoreError(
            f"database {self.path} holds other tables ({shown}) and no netops-agent schema; "
            "pass --db PATH to a new file, or --force to add netops-agent's tables to it"
        )

    def _open(
        self, read_only: bool, on_wait: Callable[[str], None] | None, compress: bool = False
    ) -> duckdb.DuckDBPyConnection:
        """A cursor of this process's DuckDB instance (`store.instance`) whose default
        database is this store's: a new in-memory one, or the file, attached (once per
        process) if it is not yet; waits for another process's lock as `_connect` does.
        A file another instance of this process holds gets a connection of its own."""
        attach = lambda opener: _connect(self.path, read_only, self._wait_s, on_wait, opener)  # noqa: E731
        if self._hold.open(read_only, compress, attach):
            return self._hold.con
        return _connect(self.path, read_only, self._wait_s, on_wait)

    # Its cursor (or connection) and its database's name in the process's instance (None:
    # not a database of the instance), both held by `_hold`.
    @property
    def _con(self) -> duckdb.DuckDBPyConnection | None:
        return self._hold.con

    @_con.setter
    def _con(self, con: duckdb.DuckDBPyConnection | None) -> None:
        self._hold.con = con

    @property
    def _alias(self) -> str | None:
        return self._hold.alias

    def _let_go(self) -> None:
        """Close this store's cursor; the file is detached when no other store uses it."""
        self._hold.let_go()

    def _pending(self) -> bool:
        if "schema_migrations" not in self.tables():
            return bool(self.tables())
        done = {r["version"] for r in self.query("SELECT version FROM schema_migrations")}
        return any(v not in done for v, _, _ in MIGRATIONS)

    @classmethod
    def attach(cls, con: duckdb.DuckDBPyConnection, path: str) -> Store:
        """A Store over an open connection (say a cursor of a long-lived one); no migration.

        Closing it closes only that connection or cursor."""
        store = cls.__new__(cls)
        store.path = path
        store._hold = Hold(path)
        if con is not None and path != ":memory:":
            from netops_agent.store.instance import instance

            instance().name(con, path)  # a cursor of a store's cursor: name the file's database
        store._con = con
        store._depth = 0
        store._read_only, store._wait_s, store._on_wait = False, 0.0, None
        store._leased = True  # the caller owns the file's connection: `release()` keeps it
        store._migrated = False
        store._behind = _Behind()
        store._columns = None
        return store

    @classmethod
    def reopen(cls, path: Path | str, *, read_only: bool = True) -> Store:
        """Open a file this process has already opened as a Store (so its schema is ours and
        migrated): the connection alone, without those checks. For a reader that lets go of
        the file between bursts of requests (`serve`) and opens it again often."""
        store = cls.attach(None, str(path))  # type: ignore[arg-type]
        store._read_only = read_only
        weakref.finalize(store, store._hold.close)
        store._con = store._open(read_only, None)
        return store

    @classmethod
    def like(cls, other: Store, *, compress: bool = False, keyed: bool = True) -> Store:
        """A new in-memory store with `other`'s schema (a migrated file store, say a run's
        stage), made by copying its catalog (`COPY FROM DATABASE ... (SCHEMA)`: tables,
        views, sequences and indexes, ~3 ms) and its `schema_migrations` rows instead of
        running every migration (~35 ms). Its tables are empty; its sequences start where
        `other`'s stand (it may still be moved on). A store outside this process's DuckDB
        instance gives a migrated `Store(":memory:")`.

        Not `keyed`: its tables have no primary keys or unique constraints (see `_unkey`),
        for a scratch store whose rows meet `other`'s keys when they are copied there."""
        if not other.persistent or other.leased or other._depth:
            return cls._made(cls(":memory:", compress=compress), keyed)
        other._live()
        if other._alias is None:
            return cls._made(cls(":memory:", compress=compress), keyed)
        store = cls.attach(None, ":memory:")  # type: ignore[arg-type]
        store._leased = False
        weakref.finalize(store, store._hold.close)
        store._con = store._open(False, None, compress)
        try:
            with store.attached(other, "source") as there:
                here = store.database()
                store.execute(f'COPY FROM DATABASE "{there}" TO "{here}" (SCHEMA)')
                store.execute(f'INSERT INTO schema_migrations SELECT * FROM "{there}".schema_migrations')
        except BaseException:
            store.close()
            raise
        store._migrated = True  # `other`'s migrated schema, copied
        return cls._made(store, keyed)

    @classmethod
    def _made(cls, store: Store, keyed: bool) -> Store:
        if not keyed:
            try:
                store._unkey()
            except BaseException:
                store.close()
                raise
        return store

    # Keys an unkeyed store keeps: `set_meta` upserts by meta's; schema_migrations holds
    # its rows already (every other table is empty when `_unkey` rebuilds it).
    _KEPT_KEYS = frozenset({"meta", "schema_migrations"})

    def _unkey(self) -> None:
        """Rebuild this new store's tables (empty, but `_KEPT_KEYS`) without primary keys
        or unique constraints: the same columns, types, defaults and NOT NULLs.

        DuckDB keeps each key in an ART index whose node buffers take ~1.3 MiB however
        few rows it holds: ~12 MiB of a run's stage. The stage's rows meet the file's own
        keys when `publish` copies them there, inside its one transaction, so a duplicate
        still fails the run and leaves the file as it was."""
        here = self.database()
        keyed = [
            r["table_name"]
            for r in self.query(
                "SELECT DISTINCT table_name FROM duckdb_constraints() WHERE database_name = ? "
                "AND constraint_type IN ('PRIMARY KEY', 'UNIQUE') ORDER BY table_name",
                [here],
            )
            if r["table_name"] not in self._KEPT_KEYS
        ]
        if not keyed:
            return
        columns: dict[str, list[str]] = {t: [] for t in keyed}
        for r in self.query(
            "SELECT table_name, column_name, data_type, column_default, is_nullable FROM duckdb_columns() "
            "WHERE database_name = ? ORDER BY table_name, column_index",
            [here],
        ):
            if r["table_name"] in columns:
                name = r["column_name"].replace('"', '""')
                default = f" DEFAULT {r['column_default']}" if r["column_default"] is not None else ""
                null = "" if r["is_nullable"] else " NOT NULL"
                columns[r["table_name"]].append(f'"{name}" {r["data_type"]}{default}{null}')
        ddl = (f'DROP TABLE "{t}"; CREATE TABLE "{t}" ({", ".join(cols)});' for t, cols in columns.items())
        self.execute("".join(ddl))  # one call for all of them
        self._columns = None

    @property
    def migrated(self) -> bool:
        """Did this store migrate its database when it opened it (a writable store made by
        the constructor)? Then every table of the schema is there (`meta`, say)."""
        return self._migrated

    @property
    def persistent(self) -> bool:
        """Does what is committed here outlive the process (a file, not `:memory:`)?"""
        return self.path != ":memory:"

    @property
    def leased(self) -> bool:
        """Does the caller own this store's connection (`attach`)? Then it is never let go."""
        return self._leased

    @property
    def private(self) -> bool:
        """Is this store's database reachable only through it (an in-memory database it
        opened itself)? Then nothing changes its tables behind its back, and what it
        remembers (`remember`) may outlive a transaction."""
        return self.path == ":memory:" and not self._leased

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The raw connection. What is held back (`append_rows`) is written first and what
        is remembered is forgotten: the caller may read or write anything through it."""
        self._touch(None)
        self._columns = None  # it may change the schema too
        return self._live()

    def _live(self) -> duckdb.DuckDBPyConnection:
        """The open connection; after `release()`, the file is opened again (waiting as on open)."""
        if self._con is None:
            if not self._read_only:
                let_readers_in(self.path)  # readers that waited while we worked go first
            self._behind.forget_all()  # another process may have written meanwhile
            self._con = self._open(self._read_only, None)  # silently
        return self._con

    def release(self) -> None:
        """Let go of the file between units of work, so other processes get a turn.

        DuckDB lets one process hold a file for writing (or many for reading); a long
        command that calls this between its short transactions keeps readers out only
        for a moment. The next statement opens the file again, waiting quietly while
        a reader holds it (waiting readers go first, see `store.writer`). Nothing
        happens inside a transaction, in memory, or on a store made by `attach` (its
        caller owns the connection).
        """
        if self._con is None or self._depth or self.path == ":memory:" or self._leased:
            return
        self._behind.forget_all()
        self._let_go()

    @contextmanager
    def attached(self, other: Store, alias: str) -> Iterator[str]:
        """`other`'s file as a database this store's connection can name (the name is
        yielded), so a copy between them runs inside DuckDB (no rows through Python or
        Arrow). Both are databases of this process's DuckDB instance (`store.instance`):
        `other`'s file is there already, or attached again if it was let go (waiting for
        another process's lock as opening does). What is written to it meanwhile is not
        `other`'s doing: it forgets what it remembered. (A store outside the instance lets
        go of the file, which is attached to this connection as `alias` meanwhile.)"""
        if not other.persistent or other.leased or other._depth or self._depth:
            raise StoreError(
                f"database {other.path} cannot be attached: it is not a file this store may let go of"
            )
        if self._alias is not None:
            other._live()
            if other._alias is not None:
                other._behind.forget_all()
                other._columns = None
                try:
                    yield other._alias
                finally:
                    other._behind.forget_all()
                    other._columns = None
                return
        other.release()
        if not other._read_only:
            let_readers_in(other.path)
        con = self._live()
        mode = " (READ_ONLY)" if other._read_only else ""
        quoted = other.path.replace("'", "''")
        _connect(
            other.path,
            other._read_only,
            other._wait_s,
            None,
            lambda: con.execute(f"ATTACH '{quoted}' AS \"{alias}\"{mode}").fetchall(),
        )
        try:
            yield alias
        finally:
            self.execute(f'DETACH "{alias}"')

    def database(self) -> str:
        """The name of this connection's own database (`memory` for an in-memory one)."""
        return str(self.scalar("SELECT current_database()"))

    # --- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._columns = None
        self._behind.discard()
        self._behind.forget_all()
        self._hold.close()

    def migrate(self) -> list[int]:
        """Apply pending migrations, all in one transaction; return the versions applied now.

        A migration that fails (say a foreign file already has a `meta` table) leaves the
        file exactly as it was: not even `schema_migrations` is created.
        """
        applied: list[int] = []
        rows: list[dict[str, Any]] = []
        with self.transaction():
            self.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)"
            )
            done = {r["version"] for r in self.query("SELECT version FROM schema_migrations")}
            for version, name, sql in MIGRATIONS:
                if version in done:
                    continue
                try:
                    self._live().execute(sql)
                except (duckdb.Error, RuntimeError) as exc:
                    _raise_interrupt(exc)
                    if not isinstance(exc, duckdb.Error):
                        raise
                    problem = str(exc).splitlines()[0]
                    raise StoreError(
                        f"cannot add netops-agent's tables to database {self.path} ({problem}); "
                        "pass --db PATH to a new file"
                    ) from exc
                self._columns = None
                applied.append(version)
                rows.append({"version": version, "name": name, "applied_at": utcnow()})
            self.append_rows("schema_migrations", rows)  # one statement, before the commit
        return applied

    def schema_version(self) -> int:
        return int(self.scalar("SELECT max(version) FROM schema_migrations") or 0)

    # --- transactions -----------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Group writes: all commit together or none do. Nested use joins the outer one.

        What was held back inside it (`append_rows`, `behind`) is written just before the
        commit, so it commits with the rest or not at all; a rollback drops it unwritten,
        with everything remembered (`remember`). On a `private` store, rows held back by
        `append_rows` may outlive the commit, still held (see `append_rows`)."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self.execute("BEGIN TRANSACTION")
        self._depth = 1
        committed = False
        try:
            yield self
            self._behind.flush_all(self, keep_lasting=self.private)
        except BaseException:
            self._behind.rolled_back()
            self._behind.forget_all()
            self.execute("ROLLBACK")
            raise
        else:
            try:
                self.execute("COMMIT")
                committed = True
                self._behind.committed()
            finally:
                if not committed:
                    self._behind.rolled_back()
                if not committed or not self.private:
                    self._behind.forget_all()
        finally:
            self._depth = 0

    # --- held-back writes and remembered reads ------------------------------------------------
    def behind(self, key: Hashable, make: Callable[[], _Buffer]) -> _Buffer | None:
        """The write-behind buffer `key` of the open transaction, made with `make()` on first
        use; None outside a transaction (the caller writes at once).

        A buffer holds writes back and writes them (`flush(store)`) once: just before the
        transaction commits, or before any statement that names one of its `tables` (so
        every read, in this transaction, sees them; other connections never see
        uncommitted writes anyway). A rollback drops it unwritten."""
        if not self._depth:
            return None
        return self._behind.buffer(key, make)

    def append_rows(self, table: str, rows: Sequence[dict[str, Any]], *, log: bool = False) -> None:
        """Insert records (audit rows, ticket events); JSON-encodes dicts and lists.

        Inside a transaction they are held back and written together, one INSERT per table
        (see `behind`): a transaction that records 20 tool calls writes them with one
        statement, in the order given. Outside one, they are written now.

        `log`: the rows are entries of an append-only log (audit rows, ticket events) whose
        ids come from a sequence and whose values come from code, not input (a write that
        failed would fail a later transaction). On a `private` store (an in-memory database
        only this store reaches: a staged run) such rows also outlive their commit: they are
        written, with the rows of later transactions, before the first statement that names
        their table, at `flush()`, or when `connection` is taken; a run's 15 incidents write
        their tool calls with one statement. Nothing can tell the difference: only this store
        reads the database, a rollback keeps the rows its transaction did not add (even if
        it wrote them), and a crash loses the whole database either way. Their ids (sequence
        defaults) are handed out when they are written, in the same order (after such a
        rollback, with a gap: DuckDB's sequences are not transactional). A statement that
        reads a table without naming it, say `duckdb_sequences()`, needs `flush()` first."""
        if not rows:
            return
        lasting = log and self.private
        held = self.behind(("rows", table), lambda: _Rows(table, lasting))
        if held is None:
            _insert_rows(self, table, rows)  # names the table: rows still held go first
        else:
            held.lasting = held.lasting and lasting  # type: ignore[attr-defined]
            held.rows.extend(rows)  # type: ignore[attr-defined]

    def flush(self) -> None:
        """Write everything held back now (inside a transaction, as part of it)."""
        self._behind.flush_all(self)

    def remember(self, key: Hashable, value: Any, *, tables: Iterable[str]) -> None:
        """Keep `value` (something read from or written to `tables`) until a statement names
        one of `tables`, a transaction rolls back, or the file is let go; on a store that
        is not `private`, at most until the end of the transaction (another process or
        connection may write the file between two)."""
        if self._depth or self.private:
            self._behind.remember(key, value, tuple(tables))

    def recall(self, key: Hashable, default: Any = None) -> Any:
        """What `remember` kept under `key`, or `default`."""
        return self._behind.recall(key, default)

    def _touch(self, sql: str | None) -> None:
        """Before a statement: write what is held back for the tables it names (or for
        every table when `sql` is None) and forget what was remembered of them."""
        if self._behind.watched:
            self._behind.touch(self, sql)

    # --- reads ----------------------------------------------------------------------------
    SCAN = "_netops_arrow_scan"  # what a statement calls `query`'s `scan` (see `_scanning`)

    def query(
        self, sql: str, params: Sequence[Any] | None = None, *, scan: pa.Table | None = None
    ) -> list[dict[str, Any]]:
        """Rows as dicts. `scan`: an Arrow table the statement reads as `Store.SCAN` (cheaper
        than `register` and `unregister` around it: no view is made)."""
        cols, rows = self._fetch(sql, params) if scan is None else self._scanning(scan, sql, params)
        return [dict(zip(cols, row, strict=True)) for row in rows]

    def query_one(self, sql: str, params: Sequence[Any] | None = None) -> dict[str, Any] | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        rows = self._fetch(sql, params)[1]
        return rows[0][0] if rows else None

    def arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        return self._relation(sql, params, "to_arrow_table", "arrow")

    def batches(self, sql: str, params: Sequence[Any] | None = None) -> pa.RecordBatchReader:
        """Rows of a query as a stream of Arrow record batches (for copying big tables)."""
        return self._relation(sql, params, "to_arrow_reader", "fetch_arrow_reader")

    def _relation(self, sql: str, params: Sequence[Any] | None, method: str, older: str) -> Any:
        """Run a query as a relation and fetch it with `method` (`older`: its name before
        DuckDB 1.4), with the store's error and Ctrl-C handling."""
        self._touch(sql)
        if self._columns is not None and _SCHEMA_CHANGE.match(sql):
            self._columns = None
        try:
            rel = self._live().sql(sql, params=params)
            return getattr(rel, method if hasattr(rel, method) else older)()
        except (duckdb.Error, RuntimeError) as exc:
            _raise_interrupt(exc)
            raise StoreError(f"database {self.path}: {exc}") from exc

    def tables(self) -> list[str]:
        return [
            r["table_name"]
            for r in self.query(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_catalog = current_database() AND table_schema = 'main' ORDER BY table_name"
            )
        ]

    def columns(self, table: str) -> list[str]:
        """A table's column names, in order, in this connection's own database ([] for no
        such table). A `private` store reads every table's columns with one query and keeps
        them until a statement that may change the schema (CREATE, ALTER, DROP, ...: see
        `_SCHEMA_CHANGE`), a migration, or raw use of `connection`; nothing else can change
        its schema. Other stores read them each time (another process may migrate the file)."""
        if not self.private:
            return self._read_columns(table).get(table, [])
        if self._columns is None:
            self._columns = self._read_columns(None)
        return list(self._columns.get(table, []))

    def _read_columns(self, table: str | None) -> dict[str, list[str]]:
        sql = (
            "SELECT table_name, list(column_name ORDER BY column_index) FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name = 'main'"
        )
        if table is None:
            rows = self._fetch(sql + " GROUP BY table_name")[1]
        else:
            rows = self._fetch(sql + " AND table_name = ? GROUP BY table_name", [table])[1]
        return {name: list(cols) for name, cols in rows}

    def table_counts(self) -> dict[str, int]:
        return {t: int(self.scalar(f'SELECT count(*) FROM "{t}"')) for t in self.tables()}

    def require_table(self, name: str) -> str:
        known = self.tables()
        if name not in known:
            raise StoreError(f"no table {name!r} in {self.path}; tables are: {', '.join(known)}")
        return name

    # --- writes ---------------------------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self._fetch(sql, params)

    def insert(self, table: str, row: dict[str, Any]) -> None:
        """Insert one record now (tickets, audit rows); JSON-encodes dicts and lists."""
        _insert_rows(self, table, [row])

    def insert_rows(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        """Insert records now, in order, one statement for each run of rows with the same
        columns; JSON-encodes dicts and lists (as `insert`)."""
        _insert_rows(self, table, rows)

    def append_arrow(self, table: str, data: pa.Table, *, after: datetime | None = None) -> int:
        """Bulk-append an Arrow table whose column names match the target table's; with
        `after`, only rows whose `ts` is later. Returns the number of rows appended.

        `telemetry` is a view over series and samples: its rows are appended through
        `store.telemetry.append_telemetry`, with the same long-format columns."""
        if data.num_rows == 0:
            return 0
        if table == "telemetry":
            from netops_agent.store.telemetry import append_telemetry

            return append_telemetry(self, data, after=after)
        cols = ", ".join(f'"{c}"' for c in data.column_names)
        sql = f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM {_SCAN}'
        if after is not None:
            _, rows = self._scanning(data, sql + " WHERE ts > ?", [after])
        else:
            _, rows = self._scanning(data, sql)
        return int(rows[0][0]) if rows else data.num_rows

    def append_batches(self, table: str, reader: pa.RecordBatchReader) -> int:
        """Append a stream of record batches (see `batches`) without holding them all at once."""
        cols = ", ".join(f'"{c}"' for c in reader.schema.names)
        _, rows = self._scanning(reader, f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM {_SCAN}')
        return int(rows[0][0]) if rows else 0

    def append_newer(self, table: str, read: Callable[[datetime | None], pa.Table]) -> int:
        """Append what `read(since)` returns for `since` = the latest `ts` in `table` (None
        when empty), keeping only rows strictly later: a feed read twice is stored once."""
        stored = _STORED_AS.get(table, table)
        key = ("max(ts)", stored)
        last = self.recall(key, _UNKNOWN)
        if last is _UNKNOWN:
            last = self.scalar(f'SELECT max(ts) FROM "{stored}"')
            if isinstance(last, datetime) and last.tzinfo is not None:
                last = last.astimezone(timezone.utc).replace(tzinfo=None)
        data = read(last)
        n = self.append_arrow(table, data, after=last)  # the filter runs in DuckDB
        newest = _latest(data, last)
        if newest is not _UNKNOWN:  # the next call needs no query (see `remember`)
            self.remember(key, newest, tables=(stored,))
        return n

    def register(self, name: str, data: pa.Table) -> None:
        """Expose an Arrow table to SQL under `name` until `unregister` (each costs about a
        millisecond: for one statement, `query(..., scan=data)` is cheaper)."""
        self._live().register(name, data)

    def unregister(self, name: str) -> None:
        self._live().unregister(name)

    def replace_table(self, table: str, data: pa.Table) -> int:
        """Replace a table's contents in one transaction."""
        with self.transaction():
            self.execute(f'DELETE FROM "{table}"')
            return self.append_arrow(table, data)

    def reset_run(self) -> None:
        """Start a fresh lab: clear every run-scoped table in one transaction."""
        self.clear(RUN_TABLES)

    def clear(self, tables: Sequence[str], *, database: str | None = None) -> None:
        """Delete every row of `tables` (of the attached `database`, say), in one transaction.
        One query finds those that hold rows; only they get a DELETE (a fresh database holds
        none). Tables of this store's own database are then known to be empty:
        `append_newer` needs no query for their latest `ts`."""
        prefix = f'"{database}".' if database else ""
        with self.transaction():
            # One row per table that holds any (a UNION ALL of one-row probes: DuckDB plans
            # a row of EXISTS subqueries as a join, ~2x the CPU for 21 tables).
            probe = " UNION ALL ".join(
                f'SELECT {n} AS n FROM (SELECT 1 FROM {prefix}"{t}" LIMIT 1)' for n, t in enumerate(tables)
            )
            held = {tables[row[0]] for row in self._fetch(probe)[1]} if tables else set()
            for t in tables:
                if t in held:
                    self.execute(f'DELETE FROM {prefix}"{t}"')
                if database is None:
                    self.remember(("max(ts)", t), None, tables=(t,))  # empty: nothing appended yet

    def get_meta(self, key: str) -> str | None:
        return self.scalar("SELECT value FROM meta WHERE key = ?", [key])

    def set_meta(self, key: str, value: str) -> None:
        self.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])

    def _scanning(
        self, data: Any, sql: str, params: Sequence[Any] | None = None
    ) -> tuple[list[str], list[tuple]]:
        """`_fetch` for a statement that reads `data` (an Arrow table or record batch reader)
        as `_SCAN`: DuckDB finds it as a variable of `_fetch`'s frame (a replacement scan),
        so no view is registered and dropped for it (that pair cost ~1 ms a statement)."""
        self._scan = data
        try:
            return self._fetch(sql, params)
        finally:
            self._scan = None

    def _fetch(self, sql: str, params: Sequence[Any] | None = None) -> tuple[list[str], list[tuple]]:
        """Run one statement and fetch its rows (column names, rows)."""
        _netops_arrow_scan = self._scan  # read by DuckDB by this name (see `_scanning`)
        self._touch(sql)
        if self._columns is not None and _SCHEMA_CHANGE.match(sql):
            self._columns = None
        try:
            con = self._live()
            cur = con.execute(sql, params) if params is not None else con.execute(sql)
            return [d[0] for d in cur.description or []], cur.fetchall()
        except (duckdb.Error, RuntimeError) as exc:
            _raise_interrupt(exc)
            if not isinstance(exc, duckdb.Error):
                raise
            first = " ".join(sql.split())[:120]
            problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise StoreError(f"database {self.path}: {problem} (in: {first})") from exc


def interrupted(exc: BaseException | None) -> bool:
    """Is `exc` (or what caused it) Ctrl-C taken by DuckDB? While DuckDB runs a query it
    takes the signal and raises an error of its own (an Exception: `except Exception`
    handlers would swallow it, and an eval would go on as if a case had failed)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, KeyboardInterrupt | getattr(duckdb, "InterruptException", KeyboardInterrupt)):
            return True
        if isinstance(exc, RuntimeError) and "interrupted" in str(exc).lower():
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _raise_interrupt(exc: BaseException) -> None:
    """Give Ctrl-C taken by DuckDB back as the KeyboardInterrupt it was."""
    if interrupted(exc):
        raise KeyboardInterrupt from exc


def _connect(
    path: str,
    read_only: bool,
    wait_s: float,
    on_wait: Callable[[str], None] | None,
    opener: Callable[[], Any] | None = None,
) -> Any:
    """Open the file (with `opener`, say an ATTACH, instead of a connection of its own);
    while another process holds the write lock, say so once and retry."""
    opener = opener or (lambda: duckdb.connect(path, read_only=read_only))
    try:
        return opener()
    except duckdb.Error as exc:
        if _LOCK_MARKER not in str(exc):
            raise _open_error(path, exc) from exc
    # A reader says it waits, so a writer that lets go between transactions lets it in first.
    waiting = reader_waiting(path) if read_only else nullcontext()
    deadline = time.monotonic() + wait_s
    told = False
    with waiting:
        while True:
            try:
                return opener()
            except duckdb.Error as exc:
                text = str(exc)
                if _LOCK_MARKER not in text:
                    raise _open_error(path, exc) from exc
                holder = re.search(r"\(PID (\d+)\)", text)
                who = f"process {holder.group(1)}" if holder else "another process"
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"database {path} is in use by {who} (a run, eval or solve writing to it); "
                        "wait for it to finish, or pass --db PATH to use another file"
                    ) from exc
                if not told and on_wait is not None:
                    on_wait(f"database {path} is busy ({who} is writing); waiting up to {wait_s:.0f} s...")
                    told = True
                time.sleep(0.05)


def _open_error(path: str, exc: duckdb.Error) -> StoreError:
    text = str(exc)
    first = text.splitlines()[0] if text else type(exc).__name__
    return StoreError(f"cannot open database {path}: {first}")


_UNKNOWN: Any = object()
# The name a statement run by `Store._scanning` reads its data by: a local variable of
# `Store._fetch`'s frame, which DuckDB's replacement scan finds (for a name no table has).
_SCAN = Store.SCAN


def _latest(data: pa.Table, last: datetime | None) -> Any:
    """`max(ts)` of a table that held `last` as its latest and then got `data`'s rows later
    than that: `_UNKNOWN` unless `data`'s `ts` is a plain timestamp column that DuckDB
    stores as is (no zone, at most microseconds)."""
    if data.num_rows == 0:
        return last
    if "ts" not in data.column_names:
        return _UNKNOWN
    import pyarrow as pa

    col = data.column("ts")
    if not pa.types.is_timestamp(col.type) or col.type.tz is not None or col.type.unit == "ns":
        return _UNKNOWN
    import numpy as np  # not pyarrow.compute: loading it costs ~40 ms

    tops = []
    for chunk in col.chunks:
        stamps = chunk.to_numpy(zero_copy_only=False)
        stamps = stamps[~np.isnat(stamps)] if chunk.null_count else stamps
        if len(stamps):
            tops.append(stamps.max())
    if not tops:
        return last
    top = max(tops).astype("datetime64[us]").item()
    return top if last is None or top > last else last


class _Buffer(Protocol):
    """Writes held back until their transaction commits (see `Store.behind`).

    A buffer's `flush` only writes (its statements read nothing but the values it holds),
    and writes no other buffer first. Buffers that are written together go in `phase`
    order (0 if it has none), then in the order first used: a buffer that changes rows
    another inserts (an incident's status, its row) has a later phase."""

    tables: tuple[str, ...]  # a statement naming one of these writes the buffer first
    # Tables whose remembered values its own statements leave right (its owner remembered
    # them as of these writes): they are not forgotten while it flushes.
    keeps: tuple[str, ...]

    def flush(self, store: Store) -> None: ...


class Journal:
    """Writes held back (`Store.behind`) as an ordered list of `entries` that `flush` writes.
    `lasting`: on a `private` store they may stay held after their transaction commits (the
    store then keeps them until a statement names one of `tables`, `flush()`, or
    `connection`); the first `committed` entries are those of transactions that committed,
    so a rollback keeps exactly those (and holds them again if it undid their writing)."""

    tables: tuple[str, ...] = ()
    keeps: tuple[str, ...] = ()
    phase = 0

    def __init__(self, lasting: bool = False) -> None:
        self.entries: list[Any] = []
        self.lasting = lasting
        self.committed = 0

    def flush(self, store: Store) -> None:
        raise NotImplementedError

    def committed_only(self) -> Journal:
        """A copy holding only the committed entries (all of them committed)."""
        again = copy.copy(self)
        again.entries = self.entries[: self.committed]
        return again


class _Rows(Journal):
    """Records for one table, held back (`Store.append_rows`); lasting: a private store's
    log rows."""

    def __init__(self, table: str, lasting: bool = False) -> None:
        super().__init__(lasting)
        self.tables = (table,)

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.entries

    def flush(self, store: Store) -> None:
        _insert_rows(store, self.tables[0], self.rows)


_ROWS_PER_INSERT = 200  # rows a VALUES statement holds (its parameters are bound one by one)


def _insert_rows(store: Store, table: str, rows: Sequence[dict[str, Any]]) -> None:
    """Insert records with as few statements as there are runs of rows with the same columns,
    in order. A run of several rows whose every column holds one plain kind of value goes in
    as one list per column (`_as_columns`: DuckDB binds a list at once, where a VALUES
    statement binds each value, ~0.3 ms a row), or, when pyarrow is loaded already, as an
    Arrow table of those lists with the types DuckDB would give them (`_as_arrow`: pyarrow
    converts a list of strings in C, where DuckDB makes one value of each: a demo's 314 tool
    calls, 660 KB of output text, went in in ~6 ms instead of ~17); any other run, as VALUES
    statements of at most `_ROWS_PER_INSERT` rows. All store the same values (DuckDB unifies
    a column's values, then casts them to the table's type, each way)."""
    at = 0
    while at < len(rows):
        cols = list(rows[at])
        end = at + 1
        while end < len(rows) and list(rows[end]) == cols:
            end += 1
        run = rows[at:end]
        names = ", ".join(f'"{c}"' for c in cols)
        columns = _as_columns(run, cols) if len(run) > 1 else None
        data = _as_arrow(cols, columns) if columns is not None else None
        if data is not None:
            store._scanning(data, f'INSERT INTO "{table}" ({names}) SELECT {names} FROM {_SCAN}')
        elif columns is not None:
            lists = ", ".join(f"unnest(${n})" for n in range(1, len(cols) + 1))
            store.execute(f'INSERT INTO "{table}" ({names}) SELECT {lists}', columns)
        else:
            for start in range(0, len(run), _ROWS_PER_INSERT):
                part = run[start : start + _ROWS_PER_INSERT]
                marks = "(" + ", ".join("?" for _ in cols) + ")"
                values = [_jsonable(r[c]) for r in part for c in cols]
                rows_sql = ", ".join([marks] * len(part))
                store.execute(f'INSERT INTO "{table}" ({names}) VALUES {rows_sql}', values)
        at = end


# Kinds of Python values a column may mix and still go in as one list (see `_as_columns`).
_LIST_KINDS = tuple(map(frozenset, [(), (str,), (int,), (float,), (int, float), (bool,)]))
_INT64 = (-(2**63), 2**63)


_EXACT_FLOAT = 2**53  # ints up to this convert to a double exactly, whoever converts them


def _as_arrow(cols: list[str], columns: list[list[Any]]) -> pa.Table | None:
    """`_as_columns`' lists as an Arrow table typed as DuckDB types such a list (VARCHAR,
    BIGINT, DOUBLE, BOOLEAN, TIMESTAMP, NULL), or None when pyarrow is not loaded yet (a
    short command's few rows are not worth its import) or a column mixes ints too large
    for a double with floats (DuckDB's rounding then is its own business)."""
    pa = sys.modules.get("pyarrow")
    if pa is None:
        return None
    arrays = []
    for values in columns:
        kinds = {type(v) for v in values if v is not None}
        if not kinds:
            typ = pa.null()
        elif kinds == {str}:
            typ = pa.string()
        elif kinds == {bool}:
            typ = pa.bool_()
        elif kinds == {int}:
            typ = pa.int64()
        elif kinds == {datetime}:
            typ = pa.timestamp("us")
        elif kinds <= {int, float}:
            if int in kinds and any(type(v) is int and abs(v) > _EXACT_FLOAT for v in values):
                return None
            typ = pa.float64()
        else:
            return None
        arrays.append(pa.array(values, typ))
    return pa.table(arrays, names=cols)


def _as_columns(rows: Sequence[dict[str, Any]], cols: list[str]) -> list[list[Any]] | None:
    """`rows` as one list per column (JSON-encoding dicts and lists), or None when a column
    holds a value the VALUES statement binds differently from a list: another kind (date,
    Decimal, bytes, ...), kinds that do not unify (str and int), a datetime with a zone or an
    integer beyond 64 bits. (A column of NULLs only is a list of NULLs: NULL in any type.)"""
    out: list[list[Any]] = []
    for c in cols:
        values = [_jsonable(r[c]) for r in rows]
        kinds = {type(v) for v in values if v is not None}
        if kinds == {datetime}:
            plain = all(v is None or v.tzinfo is None for v in values)
        else:
            plain = kinds in _LIST_KINDS
            if plain and int in kinds:
                plain = all(_INT64[0] <= v < _INT64[1] for v in values if type(v) is int)
        if not plain:
            return None
        out.append(values)
    return out


# A query: SELECT ..., or WITH ... whose text names no statement that writes (DuckDB's
# `WITH ... INSERT`, say): a word such as INSERT anywhere counts it as a write (safe: what
# is remembered of its tables is only forgotten).
_READ = re.compile(
    r"\s*(?:SELECT\b|WITH\b(?![\s\S]*\b(?:INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|COPY|MERGE)\b))",
    re.IGNORECASE,
)
# Statements after which the columns a store knows (`Store.columns`) may be wrong: anything
# but plain reads and row writes (USE changes which database is its own).
_SCHEMA_CHANGE = re.compile(
    r"\s*(?!(?:SELECT|INSERT|UPDATE|DELETE|BEGIN|COMMIT|ROLLBACK|WITH|FROM|VALUES)\b)", re.IGNORECASE
)


@functools.lru_cache(maxsize=128)
def _names_pattern(names: frozenset[str]) -> re.Pattern[str]:
    """A regex that finds any of `names` as a word (compiled once per set of names: the set
    a store watches changes with every flush, and comes back to the same few; a demo
    compiled ~120 patterns before, `re`'s own cache missing as equally long names came in
    set order)."""
    alternatives = "|".join(re.escape(t) for t in sorted(names, key=lambda t: (-len(t), t)))
    return re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)


_WORD = re.compile(r"\w+")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_]+")


@functools.lru_cache(maxsize=256)
def _words(sql: str) -> frozenset[str]:
    """The words of a statement, lower-cased: a plain ASCII name that is one of them is in
    the statement as a word, as `_names_pattern` finds it (for ASCII text and names). No
    regex is compiled for the set of names a store watches, which changes with every
    flush (a demo compiled 24 patterns, ~10 ms); statements come back (kept per text)."""
    return frozenset(w.lower() for w in _WORD.findall(sql))


class _Behind:
    """A store's held-back writes (buffers, in the order first used) and remembered reads."""

    def __init__(self) -> None:
        self.buffers: dict[Hashable, _Buffer] = {}
        # Committed entries (`Journal.lasting`) this transaction wrote: held again if it rolls back.
        self.restore: list[tuple[Hashable, Journal]] = []
        self.memos: dict[Hashable, tuple[Any, tuple[str, ...]]] = {}
        # The names of the tables watched (None: to be gathered again); all plain ASCII words?
        self._watched_names: frozenset[str] | None = None
        self._plain = True
        self._keeping: frozenset[str] = frozenset()  # see `_Buffer.keeps`
        # A buffer is being written: its statements (writes of its own rows) write no other
        # buffer first; those are written in `_Buffer.phase` order by whoever asked.
        self._writing = False

    @property
    def watched(self) -> bool:
        return bool(self.buffers or self.memos)

    def buffer(self, key: Hashable, make: Callable[[], _Buffer]) -> _Buffer:
        buf = self.buffers.get(key)
        if buf is None:
            buf = self.buffers[key] = make()
            self._watched_names = None
        return buf

    def remember(self, key: Hashable, value: Any, tables: tuple[str, ...]) -> None:
        self.memos[key] = (value, tables)
        self._watched_names = None

    def recall(self, key: Hashable, default: Any) -> Any:
        kept = self.memos.get(key)
        return default if kept is None else kept[0]

    def touch(self, store: Store, sql: str | None) -> None:
        """`sql` is about to run: write the buffers of the tables it names, forget their memos."""
        if sql is None:
            named = None
        else:
            if self._watched_names is None:
                names = {t for b in self.buffers.values() for t in b.tables}
                names |= {t for _, ts in self.memos.values() for t in ts}
                self._watched_names = frozenset(names)
                self._plain = all(_PLAIN_NAME.fullmatch(t) for t in names)
            if self._plain and sql.isascii():
                named = set(self._watched_names & _words(sql))
            else:
                named = {m.lower() for m in _names_pattern(self._watched_names).findall(sql)}
            if not named:
                return
            # A query changes no table: what is remembered of the tables it reads stays right.
            written = set() if _READ.match(sql) else named
        if not self._writing:
            self._flush_in_order(
                store, [k for k, b in self.buffers.items() if named is None or named.intersection(b.tables)]
            )
        forget = None if named is None else written - self._keeping
        for key in [k for k, (_, ts) in self.memos.items() if forget is None or forget.intersection(ts)]:
            del self.memos[key]
        self._watched_names = None

    def flush_all(self, store: Store, *, keep_lasting: bool = False) -> None:
        """Write every buffer (a transaction is about to commit); with `keep_lasting`, those
        that may outlive it stay held (`Journal.lasting`)."""
        self._flush_in_order(
            store,
            [k for k, b in self.buffers.items() if not (keep_lasting and getattr(b, "lasting", False))],
        )

    def committed(self) -> None:
        """The transaction committed: what is still held is committed."""
        for buf in self.buffers.values():
            if isinstance(buf, Journal):
                buf.committed = len(buf.entries)
        self.restore.clear()

    def rolled_back(self) -> None:
        """The transaction rolled back: drop what it held back and hold again the committed
        entries it wrote (its writes are undone)."""
        kept: dict[Hashable, _Buffer] = {}
        for key, buf in self.buffers.items():
            if isinstance(buf, Journal) and buf.committed:
                del buf.entries[buf.committed :]
                kept[key] = buf
        for key, buf in self.restore:
            kept[key] = buf
        self.buffers = kept
        self.restore = []
        self._watched_names = None

    def _flush_in_order(self, store: Store, keys: list[Hashable]) -> None:
        """Write these buffers: by `phase`, then in the order first used."""
        keys.sort(key=lambda k: getattr(self.buffers[k], "phase", 0))  # stable
        for key in keys:
            buf = self.buffers.pop(key, None)
            if buf is not None:
                self._flush(store, buf, key)

    def _flush(self, store: Store, buf: _Buffer, key: Hashable) -> None:
        self._watched_names = None
        if store._depth and isinstance(buf, Journal) and buf.committed:
            self.restore.append((key, buf.committed_only()))  # if this transaction rolls back
        outer, writing = self._keeping, self._writing
        self._keeping = outer | frozenset(buf.keeps)
        self._writing = True
        try:
            buf.flush(store)
        finally:
            self._keeping, self._writing = outer, writing

    def discard(self) -> None:
        self.buffers.clear()
        self.restore = []
        self._watched_names = None

    def forget_all(self) -> None:
        self.memos.clear()
        self._watched_names = None


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return value
