"""The harness's per-case stores: a copy of one template per process, equal to a fresh store."""

from __future__ import annotations

import os
from typing import Any

from netops_agent.evaluation import casedb
from netops_agent.models import InjectedFault
from netops_agent.services import Services
from netops_agent.store import Store

CATALOG_VIEWS = {
    "duckdb_tables": "table_name, sql",
    "duckdb_columns": "table_name, column_name, column_index, data_type, column_default, is_nullable",
    "duckdb_constraints": "table_name, constraint_type, constraint_text, constraint_column_names",
    "duckdb_indexes": "table_name, index_name, sql",
    "duckdb_sequences": "sequence_name, start_value, increment_by, min_value, max_value, cycle",
    "duckdb_views": "view_name, sql",
}


def schema(store: Store) -> dict[str, list[Any]]:
    """Everything the catalog says about the store's default database."""
    db = store.scalar("SELECT current_database()")
    return {
        view: sorted(map(repr, store._fetch(f"SELECT {cols} FROM {view}() WHERE database_name = ?", [db])[1]))
        for view, cols in CATALOG_VIEWS.items()
    }


def contents(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows in stored order (schema_migrations without its timestamps)."""
    db = store.scalar("SELECT current_database()")
    names = [r["table_name"] for r in store.query(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? ORDER BY 1", [db])]  # fmt: skip
    return {
        t: store.query("SELECT version, name FROM schema_migrations ORDER BY version")
        if t == "schema_migrations"
        else store.query(f'SELECT * FROM "{t}"')
        for t in names
    }


def test_a_case_store_is_the_store_a_fresh_open_makes() -> None:
    with Store(":memory:") as fresh, casedb.case_stores("c1", None) as (svc, _truth):
        expected = Services.open(fresh, None)
        assert schema(svc.store) == schema(fresh)
        assert contents(svc.store) == contents(fresh)
        assert contents(svc.store)["runbook_vectors"]  # the index came along
        assert svc.runbooks == expected.runbooks
        # sequences start where a new database's do: the first ticket number is the same
        first_ticket = "SELECT nextval('ticket_seq')"
        assert svc.store.scalar(first_ticket) == fresh.scalar(first_ticket)


def test_cases_do_not_see_each_other() -> None:
    fault = InjectedFault(id="F1", type="interface_admin_down", target={"device": "r1"}, params={})
    with casedb.case_stores("first", None) as (svc, truth):
        svc.store.execute("INSERT INTO meta VALUES ('left-over', 'x')")
        first_ticket = svc.store.scalar("SELECT nextval('ticket_seq')")
        truth.record("first", [fault])
        assert truth.faults("first") == [fault]
    with casedb.case_stores("second", None) as (svc, truth):
        assert svc.store.get_meta("left-over") is None
        assert svc.store.scalar("SELECT nextval('ticket_seq')") == first_ticket
        assert truth.scopes() == []  # the first case's ground truth went with it
        # the agent's database holds no ground truth, under any catalog of its instance
        assert not svc.store.query("SELECT * FROM duckdb_tables() WHERE table_name = 'ground_truth'")


def test_one_template_per_process_reused_and_detached() -> None:
    with casedb.case_stores("a", None) as (svc, _):
        first = svc.store.scalar("SELECT current_database()")
    dbs = casedb._PROCESS[(os.getpid(), None)]
    with casedb.case_stores("b", None) as (svc, _):
        second = svc.store.scalar("SELECT current_database()")
        rows = svc.store.query("SELECT database_name FROM duckdb_databases()")
        attached = {r["database_name"] for r in rows}
    assert casedb._PROCESS[(os.getpid(), None)] is dbs
    assert first != second and first not in attached  # the earlier case's copy is gone
    assert casedb.TEMPLATE in attached


def test_a_second_thread_gets_stores_of_its_own() -> None:
    import threading

    seen: dict[str, str] = {}

    def other() -> None:
        with casedb.case_stores("t2", None) as (svc, _):
            seen["db"] = svc.store.scalar("SELECT current_database()")
            seen["tickets"] = str(svc.store.scalar("SELECT count(*) FROM tickets"))

    with casedb.case_stores("t1", None) as (svc, _):
        svc.store.execute("INSERT INTO meta VALUES ('busy', 'yes')")
        t = threading.Thread(target=other)
        t.start()
        t.join()
    # a fresh Store(":memory:") (a database of the process's instance), not a copy of the busy template
    assert seen["db"] != casedb.TEMPLATE and not seen["db"].startswith("case_")
    assert seen["tickets"] == "0"
