"""`Store.clear` finds the tables that hold rows with one probe and deletes only from those
(issue 13: the probe is a UNION ALL of one-row scans), in its own database or an attached one."""

from __future__ import annotations

from pathlib import Path

from netops_agent.store import Store
from netops_agent.store.migrations import RUN_TABLES
from tests.helpers import statements


def _fill(store: Store, prefix: str = "") -> None:
    store.execute(f"INSERT INTO {prefix}tickets (id) VALUES ('T1'), ('T2')")
    store.execute(f"INSERT INTO {prefix}events (device, message) VALUES ('d', 'm')")


def test_only_the_tables_that_hold_rows_get_a_delete() -> None:
    store = Store(":memory:")
    _fill(store)
    store.execute("INSERT INTO meta VALUES ('k', 'v')")  # not cleared
    with statements(store) as seen:
        store.clear(RUN_TABLES)
    deletes = [s for s in seen if s.startswith("DELETE")]
    assert sorted(deletes) == ['DELETE FROM "events"', 'DELETE FROM "tickets"']
    assert len([s for s in seen if s.startswith("SELECT")]) == 1  # one probe for all tables
    assert store.table_counts()["tickets"] == 0 and store.table_counts()["events"] == 0
    assert store.get_meta("k") == "v"
    with statements(store) as again:
        store.clear(RUN_TABLES)
    assert not [s for s in again if s.startswith("DELETE")]  # a fresh database: no DELETE
    with statements(store) as none:
        store.clear(())
    assert [s for s in none if s not in ("BEGIN TRANSACTION", "COMMIT")] == []


def test_the_tables_of_an_attached_database(tmp_path: Path) -> None:
    with Store(tmp_path / "f.duckdb") as file:
        _fill(file)
        file.release()
        stage = Store.like(file)
        with stage.attached(file, "published") as there, statements(stage) as seen:
            stage.clear(RUN_TABLES, database=there)
        assert sorted(s for s in seen if s.startswith("DELETE")) == [
            f'DELETE FROM "{there}"."events"',
            f'DELETE FROM "{there}"."tickets"',
        ]
        stage.close()
        assert file.scalar("SELECT count(*) FROM tickets") == 0
