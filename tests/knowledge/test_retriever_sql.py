"""The retriever scores queries in Python exactly as the SQL it replaced did."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from netops_agent.knowledge import TfidfRetriever, build_index, load_runbooks
from netops_agent.knowledge.index import index_text, query_vector
from netops_agent.knowledge.measure import load_suite
from netops_agent.store import Store

# The statement `TfidfRetriever.retrieve` ran before it scored in Python.
SQL = (
    "SELECT r.id, sum(v.weight * q.qweight) AS score "
    f"FROM runbook_vectors v JOIN {Store.SCAN} q USING (term) "
    "JOIN runbooks r ON r.id = v.runbook_id "
    "GROUP BY r.id ORDER BY score DESC, r.id"
)


def _sql_scores(store: Store, retriever: TfidfRetriever, text: str) -> list[tuple[str, float]]:
    names, weights = query_vector(retriever._analyze(text), retriever._idf)
    if not names:
        return []
    q = pa.table({"term": pa.array(names, pa.string()), "qweight": weights})
    return [(r["id"], r["score"]) for r in store.query(SQL, scan=q)]


def _texts() -> list[str]:
    books = load_runbooks()
    texts = [index_text(rb) for rb in books] + [rb.title for rb in books] + [rb.symptoms for rb in books]
    texts += [case.text for case in load_suite().cases]
    words = " ".join(texts).split()
    rng = random.Random(13)
    texts += [" ".join(rng.sample(words, rng.randint(1, 12))) for _ in range(200)]
    return [*texts, "", "nothing the index knows zzz"]


@pytest.fixture(scope="module")
def indexed() -> Store:
    store = Store(":memory:")
    build_index(store, load_runbooks())
    return store


def test_python_scores_are_the_sql_sums_in_the_same_ranking(indexed: Store) -> None:
    """The same runbooks in the same order; each sum equal but for the order DuckDB's plan
    added the same products in (a bit or two: 1e-12 is far below the 4 decimals shown)."""
    retriever = TfidfRetriever(indexed)
    texts = _texts()
    for text in texts:
        ours, sql = retriever.scores(text), _sql_scores(indexed, retriever, text)
        assert [i for i, _ in ours] == [i for i, _ in sql], text
        assert all(abs(a - b) <= 1e-12 for (_, a), (_, b) in zip(ours, sql, strict=True)), text
    assert sum(1 for t in texts if retriever.scores(t)) > 200  # most queries score something


def test_retrieve_ranks_as_the_sql_did(indexed: Store) -> None:
    retriever = TfidfRetriever(indexed)
    for text in _texts():
        hits = retriever.retrieve(text, k=100)
        sql = _sql_scores(indexed, retriever, text)
        assert [(h.id, h.score) for h in hits[: len(sql)]] == [(i, round(s, 4)) for i, s in sql]
        assert [h.score for h in hits[len(sql) :]] == [0.0] * (len(hits) - len(sql))
        assert [h.id for h in hits[len(sql) :]] == sorted(h.id for h in hits[len(sql) :])
        assert len(hits) == len(load_runbooks())


def test_a_retriever_made_after_a_rebuild_scores_the_new_index() -> None:
    store = Store(":memory:")
    books = load_runbooks()
    build_index(store, books)
    text = books[0].title
    before = TfidfRetriever(store)
    assert before.scores(text)[0][0] == books[0].id
    build_index(store, books[1:], force=True)  # the first runbook is gone from the index
    after = TfidfRetriever(store)
    assert books[0].id not in {i for i, _ in after.scores(text)}
    assert [i for i, _ in after.scores(text)] == [i for i, _ in _sql_scores(store, after, text)]
