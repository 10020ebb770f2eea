"""Ground truth, kept apart from the agent's database.

`TruthStore` is a DuckDB database of its own: in memory (the harness, one per case)
or a file next to the run database (`truth_path(db)`: `netops.duckdb` ->
`netops.truth.duckdb`) for `run` and the interactive lab's `lab inject`. The agent's
`Store` never has a `ground_truth` table; only the case pipeline, the harness and
the lab CLI open this one.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from netops_agent.errors import StoreError
from netops_agent.models import InjectedFault

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ground_truth (
    scope VARCHAR, id VARCHAR, type VARCHAR, target JSON, params JSON,
    injected_at TIMESTAMP, seq INTEGER);
"""


def truth_path(db_path: Path | str) -> Path | str:
    """Where the ground truth of the run database `db_path` lives (memory stays memory)."""
    if str(db_path) == ":memory:":
        return ":memory:"
    p = Path(db_path)
    return p.with_name(p.stem + ".truth" + (p.suffix or ".duckdb"))


_Row = tuple[Any, ...]  # a ground_truth row as stored: scope, id, type, target, params, injected_at, seq


class TruthStore:
    """Injected faults per scope (a case id, or "lab" for the interactive lab).

    A file is a DuckDB database (other commands read it). In memory the rows are kept
    as the table would hold them (target and params JSON-encoded, `at` without a zone),
    in Python: a run or an eval process records a few faults per case and reads them back
    by scope, which needs no database of its own (opening one cost ~30 ms)."""

    def __init__(self, path: Path | str = ":memory:", *, threads: int | None = None) -> None:
        self.path = path
        self._con: duckdb.DuckDBPyConnection | None = None
        self._rows: list[_Row] = []  # in memory: the rows, in insertion order
        if str(path) == ":memory:":
            return
        from netops_agent.store.instance import instance

        self._attached = False
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # A database of this process's DuckDB instance (see `store.instance`): no
            # instance of its own to start (~30 ms); one of its own if another holds it.
            got = instance().file(str(path), False, lambda opener: _attach(opener, path))
            if got is None:
                self._con = duckdb.connect(str(path), config={"threads": threads} if threads else {})
            else:
                self._con, self._attached = got[0], True
            self._con.execute(_SCHEMA)
        except duckdb.Error as exc:
            self.close()
            raise StoreError(f"cannot open the ground-truth store {path}: {exc}") from exc

    def __enter__(self) -> TruthStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        con, self._con = self._con, None
        if con is not None:
            con.close()
            if self._attached:
                from netops_agent.store.instance import instance

                self._attached = False
                instance().let_go(str(self.path))
        self._rows = []

    def record(self, scope: str, faults: list[InjectedFault], at: datetime | None = None) -> None:
        """Replace the faults recorded for `scope` with `faults` (one transaction)."""
        rows: list[_Row] = [
            (scope, f.id, f.type, json.dumps(f.target), json.dumps(f.params), _naive(at), n)
            for n, f in enumerate(faults)
        ]
        if self._con is None:
            self._rows = [r for r in self._rows if r[0] != scope] + rows
            return
        self._con.execute("BEGIN")
        try:
            self._con.execute("DELETE FROM ground_truth WHERE scope = ?", [scope])
            _insert(self._con, rows)
            self._con.execute("COMMIT")
        except BaseException:
            self._con.execute("ROLLBACK")
            raise

    def faults(self, scope: str) -> list[InjectedFault]:
        if self._con is None:
            rows = sorted((r for r in self._rows if r[0] == scope), key=lambda r: r[6])
            return [_fault(r[1:]) for r in rows]
        rows = self._con.execute(
            "SELECT id, type, target, params FROM ground_truth WHERE scope = ? ORDER BY seq", [scope]
        ).fetchall()
        return [_fault(r) for r in rows]

    def scopes(self) -> list[str]:
        if self._con is None:
            return sorted({r[0] for r in self._rows})
        return [
            r[0] for r in self._con.execute("SELECT DISTINCT scope FROM ground_truth ORDER BY 1").fetchall()
        ]

    def _all(self) -> list[tuple[Any, ...]]:
        """Every row, by scope and seq."""
        if self._con is None:
            return sorted(self._rows, key=lambda r: (r[0], r[6]))
        return self._con.execute("SELECT * FROM ground_truth ORDER BY scope, seq").fetchall()

    def replace_with(self, other: TruthStore) -> None:
        """Everything recorded here becomes what `other` holds (one transaction)."""
        rows = other._all()
        if self._con is None:
            self._rows = [tuple(r) for r in rows]
            return
        self._con.execute("BEGIN")
        try:
            self._con.execute("DELETE FROM ground_truth")
            _insert(self._con, rows)
            self._con.execute("COMMIT")
        except BaseException:
            self._con.execute("ROLLBACK")
            raise

    def clear(self, scope: str | None = None) -> None:
        if self._con is None:
            self._rows = [] if scope is None else [r for r in self._rows if r[0] != scope]
        elif scope is None:
            self._con.execute("DELETE FROM ground_truth")
        else:
            self._con.execute("DELETE FROM ground_truth WHERE scope = ?", [scope])


def _insert(con: duckdb.DuckDBPyConnection, rows: list[Any]) -> None:
    """Insert ground_truth rows in order with one statement (`executemany` ran one a row:
    ~3 ms each)."""
    if not rows:
        return
    marks = ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(rows))
    con.execute(f"INSERT INTO ground_truth VALUES {marks}", [v for row in rows for v in row])


def _attach(opener: Any, path: Path | str) -> Any:
    """Run the ATTACH (`store.instance`); its error as the StoreError it reports."""
    try:
        return opener()
    except duckdb.Error as exc:
        raise StoreError(f"cannot open the ground-truth store {path}: {exc}") from exc


def _fault(row: tuple[Any, ...]) -> InjectedFault:
    return InjectedFault(id=row[0], type=row[1], target=json.loads(row[2]), params=json.loads(row[3] or "{}"))


def _naive(ts: datetime | None) -> datetime | None:
    if ts is not None and ts.tzinfo is not None:
        from datetime import timezone

        return ts.astimezone(timezone.utc).replace(tzinfo=None)
    return ts
