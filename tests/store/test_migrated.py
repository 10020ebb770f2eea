"""`Store.migrated`: a store that migrated its database on open has every table of the
schema, so `recovery.unfinished` reads its mark without asking the catalog first; a
reader of a file nobody wrote still gets None, not an error."""

from __future__ import annotations

from pathlib import Path

import duckdb

from netops_agent import recovery
from netops_agent.store import Store
from tests.helpers import statements


def test_a_migrated_store_reads_the_mark_without_listing_tables(tmp_path: Path) -> None:
    with Store(tmp_path / "a.duckdb") as store:
        assert store.migrated
        recovery.begin(store, "run")
        with statements(store) as seen:
            assert recovery.unfinished(store) == "run"
        assert not any("information_schema" in s for s in seen)
        like = Store.like(store)
        assert like.migrated and recovery.unfinished(like) is None  # meta copied empty of marks
        like.close()
    with Store(tmp_path / "a.duckdb", read_only=True) as reader:
        assert not reader.migrated
        assert recovery.unfinished(reader) == "run"


def test_a_reader_of_an_empty_file_finds_no_mark(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()  # a DuckDB file with no tables
    with Store(path, read_only=True) as reader:
        assert not reader.migrated and reader.tables() == []
        assert recovery.unfinished(reader) is None
    con = duckdb.connect(":memory:")
    attached = Store.attach(con, ":memory:")  # a caller's connection: nothing migrated
    assert not attached.migrated and recovery.unfinished(attached) is None
