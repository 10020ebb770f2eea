"""TF-IDF index of runbooks persisted in DuckDB, and cosine-similarity retrieval.

The index is fitted with scikit-learn's TfidfVectorizer over our own analyzer
(`knowledge.text`: synonyms, domain stop words, stemming, bigrams); the vocabulary,
idf weights and L2-normalised runbook vectors are stored as rows (term, weight).
A query needs no scikit-learn: it is analysed with the same analyzer, weighted with
the stored idf (sublinear tf, L2 norm, as the fit did) in numpy, and scored in SQL
(the dot product of unit vectors is their cosine similarity). The index is rebuilt
only when the runbooks or the analyzer (synonyms) change, and a fit is kept in the
user's cache directory (`settings.cache_dir`, Arrow IPC files named by the content
hash), so a new database over the same runbooks loads the fitted index without
importing scikit-learn (about a second of a short run). The shipped runbooks' fit ships
with them (`data/runbook-index.json`, written by scikit-learn: `pytest
tests/knowledge/test_shipped_index.py --update-golden`; that test fails when a fresh fit
differs), so even the first `run` on a new machine needs no scikit-learn.

Retrieval orders runbooks; it never removes one: `retrieve` returns every runbook
(up to k), those that share no term with the query last, in id order.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import Counter
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pyarrow as pa

from netops_agent.knowledge.schema import Runbook
from netops_agent.knowledge.text import current_analyzer
from netops_agent.store import Store

HASH_KEY = "runbooks_sha256"
CACHE_FORMAT = "1"  # bump when the stored columns or the weighting change

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hit:
    id: str
    title: str
    score: float
    fault_types: list[str]


class Retriever(Protocol):
    def retrieve(self, text: str, k: int = 5) -> list[Hit]: ...


def index_text(rb: Runbook) -> str:
    """What retrieval indexes: title, symptoms, fault-type words, and what the checks look at.

    The checks' fields, expected words and log mnemonics describe how the fault shows
    in tool output, and they do not change when someone rewords a title.
    """
    words: list[str] = [rb.title, rb.symptoms, *(f.replace("_", " ") for f in rb.fault_types)]
    for chk in rb.evidence:
        if chk.value is False or chk.op in ("ne", "absent", "steady"):
            continue  # "is not X" says nothing about what the fault looks like
        if chk.field and chk.field not in ("state", "status", "success_pct", "protocol_status"):
            words.append(chk.field.replace("_", " "))
        if isinstance(chk.value, str) and "{" not in chk.value:
            words.append(chk.value)
        words.extend(str(v) for v in chk.where.values() if isinstance(v, str) and "{" not in v)
    return " ".join(words)


def content_hash(runbooks: list[Runbook], fingerprint: str = "") -> str:
    body = json.dumps([rb.model_dump(mode="json") for rb in runbooks], sort_keys=True)
    return hashlib.sha256((fingerprint + body).encode()).hexdigest()


def index_digest(runbooks: list[Runbook]) -> str:
    """What `meta` holds under `HASH_KEY` once the index of `runbooks`, analysed with the
    current analyzer (synonyms), is stored."""
    return content_hash(runbooks, current_analyzer()[1])


def build_index(
    store: Store, runbooks: list[Runbook], *, force: bool = False, digest: str | None = None
) -> bool:
    """(Re)build the index if the runbooks or the analyzer changed; True if it was rebuilt.
    `digest`: `index_digest(runbooks)` when the caller knows it already."""
    analyze, _ = current_analyzer()
    digest = digest or index_digest(runbooks)
    if not force and store.get_meta(HASH_KEY) == digest:
        return False
    fitted = None if force else (_shipped_fit(digest) or _cached_fit(digest))
    if fitted is None:
        fitted = _fit(runbooks, analyze)
        _keep_fit(digest, *fitted)
    vocab, vectors = fitted
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
        store.replace_table("runbook_vocab", vocab)
        store.replace_table("runbook_vectors", vectors)
        store.set_meta(HASH_KEY, digest)
    return True


def _fit(runbooks: list[Runbook], analyze: object) -> tuple[pa.Table, pa.Table]:
    """Vocabulary with idf, and the runbooks' L2-normalised vectors as (runbook_id, term, weight)."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # only the fit needs it

    vec = TfidfVectorizer(analyzer=analyze, sublinear_tf=True, norm="l2")
    matrix = vec.fit_transform([index_text(rb) for rb in runbooks]).tocoo()
    terms = vec.get_feature_names_out()
    vocab = pa.table({"term": terms, "idf": vec.idf_})
    vectors = pa.table(
        {
            "runbook_id": np.array([rb.id for rb in runbooks])[matrix.row],
            "term": terms[matrix.col],
            "weight": matrix.data,
        }
    )
    return vocab, vectors


