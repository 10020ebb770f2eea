"""`Store.like`: a run's stage made by copying the file's schema gives the database a
migrated `Store(":memory:")` would be: the same tables, columns, views, migrations."""

from __future__ import annotations

from pathlib import Path

from netops_agent.store import Store

_CATALOG = (
    "SELECT table_name, list(column_name ORDER BY column_index) FROM duckdb_columns() "
    "WHERE database_name = current_database() AND schema_name = 'main' GROUP BY table_name ORDER BY 1"
)
_DEFAULTS = (
    "SELECT table_name, column_name, column_default, data_type, is_nullable FROM duckdb_columns() "
    "WHERE database_name = current_database() ORDER BY 1, 2"
)
_OTHER = (
    "SELECT sql FROM duckdb_views() WHERE database_name = current_database() AND NOT internal "
    "UNION ALL SELECT sequence_name FROM duckdb_sequences() WHERE database_name = current_database() "
    "UNION ALL SELECT index_name FROM duckdb_indexes() WHERE database_name = current_database() ORDER BY 1"
)


def _catalog(store: Store) -> tuple:
    return (
        store.connection.execute(_CATALOG).fetchall(),
        store.connection.execute(_DEFAULTS).fetchall(),
        store.connection.execute(_OTHER).fetchall(),
        store.query("SELECT version, name FROM schema_migrations ORDER BY version"),
    )


def test_a_copied_schema_is_the_migrated_schema(tmp_path: Path) -> None:
    with Store(tmp_path / "f.duckdb") as file, Store(":memory:") as migrated:
        file.set_meta("k", "v")
        file.execute("SELECT nextval('ticket_event_seq')")  # a sequence moved on in the file
        with Store.like(file, compress=True) as stage:
            assert stage.private and stage.database() != file.database()
            assert _catalog(stage) == _catalog(migrated)
            assert stage.scalar("SELECT count(*) FROM meta") == 0  # the schema, not the rows
            # its sequences start where the file's stand (the stage moves them on anyway)
            assert stage.scalar("SELECT nextval('ticket_event_seq')") == 2


def test_a_store_that_cannot_be_shared_gives_a_migrated_store() -> None:
    with Store(":memory:") as memory, Store.like(memory) as stage:
        assert stage.tables() == memory.tables() and stage.database() != memory.database()


_KEYS = (
    "SELECT table_name, constraint_type FROM duckdb_constraints() WHERE database_name = current_database() "
    "AND constraint_type IN ('PRIMARY KEY', 'UNIQUE') ORDER BY 1, 2"
)


_KEPT = [("meta", "PRIMARY KEY"), ("schema_migrations", "PRIMARY KEY")]


def test_an_unkeyed_copy_keeps_the_columns_and_rows_and_loses_the_other_keys(tmp_path: Path) -> None:
    with Store(tmp_path / "f.duckdb") as file, Store(":memory:") as migrated:
        file.execute("SELECT nextval('ticket_event_seq')")
        with Store.like(file, keyed=False) as stage:
            tables, columns, other, versions = _catalog(stage)
            assert (tables, other, versions) == (_catalog(migrated)[0], *_catalog(migrated)[2:])
            # every column's type and default as they were; NOT NULL only where a key implied it
            keyed_columns = {(t, c) for t, c, *_ in _catalog(migrated)[1]}
            assert [r[:4] for r in columns] == [r[:4] for r in _catalog(migrated)[1]]
            assert {(t, c) for t, c, *_ in columns} == keyed_columns
            assert stage.connection.execute(_KEYS).fetchall() == _KEPT
            assert len(migrated.connection.execute(_KEYS).fetchall()) > 10  # there were keys to lose
            # the defaults still draw from the copied sequences; meta still upserts by its key
            stage.execute("INSERT INTO ticket_events (ticket_id, kind) VALUES ('INC1', 'opened')")
            assert stage.scalar("SELECT id FROM ticket_events") == 2
            stage.set_meta("k", "a")
            stage.set_meta("k", "b")
            assert stage.query("SELECT value FROM meta") == [{"value": "b"}]
        with Store(":memory:") as memory, Store.like(memory, keyed=False) as stage:  # the migrated path
            assert stage.connection.execute(_KEYS).fetchall() == _KEPT
