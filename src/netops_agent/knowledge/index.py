"""TF-IDF index of runbooks persisted in DuckDB, and cosine-similarity retrieval.

The vectorizer is fitted with scikit-learn; its vocabulary, idf weights and the
L2-normalised runbook vectors are stored as rows (term, weight), so retrieval is a
join and a sum in SQL: the dot product of unit vectors is their cosine similarity.
The index is rebuilt only when the runbook file's content changes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pyarrow as pa
from sklearn.feature_extraction.text import TfidfVectorizer

from netops_agent.knowledge.schema import Runbook
from netops_agent.store import Store

HASH_KEY = "runbooks_sha256"


@dataclass(frozen=True)
class Hit:
    id: str
    title: str
    score: float
    fault_types: list[str]


class Retriever(Protocol):
    def retrieve(self, text: str, k: int = 5) -> list[Hit]: ...


def _vectorizer(**kw: object) -> TfidfVectorizer:
    return TfidfVectorizer(
        lowercase=True,
        stop_words="english",
        ngram_range=(1, 2),
        sublinear_tf=True,
        token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z0-9_-]+\b",
        **kw,
    )


def content_hash(runbooks: list[Runbook]) -> str:
    body = json.dumps([rb.model_dump(mode="json") for rb in runbooks], sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def build_index(store: Store, runbooks: list[Runbook], *, force: bool = False) -> bool:
    """(Re)build the index if the runbooks changed; return True if it was rebuilt."""
    digest = content_hash(runbooks)
    if not force and store.get_meta(HASH_KEY) == digest:
        return False
    vec = _vectorizer()
    matrix = vec.fit_transform([rb.text() for rb in runbooks]).tocoo()
    terms = vec.get_feature_names_out()
    with store.transaction():
        store.replace_table(
            "runbooks",
            pa.table(
                {
                    "id": [rb.id for rb in runbooks],
                    "title": [rb.title for rb in runbooks],
                    "fault_types": pa.array([rb.fault_types for rb in runbooks], pa.list_(pa.string())),
                    "symptoms": [rb.symptoms for rb in runbooks],
                    "body": [json.dumps(rb.model_dump(mode="json")) for rb in runbooks],
                }
            ),
        )
        store.replace_table("runbook_vocab", pa.table({"term": terms, "idf": vec.idf_}))
        store.replace_table(
            "runbook_vectors",
            pa.table(
                {
                    "runbook_id": np.array([rb.id for rb in runbooks])[matrix.row],
                    "term": terms[matrix.col],
                    "weight": matrix.data,
                }
            ),
        )
        store.set_meta(HASH_KEY, digest)
    return True


class TfidfRetriever:
    """Cosine similarity between the query and stored runbook vectors, in SQL."""

    def __init__(self, store: Store) -> None:
        self.store = store
        vocab = store.arrow("SELECT term, idf FROM runbook_vocab ORDER BY term")
        terms = vocab["term"].to_pylist()
        self._vec = _vectorizer(vocabulary={t: i for i, t in enumerate(terms)})
        self._vec.idf_ = np.asarray(vocab["idf"].to_numpy())
        self._terms = np.array(terms, dtype=object)

    def retrieve(self, text: str, k: int = 5) -> list[Hit]:
        if len(self._terms) == 0:
            return []
        q = self._vec.transform([text]).tocoo()
        if q.nnz == 0:
            return []
        query = pa.table({"term": self._terms[q.col].astype(str), "qweight": q.data})
        self.store.register("query_vec", query)
        try:
            rows = self.store.query(
                "SELECT r.id, r.title, r.fault_types, sum(v.weight * q.qweight) AS score "
                "FROM runbook_vectors v JOIN query_vec q USING (term) JOIN runbooks r ON r.id = v.runbook_id "
                "GROUP BY r.id, r.title, r.fault_types ORDER BY score DESC, r.id LIMIT ?",
                [k],
            )
        finally:
            self.store.unregister("query_vec")
        return [Hit(r["id"], r["title"], round(float(r["score"]), 4), list(r["fault_types"])) for r in rows]


def stored_runbooks(store: Store) -> dict[str, Runbook]:
    return {
        r["id"]: Runbook.model_validate_json(r["body"]) for r in store.query("SELECT id, body FROM runbooks")
    }
