"""The fitted runbook index is kept in the cache directory and reused without scikit-learn.

The shipped runbooks come with their fit (tests/knowledge/test_shipped_index.py), so these
tests index a reworded copy of them, which has to be fitted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from netops_agent.knowledge import TfidfRetriever, build_index, load_runbooks
from netops_agent.store import Store

TABLES = ("runbooks", "runbook_vocab", "runbook_vectors")
TITLE = "Port shut by an operator"  # the first runbook's, reworded
REWORD = f"books[0] = books[0].model_copy(update={{'title': {TITLE!r}}})"  # the same, in a subprocess


def _books() -> list:
    """The shipped runbooks with one title reworded: no shipped fit is theirs."""
    books = load_runbooks()
    books[0] = books[0].model_copy(update={"title": TITLE})
    return books


def _snapshot(store: Store) -> dict[str, list[dict]]:
    order = {"runbooks": "id", "runbook_vocab": "term", "runbook_vectors": "runbook_id, term"}
    return {t: store.query(f"SELECT * FROM {t} ORDER BY {order[t]}") for t in TABLES}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("NETOPS_CACHE", str(root))
    return root


def test_a_new_database_gets_the_cached_fit_unchanged(cache: Path) -> None:
    books = _books()
    first = Store(":memory:")
    assert build_index(first, books) is True
    files = sorted(p.name for p in cache.iterdir())
    assert len(files) == 2 and all(f.startswith("tfidf-") and f.endswith(".arrow") for f in files)
    second = Store(":memory:")
    assert build_index(second, books) is True  # a new database still gets its tables
    assert _snapshot(second) == _snapshot(first)
    text = "BGP peer down, prefixes withdrawn"
    assert TfidfRetriever(second).retrieve(text) == TfidfRetriever(first).retrieve(text)


def test_a_warm_cache_needs_no_scikit_learn(cache: Path, tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from netops_agent.knowledge import build_index, load_runbooks\n"
        "from netops_agent.store import Store\n"
        "books = load_runbooks()\n"
        f"{REWORD}\n"
        "build_index(Store(':memory:'), books)\n"
        "print('sklearn' in sys.modules)\n"
    )
    env_run = lambda: subprocess.run(  # noqa: E731
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    ).stdout.strip()
    assert env_run() == "True"  # cold: the fit imports scikit-learn
    assert env_run() == "False"  # warm: read from the cache


def test_a_torn_cache_file_is_refitted_not_trusted(cache: Path) -> None:
    books = _books()
    reference = Store(":memory:")
    build_index(reference, books)
    for p in cache.iterdir():
        p.write_bytes(p.read_bytes()[:40])  # a crash mid-write of an older version
    store = Store(":memory:")
    build_index(store, books)
    assert _snapshot(store) == _snapshot(reference)


def test_changed_runbooks_are_a_new_entry(cache: Path, tmp_path: Path) -> None:
    books = _books()
    build_index(Store(":memory:"), books)
    changed = [books[0].model_copy(update={"title": "Node dark, no answer"}), *books[1:]]
    store = Store(":memory:")
    build_index(store, changed)
    assert len(list(cache.iterdir())) == 4
    assert store.scalar("SELECT title FROM runbooks WHERE id = ?", [books[0].id]) == "Node dark, no answer"


def test_cache_off_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETOPS_CACHE", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    build_index(Store(":memory:"), _books())
    assert not (tmp_path / "xdg").exists() and not (tmp_path / "home").exists()


def test_unwritable_cache_costs_time_not_a_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("NETOPS_CACHE", str(blocker / "cache"))
    store = Store(":memory:")
    assert build_index(store, _books()) is True
    assert store.scalar("SELECT count(*) FROM runbook_vectors") > 0


def test_the_cache_key_names_the_scikit_learn_that_importlib_metadata_names() -> None:
    """The key reads the version off the dist-info directory (no importlib.metadata on a warm
    run); it must be the version importlib.metadata reports, so earlier entries stay valid."""
    from importlib.metadata import version

    from netops_agent.knowledge.index import sklearn_version

    assert sklearn_version() == version("scikit-learn")


def test_a_fit_cached_in_feather_format_is_read(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Entries written through pyarrow.feather (before the cache used pyarrow.ipc) still load."""
    import pyarrow.feather as feather

    from netops_agent.knowledge import index

    books = _books()
    first = Store(":memory:")
    build_index(first, books)
    for path in cache.iterdir():
        table = feather.read_table(path)
        path.unlink()
        feather.write_feather(table, path, compression="uncompressed")

    def no_fit(*_: object) -> None:
        raise AssertionError("refitted: the feather entry was not read")

    monkeypatch.setattr(index, "_fit", no_fit)
    second = Store(":memory:")
    build_index(second, books)
    assert _snapshot(second) == _snapshot(first)
