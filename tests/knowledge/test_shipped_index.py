"""The shipped runbooks' fit ships with them (`data/runbook-index.json`), so the first run
on a new machine indexes them without scikit-learn. It must be exactly what scikit-learn
fits now: `pytest tests/knowledge/test_shipped_index.py --update-golden` rewrites it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from netops_agent.knowledge import build_index, load_runbooks
from netops_agent.knowledge.index import _fit, _shipped_fit, fit_json, index_digest, shipped_fit_path
from netops_agent.knowledge.text import current_analyzer
from netops_agent.store import Store

FIX = (
    "the shipped runbook index is stale: rewrite it with "
    "`pytest tests/knowledge/test_shipped_index.py --update-golden`"
)


def test_the_shipped_fit_is_what_scikit_learn_fits_from_the_shipped_runbooks(update_golden: bool) -> None:
    books = load_runbooks()
    digest = index_digest(books)
    vocab, vectors = _fit(books, current_analyzer()[0])
    if update_golden:
        Path(shipped_fit_path()).write_text(fit_json(digest, vocab, vectors), encoding="utf-8")
    doc = json.loads(Path(shipped_fit_path()).read_text(encoding="utf-8"))
    assert doc["digest"] == digest, FIX  # the runbooks or the synonyms changed since
    shipped = _shipped_fit(digest)
    assert shipped is not None, FIX
    for fresh, kept, key, value in (
        (vocab, shipped[0], ["term"], "idf"),
        (vectors, shipped[1], ["runbook_id", "term"], "weight"),
    ):
        assert kept.column_names == fresh.column_names and kept.schema == fresh.schema
        for column in key:
            assert kept.column(column).to_pylist() == fresh.column(column).to_pylist(), FIX
        np.testing.assert_allclose(
            kept.column(value).to_numpy(), fresh.column(value).to_numpy(), rtol=1e-12, err_msg=FIX
        )


def test_the_first_index_on_a_new_machine_needs_no_scikit_learn(tmp_path: Path) -> None:
    # No cache at all (NETOPS_CACHE=off): the shipped fit is all there is, and it is what a
    # fit would store.
    code = (
        "import sys, json\n"
        "from netops_agent.knowledge import build_index, load_runbooks\n"
        "from netops_agent.store import Store\n"
        "store = Store(':memory:')\n"
        "build_index(store, load_runbooks())\n"
        "count = store.scalar('SELECT count(*) FROM runbook_vectors')\n"
        "print(json.dumps(['sklearn' in sys.modules, count]))\n"
    )
    env = {**os.environ, "NETOPS_CACHE": "off"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path, env=env
    )
    imported, vectors = json.loads(out.stdout)
    assert imported is False
    assert vectors == _fit(load_runbooks(), current_analyzer()[0])[1].num_rows


def test_changed_runbooks_are_fitted_not_given_the_shipped_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETOPS_CACHE", "off")
    books = load_runbooks()
    books[0] = books[0].model_copy(update={"symptoms": "every packet dropped at the far end"})
    assert _shipped_fit(index_digest(books)) is None
    store = Store(":memory:")
    build_index(store, books)
    fresh = _fit(books, current_analyzer()[0])[0]
    stored = store.query("SELECT term FROM runbook_vocab ORDER BY term")
    assert [r["term"] for r in stored] == sorted(fresh.column("term").to_pylist())
    assert "far end" in {r["term"] for r in stored}  # the new words are indexed
