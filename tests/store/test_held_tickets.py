"""Issue 13: ticket rows, their changes and their incidents' statuses are held back as a
journal (`tickets.service._Writes`, `_Statuses`); on a private store (a staged run) they
outlive their commit, so a run's tickets go in with one INSERT (changes merged, no UPDATE)
and the incidents' statuses with one UPDATE. What is stored is what the same work stores on
a file store, where they are written at every commit; a rollback keeps exactly what committed,
and a read inside a transaction sees every held change."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from netops_agent.models import Incident, Severity
from netops_agent.store import Store
from netops_agent.tickets import TicketService
from tests.helpers import statements

T0 = datetime(2026, 11, 30, 9, 0, 0)


def _incident(n: int) -> Incident:
    return Incident(id=f"IM-{n:04d}", title=f"t{n}", summary=f"s{n}", severity=Severity.high, device="leaf1")


def _open(store: Store, svc: TicketService, n: int) -> str:
    inc = _incident(n)
    store.append_rows("incidents", [{"id": inc.id, "title": inc.title, "status": "open", "opened_at": T0}])
    return svc.open(inc, T0 + timedelta(seconds=n))


def _work(store: Store) -> list[object]:
    """Opens, transitions, notes, a rolled-back transaction that read the held changes, and
    a ticket opened and moved in one transaction; returns what the reads in between saw."""
    svc = TicketService(store)
    seen: list[object] = []
    with store.transaction():
        a, b = _open(store, svc, 1), _open(store, svc, 2)
    with store.transaction():
        svc.transition(a, "in_progress", "picked up", T0 + timedelta(minutes=1))
        svc.work_note(a, "looking", T0 + timedelta(minutes=2), data={"k": [1, 2]})
    with store.transaction():
        svc.transition(
            a,
            "resolved",
            "fixed",
            T0 + timedelta(minutes=3),
            runbook_id="rb-1",
            diagnosis={"type": "x", "target": {"device": "leaf1"}},
            resolution="fixed",
            causes=[{"type": "x"}],
        )
    with pytest.raises(RuntimeError), store.transaction():
        svc.transition(b, "in_progress", "picked up", T0 + timedelta(minutes=4))
        seen.append(store.query("SELECT id, state, closed_at FROM tickets ORDER BY id"))
        seen.append(store.query("SELECT id, status FROM incidents ORDER BY id"))
        raise RuntimeError("this transaction rolls back")
    seen.append(svc.get(b)["state"])
    seen.append(store.query("SELECT id, status FROM incidents ORDER BY id"))
    with store.transaction():
        svc.escalate(
            b, "nobody knows", T0 + timedelta(minutes=5), group="noc", runbook_id=None, diagnosis=None
        )
    with store.transaction():
        c = _open(store, svc, 3)
        svc.transition(c, "in_progress", "picked up", T0 + timedelta(minutes=6))
        svc.transition(c, "closed", "gone", T0 + timedelta(minutes=7), resolution="gone")
        seen.append(store.query("SELECT id, status FROM incidents ORDER BY id"))  # its row, then its status
    with store.transaction():
        d = _open(store, svc, 4)
    svc.transition(d, "in_progress", "outside a transaction", T0 + timedelta(minutes=8))
    return seen


def _stored(store: Store) -> dict[str, list[dict[str, object]]]:
    return {
        "tickets": store.query("SELECT * FROM tickets"),  # stored order: no ORDER BY
        "incidents": store.query("SELECT * FROM incidents"),
        "ticket_events": store.query("SELECT * EXCLUDE (id) FROM ticket_events ORDER BY id"),
    }


def test_a_private_store_stores_what_a_file_store_stores(tmp_path: Path) -> None:
    held = Store(":memory:")
    assert held.private
    with Store(tmp_path / "f.duckdb") as file:
        assert not file.private
        assert _work(held) == _work(file)
        assert _stored(held) == _stored(file)
    tickets = {r["id"]: r for r in _stored(held)["tickets"]}
    assert [t["state"] for t in tickets.values()] == ["resolved", "escalated", "closed", "in_progress"]
    assert tickets["INC0000001"]["closed_at"] == T0 + timedelta(minutes=3)
    assert [r["status"] for r in held.query("SELECT status FROM incidents ORDER BY id")] == [
        "closed",
        "closed",
        "closed",
        "open",
    ]


def test_a_read_inside_a_rolled_back_transaction_saw_the_held_changes(tmp_path: Path) -> None:
    seen = _work(Store(":memory:"))
    assert seen[0] == [
        {"id": "INC0000001", "state": "resolved", "closed_at": T0 + timedelta(minutes=3)},
        {"id": "INC0000002", "state": "in_progress", "closed_at": None},
    ]
    assert seen[1] == [{"id": "IM-0001", "status": "closed"}, {"id": "IM-0002", "status": "open"}]
    assert seen[2] == "new"  # the rolled-back transition is gone; the committed ones stay
    assert seen[3] == [{"id": "IM-0001", "status": "closed"}, {"id": "IM-0002", "status": "open"}]
    assert [r["status"] for r in seen[4]] == ["closed", "closed", "closed"]  # type: ignore[attr-defined]


def test_a_private_store_writes_a_run_of_tickets_with_one_insert_and_no_update() -> None:
    store = Store(":memory:")
    svc = TicketService(store)
    with statements(store) as seen:
        with store.transaction():
            ids = [_open(store, svc, n) for n in range(1, 6)]
        for n, tid in enumerate(ids):  # one transaction per incident, as the pipeline's
            with store.transaction():
                svc.transition(tid, "in_progress", "picked up", T0)
                svc.transition(tid, "resolved" if n % 2 else "escalated", "done", T0, resolution="r")
    assert not [s for s in seen if s.startswith(('INSERT INTO "tickets"', "UPDATE"))]  # all held
    with statements(store) as later:
        rows = store.query("SELECT id, state FROM tickets ORDER BY id")
        states = store.query("SELECT status FROM incidents")
    assert [r["state"] for r in rows] == ["escalated", "resolved", "escalated", "resolved", "escalated"]
    assert {r["status"] for r in states} == {"closed"}
    assert sum(s.startswith('INSERT INTO "tickets"') for s in later) == 1
    assert sum(s.startswith("UPDATE incidents") for s in later) == 1
    assert not [s for s in later if s.startswith("UPDATE tickets")]


def test_a_rollback_after_the_held_tickets_were_written_holds_the_committed_ones_again() -> None:
    store = Store(":memory:")
    svc = TicketService(store)
    with store.transaction():
        tid = _open(store, svc, 1)
    with store.transaction():
        svc.transition(tid, "in_progress", "picked up", T0)
    with pytest.raises(RuntimeError), store.transaction():
        svc.transition(tid, "resolved", "fixed", T0, resolution="fixed")
        store.flush()  # everything held written inside this transaction...
        raise RuntimeError
    # ...and undone with it: the committed ticket and change are held again, written now
    assert store.query("SELECT id, state, resolution FROM tickets") == [
        {"id": tid, "state": "in_progress", "resolution": None}
    ]
    assert store.scalar("SELECT status FROM incidents") == "open"


def test_no_column_of_tickets_has_a_default() -> None:
    """`_aligned` gives a held ticket row NULL in every column another row set and it did
    not: the same as leaving the column out only while no column has a default."""
    store = Store(":memory:")
    defaults = store.query(
        "SELECT column_name, column_default FROM duckdb_columns() "
        "WHERE database_name = current_database() AND table_name = 'tickets' AND column_default IS NOT NULL"
    )
    assert defaults == []
