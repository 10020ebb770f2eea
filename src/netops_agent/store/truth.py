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


class TruthStore:
    """Injected faults per scope (a case id, or "lab" for the interactive lab)."""

    def __init__(self, path: Path | str = ":memory:", *, threads: int | None = None) -> None:
        self.path = path
        try:
            if str(path) != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._con = duckdb.connect(str(path), config={"threads": threads} if threads else {})
            self._con.execute(_SCHEMA)
        except duckdb.Error as exc:
            raise StoreError(f"cannot open the ground-truth store {path}: {exc}") from exc

    def __enter__(self) -> TruthStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._con.close()

    def record(self, scope: str, faults: list[InjectedFault], at: datetime | None = None) -> None:
        """Replace the faults recorded for `scope` with `faults` (one transaction)."""
        at = _naive(at)
        self._con.execute("BEGIN")
        try:
            self._con.execute("DELETE FROM ground_truth WHERE scope = ?", [scope])
            for n, f in enumerate(faults):
                self._con.execute(
                    "INSERT INTO ground_truth VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [scope, f.id, f.type, json.dumps(f.target), json.dumps(f.params), at, n],
                )
            self._con.execute("COMMIT")
        except BaseException:
            self._con.execute("ROLLBACK")
            raise

    def faults(self, scope: str) -> list[InjectedFault]:
        rows = self._con.execute(
            "SELECT id, type, target, params FROM ground_truth WHERE scope = ? ORDER BY seq", [scope]
        ).fetchall()
        return [_fault(r) for r in rows]

    def scopes(self) -> list[str]:
        return [
            r[0] for r in self._con.execute("SELECT DISTINCT scope FROM ground_truth ORDER BY 1").fetchall()
        ]

    def replace_with(self, other: TruthStore) -> None:
        """Everything recorded here becomes what `other` holds (one transaction)."""
        rows = other._con.execute("SELECT * FROM ground_truth ORDER BY scope, seq").fetchall()
        self._con.execute("BEGIN")
        try:
            self._con.execute("DELETE FROM ground_truth")
            if rows:
                self._con.executemany("INSERT INTO ground_truth VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            self._con.execute("COMMIT")
        except BaseException:
            self._con.execute("ROLLBACK")
            raise

    def clear(self, scope: str | None = None) -> None:
        if scope is None:
            self._con.execute("DELETE FROM ground_truth")
        else:
            self._con.execute("DELETE FROM ground_truth WHERE scope = ?", [scope])


def _fault(row: tuple[Any, ...]) -> InjectedFault:
    return InjectedFault(id=row[0], type=row[1], target=json.loads(row[2]), params=json.loads(row[3] or "{}"))


def _naive(ts: datetime | None) -> datetime | None:
    if ts is not None and ts.tzinfo is not None:
        from datetime import timezone

        return ts.astimezone(timezone.utc).replace(tzinfo=None)
    return ts
