"""The harness's per-case databases, copied from one template per process.

Every case of an evaluation starts from the same state: an empty, migrated store that
holds the runbook index, and an empty ground-truth store. Opening a DuckDB database
costs ~20-30 ms of CPU, migrating it ~15 statements and indexing the runbooks a
content hash and a few more; over a 51-case suite that is seconds spent making the
same database again. So a process builds it once:

- `template`: an in-memory catalog of one DuckDB instance, migrated, with the index.
- per case: a new in-memory catalog of the same instance, filled by `COPY FROM
  DATABASE template` (every table with its constraints, defaults and sequences, the
  index rows in their order: the same database a fresh `Store` would be) and made
  the default of the case's own cursor (`USE`), so every unqualified name resolves
  there. It is detached when the case ends. The only other catalog the case's cursor
  could name is the template: the empty schema and the runbook index.
- one `TruthStore` per process, a separate DuckDB instance (ground truth never sits in
  the agent's database), cleared of the case's scope before and after it.
- both instances run one DuckDB thread (see `CaseDatabases`).

A forked child never uses its parent's instance (the key is the process id), and a
second thread that asks while a case runs gets fresh stores of its own.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from netops_agent.knowledge import TfidfRetriever
from netops_agent.services import Services, ensure_index
from netops_agent.store import Store
from netops_agent.store.truth import TruthStore
from netops_agent.tickets import TicketService

TEMPLATE = "case_template"


class CaseDatabases:
    """One process's template database and ground-truth store (see the module docstring)."""

    def __init__(self, runbooks: Path | None) -> None:
        self.runbooks = runbooks
        self.lock = threading.Lock()  # one case at a time uses the shared stores
        self._names = itertools.count(1)
        # One thread: a case's tables fit one row group (nothing to split), cases run in
        # processes of their own, and DuckDB's thread handoff cost ~10% of a case's CPU.
        self._db = duckdb.connect(":memory:", config={"threads": 1})
        self._db.execute(f"ATTACH ':memory:' AS {TEMPLATE}")
        cur = self._db.cursor()
        cur.execute(f"USE {TEMPLATE}")
        template = Store.attach(cur, ":memory:")
        template.migrate()
        self.books = ensure_index(template, runbooks)  # as stored; read-only, shared by the cases
        template.close()
        self.truth = TruthStore(threads=1)

    @contextmanager
    def case(self, scope: str) -> Iterator[tuple[Services, TruthStore]]:
        """A fresh copy of the template as the case's store, and the process's truth store."""
        name = f"case_{next(self._names)}"
        cur = self._db.cursor()
        try:
            cur.execute(f"ATTACH ':memory:' AS {name}")
            cur.execute(f"COPY FROM DATABASE {TEMPLATE} TO {name}")
            cur.execute(f"USE {name}")
            store = Store.attach(cur, ":memory:")
            svc = Services(store, dict(self.books), TfidfRetriever(store), TicketService(store))
            self.truth.clear(scope)
            yield svc, self.truth
        finally:
            self.truth.clear(scope)
            cur.close()
            self._db.execute(f"DETACH DATABASE IF EXISTS {name}")

    def close(self) -> None:
        self.truth.close()
        self._db.close()


_PROCESS: dict[Any, CaseDatabases] = {}
_LOCK = threading.Lock()


@contextmanager
def case_stores(scope: str, runbooks: Path | None) -> Iterator[tuple[Services, TruthStore]]:
    """The stores of one case: from this process's template, or fresh ones when another
    thread of the process is using the template right now."""
    key = (os.getpid(), runbooks)
    with _LOCK:
        dbs = _PROCESS.get(key)
        if dbs is None:
            dbs = _PROCESS[key] = CaseDatabases(runbooks)
    if not dbs.lock.acquire(blocking=False):
        with fresh_stores(runbooks) as pair:
            yield pair
        return
    try:
        with dbs.case(scope) as pair:
            yield pair
    finally:
        dbs.lock.release()


@contextmanager
def fresh_stores(runbooks: Path | None) -> Iterator[tuple[Services, TruthStore]]:
    """A store and a truth store of their own, opened and closed around one case."""
    with Store(":memory:") as store, TruthStore() as truth:
        yield Services.open(store, runbooks), truth
