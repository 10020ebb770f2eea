"""Issue 13: a statement reads an Arrow table through DuckDB's replacement scan of a variable
(`Store.SCAN`) instead of a view registered and dropped around it; it reads what the view
gave, and retrieval scores stay bit-identical."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pyarrow as pa
import pytest

from netops_agent.errors import StoreError
from netops_agent.knowledge.index import TfidfRetriever, index_text, query_vector
from netops_agent.services import ensure_index
from netops_agent.store import Store

T0 = datetime(2026, 11, 30, 9, 0)


def test_append_arrow_and_batches_store_what_they_are_given() -> None:
    store = Store(":memory:")
    ts = [T0 + timedelta(seconds=s) for s in range(5)]
    stamps = pa.array(ts, pa.timestamp("us"))
    data = pa.table({"ts": stamps, "device": list("abcde"), "message": list("vwxyz")})
    assert store.append_arrow("events", data) == 5
    assert store.append_arrow("events", data, after=ts[2]) == 2  # the filter runs in DuckDB
    reader = pa.RecordBatchReader.from_batches(data.schema, data.to_batches(max_chunksize=2))
    assert store.append_batches("events", reader) == 5
    rows = store.query("SELECT device FROM events")
    assert [r["device"] for r in rows] == [*"abcde", "d", "e", *"abcde"]
    assert store._scan is None  # nothing kept after the statement


def test_a_failing_statement_lets_go_of_its_scan() -> None:
    store = Store(":memory:")
    with pytest.raises(StoreError, match="no_such_column"):
        store.query(f"SELECT no_such_column FROM {Store.SCAN}", scan=pa.table({"a": [1]}))
    assert store._scan is None
    with pytest.raises(StoreError):  # and no later statement finds it
        store.query(f"SELECT * FROM {Store.SCAN}")


def test_retrieval_scores_are_those_of_a_registered_view() -> None:
    store = Store(":memory:", compress=True)
    books = ensure_index(store)
    retriever = TfidfRetriever(store)
    sql = (
        "SELECT r.id, r.title, r.fault_types, sum(v.weight * q.qweight) AS score "
        "FROM runbook_vectors v JOIN query_vec q USING (term) JOIN runbooks r ON r.id = v.runbook_id "
        "GROUP BY r.id, r.title, r.fault_types ORDER BY score DESC, r.id"
    )
    texts = [index_text(b) for b in books.values()]
    rnd = random.Random(3)
    words = " ".join(texts).split()
    texts += [" ".join(rnd.choice(words) for _ in range(rnd.randint(1, 30))) for _ in range(200)]
    for text in texts:
        names, weights = query_vector(retriever._analyze(text), retriever._idf)
        if not names:
            continue
        vec = pa.table({"term": pa.array(names, pa.string()), "qweight": weights})
        store.register("query_vec", vec)
        try:
            viewed = store.query(sql)
        finally:
            store.unregister("query_vec")
        assert store.query(sql.replace("query_vec", Store.SCAN), scan=vec) == viewed  # exact floats
        hits = retriever.retrieve(text, k=len(books))
        expected = [(r["id"], round(r["score"], 4)) for r in viewed]
        assert [(h.id, h.score) for h in hits[: len(viewed)]] == expected
