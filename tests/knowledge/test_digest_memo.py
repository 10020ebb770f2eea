"""`services.runbooks_digest` is computed once per (runbooks file, analyzer) in a process:
the same value as `index_digest` of those runbooks, and another one when either changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from netops_agent import services
from netops_agent.knowledge import build_index, load_runbooks
from netops_agent.knowledge.index import HASH_KEY, index_digest
from netops_agent.knowledge.schema import default_path
from netops_agent.knowledge.text import SYNONYMS_ENV
from netops_agent.store import Store


def test_the_memo_gives_what_index_digest_gives_and_computes_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SYNONYMS_ENV, raising=False)
    services._digest.cache_clear()
    assert services.runbooks_digest(None) == index_digest(load_runbooks())
    calls: list[int] = []
    real = index_digest
    monkeypatch.setattr("netops_agent.knowledge.index.index_digest", lambda rb: calls.append(1) or real(rb))
    for _ in range(3):
        services.runbooks_digest(None)
    assert calls == []  # remembered


def test_other_runbooks_or_other_synonyms_give_another_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SYNONYMS_ENV, raising=False)
    shipped = services.runbooks_digest(None)
    mine = tmp_path / "runbooks.yaml"
    text = default_path().read_text()
    first_title = load_runbooks()[0].title
    mine.write_text(text.replace(first_title, first_title + " (edited)", 1))
    edited = services.runbooks_digest(mine)
    assert edited != shipped and edited == index_digest(load_runbooks(mine))
    syn = tmp_path / "syn.yaml"
    syn.write_text("words:\n  kaput: down\n")
    monkeypatch.setenv(SYNONYMS_ENV, str(syn))
    other = services.runbooks_digest(None)
    assert other not in (shipped, edited) and other == index_digest(load_runbooks())


def test_refresh_index_stores_the_remembered_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SYNONYMS_ENV, raising=False)
    store = Store(":memory:")
    assert services.refresh_index(store) is True
    assert store.get_meta(HASH_KEY) == index_digest(load_runbooks())
    assert services.refresh_index(store) is False  # up to date: not rebuilt
    assert build_index(store, load_runbooks()) is False
