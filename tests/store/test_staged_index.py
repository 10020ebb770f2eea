"""Issue 13: a staged run copies a current runbook index from the file; a missing or stale one
is built in the stage and published with the run, in the run's one transaction. The file
ends holding what building the index in it directly held."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from netops_agent.evaluation.scenario import Case, Fault, Suite, Topology
from netops_agent.knowledge import build_index, load_runbooks
from netops_agent.knowledge.index import HASH_KEY
from netops_agent.pipeline.staging import INDEX_TABLES, publish, run_staged
from netops_agent.services import runbooks_digest
from netops_agent.store import Store

FAULT = Fault(
    type="interface_admin_down", target={"device": "site1-leaf4", "interface": "GigabitEthernet0/1"}
)
SUITE = Suite(
    name="t", topology=Topology(profile="small", seed=42), cases=[Case(id="c1", seed=1, faults=[FAULT])]
)


@contextmanager
def file_statements(monkeypatch: pytest.MonkeyPatch, path: Path) -> Iterator[list[str]]:
    """Statements run on the file's own connection."""
    seen: list[str] = []
    fetch = Store._fetch

    def counting(self: Store, sql: str, params: object = None) -> tuple[list[str], list[tuple]]:
        if self.path == str(path):
            seen.append(" ".join(sql.split()))
        return fetch(self, sql, params)  # type: ignore[arg-type]

    monkeypatch.setattr(Store, "_fetch", counting)
    yield seen


def _index(store: Store) -> dict[str, list[tuple]]:
    return {t: store.connection.execute(f'SELECT * FROM "{t}"').fetchall() for t in INDEX_TABLES}


def test_a_new_file_gets_the_index_with_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ref = Store(":memory:")
    build_index(ref, load_runbooks())  # what building it in the file itself stores
    path = tmp_path / "n.duckdb"
    store = Store(path)
    with file_statements(monkeypatch, path) as seen:
        run_staged(store, SUITE)
    assert not [s for s in seen if "runbook" in s]  # nothing written to the file but the run
    assert store.get_meta(HASH_KEY) == runbooks_digest() == ref.get_meta(HASH_KEY)
    assert _index(store) == _index(ref)  # the same rows, in the same order
    assert store.scalar("SELECT count(*) FROM incidents") >= 1
    store.close()


def test_a_current_index_is_copied_and_a_stale_one_replaced(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    store = Store(path)
    books = load_runbooks()
    build_index(store, books[:3])  # stale: other runbooks
    stale = _index(store)
    run_staged(store, SUITE)
    fresh = _index(store)
    assert fresh != stale and len(fresh["runbooks"]) == len(books)
    assert store.get_meta(HASH_KEY) == runbooks_digest()
    run_staged(store, SUITE)  # current: copied, left as it is
    assert _index(store) == fresh
    store.close()


def test_publish_leaves_the_index_unless_asked(tmp_path: Path) -> None:
    store = Store(tmp_path / "p.duckdb")
    books = load_runbooks()
    build_index(store, books[:2])
    before = _index(store)
    stage = Store(":memory:", compress=True)
    build_index(stage, books)
    store.release()
    publish(stage, store)
    assert _index(store) == before
    store.release()
    publish(stage, store, index=True)
    assert _index(store) == _index(stage)
    assert store.get_meta(HASH_KEY) == stage.get_meta(HASH_KEY)
    store.close()