SHIPPED_FIT = "runbook-index.json"  # in the package's data directory


def shipped_fit_path() -> str:
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", SHIPPED_FIT)


def fit_json(digest: str, vocab: pa.Table, vectors: pa.Table) -> str:
    """A fit as the shipped file holds it: the digest it indexes, the cache format, the
    scikit-learn that fitted it, and the two tables by column (floats as Python writes
    them, which read back exactly)."""
    doc = {
        "format": CACHE_FORMAT,
        "digest": digest,
        "scikit_learn": sklearn_version(),
        "vocab": {c: vocab.column(c).to_pylist() for c in vocab.column_names},
        "vectors": {c: vectors.column(c).to_pylist() for c in vectors.column_names},
    }
    return json.dumps(doc, indent=0) + "\n"


def _shipped_fit(digest: str) -> tuple[pa.Table, pa.Table] | None:
    """The shipped fit, when `digest` is the shipped runbooks' (with the shipped synonyms)."""
    try:
        with open(shipped_fit_path(), encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as exc:  # a package without it: fit as before
        log.debug("no shipped runbook index: %s", exc)
        return None
    if doc.get("format") != CACHE_FORMAT or doc.get("digest") != digest:
        return None
    vocab = pa.table({"term": pa.array(doc["vocab"]["term"], pa.string()), "idf": doc["vocab"]["idf"]})
    vectors = pa.table(
        {
            "runbook_id": pa.array(doc["vectors"]["runbook_id"], pa.string()),
            "term": pa.array(doc["vectors"]["term"], pa.string()),
            "weight": pa.array(doc["vectors"]["weight"], pa.float64()),
        }
    )
    return vocab, vectors


def sklearn_version() -> str:
    """The installed scikit-learn's version (as importlib.metadata gives it), or "none".

    Read from the `scikit_learn-VERSION.dist-info` directory next to the package, without
    importing importlib.metadata (tens of ms) on the warm path; importlib.metadata when
    that is not conclusive (another layout, several dist-infos)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.origin:
        return "none"
    infos = list(Path(spec.origin).parent.parent.glob("scikit_learn-*.dist-info"))
    if len(infos) == 1:
        return infos[0].name[len("scikit_learn-") : -len(".dist-info")]
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("scikit-learn")
    except PackageNotFoundError:
        return "none"


def _cache_paths(digest: str) -> tuple[str, str] | None:
    from netops_agent.settings import cache_dir

    root = cache_dir()
    if root is None:
        return None
    sk = sklearn_version()  # another scikit-learn may weigh differently: its fit is another entry
    key = hashlib.sha256(f"{CACHE_FORMAT}/{sk}/{digest}".encode()).hexdigest()[:32]
    base = os.path.join(root, f"tfidf-{key}")
    return base + ".vocab.arrow", base + ".vectors.arrow"


def _cached_fit(digest: str) -> tuple[pa.Table, pa.Table] | None:
    paths = _cache_paths(digest)
    if paths is None or not all(os.path.exists(p) for p in paths):
        return None
    try:  # Arrow IPC files (= Feather v2) through pyarrow.ipc: pyarrow.feather imports pandas' shim
        vocab, vectors = (_read_ipc(p) for p in paths)
    except (OSError, pa.ArrowException) as exc:  # a torn or foreign file: fit again
        log.debug("ignoring runbook index cache %s: %s", paths[0], exc)
        return None
    if vocab.column_names != ["term", "idf"] or vectors.column_names != ["runbook_id", "term", "weight"]:
        return None
    return vocab, vectors


def _read_ipc(path: str) -> pa.Table:
    with pa.ipc.open_file(path) as reader:
        return reader.read_all()


def _keep_fit(digest: str, vocab: pa.Table, vectors: pa.Table) -> None:
    """Write the fit next to earlier ones, atomically (a reader never sees half a file)."""
    paths = _cache_paths(digest)
    if paths is None:
        return
    try:
        os.makedirs(os.path.dirname(paths[0]), exist_ok=True)
        for path, table in zip(paths, (vocab, vectors), strict=True):
            tmp = f"{path}.{os.getpid()}.tmp"
            with pa.ipc.new_file(tmp, table.schema) as writer:
                writer.write_table(table)
            os.replace(tmp, path)
    except OSError as exc:  # read-only home, full disk: the cache is only an accelerator
        log.debug("runbook index not cached in %s: %s", os.path.dirname(paths[0]), exc)


def query_vector(terms: list[str], idf: dict[str, float]) -> tuple[list[str], np.ndarray]:
    """Terms of a query weighted as the fit weighted documents: (1 + ln tf) * idf, L2-normalised."""
    counts = Counter(t for t in terms if t in idf)
    if not counts:
        return [], np.zeros(0)
    names = sorted(counts)
    w = (1.0 + np.log(np.array([counts[t] for t in names], dtype=float))) * np.array([idf[t] for t in names])
    return names, w / np.linalg.norm(w)


class TfidfRetriever:
    """Cosine similarity between the query and the stored runbook vectors.

    The index is small (a few thousand (runbook, term, weight) rows) and read once, when
    the retriever is made (the vocabulary always was): a query is then scored in Python,
    with no statement (one cost ~5 ms, 15 of them a demo run). The score is what the SQL
    `sum(v.weight * q.qweight)` over `runbook_vectors JOIN query USING (term)` gave: the
    same products, added in the rows' stored order. DuckDB added them in an order its plan
    chose (a hash join's chains), so the sums may differ in the last bit or two; the
    ranking and the rounded scores were the same for all of 300 queries (the runbooks'
    own texts, the retrieval suite, random word mixes: tests/knowledge/test_retriever_sql.py)
    and the demo, the large case and the catalog. A retriever
    is a snapshot of the index it was made over: after `build_index` rebuilds it, make a
    new one (as `Services.open` does)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        vocab = store.arrow("SELECT term, idf FROM runbook_vocab")
        self._idf: dict[str, float] = dict(
            zip(vocab["term"].to_pylist(), vocab["idf"].to_pylist(), strict=True)
        )
        self._analyze, _ = current_analyzer()
        self._all = [
            (r["id"], r["title"], list(r["fault_types"]))
            for r in store.query("SELECT id, title, fault_types FROM runbooks ORDER BY id")
        ]
        self._about = {rb_id: (title, faults) for rb_id, title, faults in self._all}
        # term -> [(row number, runbook id, weight)], rows in stored order (a runbook the
        # `runbooks` table lacks never scores: the SQL joined it away).
        self._postings: dict[str, list[tuple[int, str, float]]] = {}
        vectors = store.arrow("SELECT runbook_id, term, weight FROM runbook_vectors")
        rows = zip(*(vectors[c].to_pylist() for c in ("runbook_id", "term", "weight")), strict=True)
        for n, (rb_id, term, weight) in enumerate(rows):
            if rb_id in self._about:
                self._postings.setdefault(term, []).append((n, rb_id, weight))

    def retrieve(self, text: str, k: int = 5) -> list[Hit]:
        top = self.scores(text)[: max(k, 0)]
        scored = [
            Hit(rb_id, self._about[rb_id][0], round(score, 4), list(self._about[rb_id][1]))
            for rb_id, score in top
        ]
        seen = {h.id for h in scored}
        rest = [Hit(i, t, 0.0, f) for i, t, f in self._all if i not in seen]
        return (scored + rest)[:k]

    def scores(self, text: str) -> list[tuple[str, float]]:
        """(runbook id, cosine similarity) of the runbooks that share a term with `text`,
        best first (ties by id), unrounded."""
        names, weights = query_vector(self._analyze(text), self._idf)
        products = [
            (n, rb_id, weight * qweight)
            for term, qweight in zip(names, weights.tolist(), strict=True)
            for n, rb_id, weight in self._postings.get(term, ())
        ]
        products.sort(key=lambda p: p[0])  # each runbook's sum in the rows' order
        sums: dict[str, float] = {}
        for _, rb_id, product in products:
            sums[rb_id] = sums.get(rb_id, 0.0) + product
        return sorted(sums.items(), key=lambda kv: (-kv[1], kv[0]))


def stored_runbooks(store: Store) -> dict[str, Runbook]:
    return {
        r["id"]: Runbook.model_validate_json(r["body"]) for r in store.query("SELECT id, body FROM runbooks")
    }
