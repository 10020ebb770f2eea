"""Fewer statements, same records (issue 13): rows and ticket changes held back until their
transaction commits, values remembered between statements, migrations recorded at once.

Every test compares what is stored with what the one-statement-per-write path stored, or
shows a read inside the transaction seeing the held-back writes; statement counts come from
a wrapper around `Store._fetch` (every statement the store runs goes through it).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from netops_agent.errors import NetopsError
from netops_agent.models import Incident, Severity
from netops_agent.store import Store
from netops_agent.store.migrations import MIGRATIONS
from netops_agent.tickets import TicketService
from tests.helpers import statements

T0 = datetime(2026, 11, 30, 9, 0, 0)


def _event(n: int) -> dict[str, object]:
    return {
        "ticket_id": "T1",
        "ts": T0 + timedelta(seconds=n),
        "kind": "work_note",
        "note": f"n{n}",
        "data": {"n": n},
    }


def test_held_rows_are_one_statement_at_commit_with_the_ids_one_by_one_gives() -> None:
    one, held = Store(":memory:"), Store(":memory:")
    with one.transaction():
        for n in range(5):
            one.insert("ticket_events", _event(n))
    with statements(held) as seen, held.transaction():
        for n in range(5):
            held.append_rows("ticket_events", [_event(n)])
        assert seen == ["BEGIN TRANSACTION"]  # nothing written yet
    assert [s.split(" (")[0] for s in seen[1:]] == ['INSERT INTO "ticket_events"', "COMMIT"]
    rows = "SELECT * FROM ticket_events ORDER BY id"
    assert held.query(rows) == one.query(rows)
    assert [r["id"] for r in held.query(rows)] == [1, 2, 3, 4, 5]


def test_a_statement_naming_the_table_sees_the_held_rows_first() -> None:
    store = Store(":memory:")
    with store.transaction():
        store.append_rows("ticket_events", [_event(1), _event(2)])
        assert store.scalar("SELECT count(*) FROM ticket_events") == 2
        store.append_rows("ticket_events", [_event(3)])
        assert store.scalar("SELECT count(*) FROM tickets") == 0  # another table: still held
        assert store.query("SELECT note FROM ticket_events ORDER BY id")[-1] == {"note": "n3"}


def test_a_rollback_drops_the_held_rows_and_outside_a_transaction_they_go_at_once() -> None:
    store = Store(":memory:")
    with pytest.raises(RuntimeError), store.transaction():
        store.append_rows("ticket_events", [_event(1)])
        raise RuntimeError("crash before the commit")
    assert store.scalar("SELECT count(*) FROM ticket_events") == 0
    with statements(store) as seen:
        store.append_rows("ticket_events", [_event(2)])
    assert len(seen) == 1 and store.scalar("SELECT count(*) FROM ticket_events") == 1
    with store.transaction():  # the rollback left nothing behind to write
        pass
    assert store.scalar("SELECT count(*) FROM ticket_events") == 1


def test_a_failing_held_write_rolls_the_whole_transaction_back() -> None:
    store = Store(":memory:")
    with pytest.raises(NetopsError, match="ticket_events"), store.transaction():
        store.insert("tickets", {"id": "T1", "state": "new"})
        store.append_rows("ticket_events", [{"id": "not a number", "ticket_id": "T1"}])
    assert store.scalar("SELECT count(*) FROM tickets") == 0


def test_remembered_values_last_until_a_write_names_their_table(tmp_path: Path) -> None:
    mem = Store(":memory:")
    mem.remember("k", 41, tables=("tickets",))
    mem.query("SELECT * FROM tickets")  # a read changes nothing
    assert mem.recall("k") == 41
    with mem.transaction():
        mem.remember("k", 42, tables=("tickets",))
    assert mem.recall("k") == 42  # committed, and nothing else can write a private database
    mem.execute("UPDATE tickets SET state = 'x'")
    assert mem.recall("k") is None
    mem.remember("k", 43, tables=("tickets",))
    with pytest.raises(RuntimeError), mem.transaction():
        raise RuntimeError
    assert mem.recall("k") is None  # a rollback forgets everything
    with Store(tmp_path / "f.duckdb") as file:
        assert not file.private
        with file.transaction():
            file.remember("k", 1, tables=("tickets",))
            assert file.recall("k") == 1
        assert file.recall("k") is None  # another process may write the file between two


def _incident(n: int) -> Incident:
    return Incident(
        id=f"IM-{n:04d}", title=f"t{n}", summary=f"s{n}", severity=Severity.medium, device="leaf1"
    )


def _tickets_one_by_one(store: Store) -> None:
    """What TicketService wrote before issue 13's change: a statement per write, reading the
    ticket back at each transition (kept here as the reference)."""
    for n in (1, 2):
        with store.transaction():
            inc = _incident(n)
            store.insert("incidents", {"id": inc.id, "status": "open"})
            tid = f"INC{int(store.scalar('SELECT count(*) + 1 FROM tickets')):07d}"
            store.insert(
                "tickets",
                {
                    "id": tid,
                    "incident_id": inc.id,
                    "state": "new",
                    "severity": "medium",
                    "assignment_group": "network-operations",
                    "short_description": inc.title,
                    "created_at": T0,
                    "updated_at": T0,
                },
            )
            store.insert(
                "ticket_events",
                {
                    "ticket_id": tid,
                    "ts": T0,
                    "kind": "opened",
                    "from_state": None,
                    "to_state": "new",
                    "note": inc.summary,
                    "author": "netops-agent",
                    "data": {"incident": inc.id, "device": "leaf1", "interface": None},
                },
            )
    moves = [
        ("INC0000001", "in_progress", {}),
        ("INC0000001", "resolved", {"resolution": "fixed", "diagnosis": {"type": "x"}}),
        ("INC0000002", "in_progress", {}),
    ]
    with store.transaction():
        for k, (tid, to, fields) in enumerate(moves):
            at = T0 + timedelta(minutes=k + 1)
            cur = store.scalar("SELECT state FROM tickets WHERE id = ?", [tid])
            sets = {"state": to, "updated_at": at, **fields} | ({"closed_at": at} if to == "resolved" else {})
            store.execute(
                f"UPDATE tickets SET {', '.join(f'{c} = ?' for c in sets)} WHERE id = ?",
                [*(v if not isinstance(v, dict) else '{"type": "x"}' for v in sets.values()), tid],
            )
            store.insert(
                "ticket_events",
                {
                    "ticket_id": tid,
                    "ts": at,
                    "kind": "transition",
                    "from_state": cur,
                    "to_state": to,
                    "note": f"to {to}",
                    "author": "netops-agent",
                    "data": None,
                },
            )
            store.execute(
                "UPDATE incidents SET status = ? WHERE id = (SELECT incident_id FROM tickets WHERE id = ?)",
                ["closed" if to == "resolved" else "open", tid],
            )
            store.insert(
                "ticket_events",
                {
                    "ticket_id": tid,
                    "ts": at,
                    "kind": "work_note",
                    "from_state": to,
                    "to_state": to,
                    "note": "note",
                    "author": "netops-agent",
                    "data": None,
                },
            )


def test_ticket_changes_store_what_one_statement_per_write_stored() -> None:
    ref, store = Store(":memory:"), Store(":memory:")
    _tickets_one_by_one(ref)
    svc = TicketService(store)
    for n in (1, 2):
        with store.transaction():
            store.append_rows("incidents", [{"id": f"IM-{n:04d}", "status": "open"}])
            svc.open(_incident(n), T0)
    moves = [
        ("INC0000001", "in_progress", {}),
        ("INC0000001", "resolved", {"resolution": "fixed", "diagnosis": {"type": "x"}}),
        ("INC0000002", "in_progress", {}),
    ]
    with statements(store) as seen, store.transaction():
        for k, (tid, to, fields) in enumerate(moves):
            at = T0 + timedelta(minutes=k + 1)
            svc.transition(tid, to, f"to {to}", at, **fields)
            svc.work_note(tid, "note", at)
    # no ticket read back (this process wrote them); a private store holds the tickets,
    # their changes and the log rows until a read names them
    assert seen == ["BEGIN TRANSACTION", "COMMIT"]
    with statements(store) as later:
        for table in ("tickets", "incidents", "ticket_events"):
            sql = f"SELECT * FROM {table} ORDER BY id"
            assert store.query(sql) == ref.query(sql), table
    # the tickets go in with their changes merged (no UPDATE), the incidents' statuses in one
    assert sum(s.startswith('INSERT INTO "tickets"') for s in later) == 1
    assert not [s for s in later if s.startswith("UPDATE tickets")]
    assert sum(s.startswith("UPDATE incidents") for s in later) == 1
    assert sum(s.startswith('INSERT INTO "ticket_events"') for s in seen + later) == 1


def test_a_ticket_changed_behind_the_service_is_read_again() -> None:
    store = Store(":memory:")
    svc = TicketService(store)
    with store.transaction():
        tid = svc.open(_incident(1), T0)
    svc.transition(tid, "in_progress", "picked up", T0)
    store.execute("UPDATE tickets SET state = 'escalated' WHERE id = ?", [tid])  # say `recover`
    with pytest.raises(NetopsError, match="cannot go from escalated to resolved"):
        svc.transition(tid, "resolved", "fixed", T0)
    with store.transaction():  # a rolled-back transition leaves the ticket as it was
        svc.transition(TicketService(store).open(_incident(2), T0), "in_progress", "x", T0)
    with pytest.raises(RuntimeError), store.transaction():
        svc.transition("INC0000002", "resolved", "fixed", T0)
        raise RuntimeError
    assert svc.get("INC0000002")["state"] == "in_progress"
    svc.transition("INC0000002", "escalated", "handed over", T0)
    assert [e["to_state"] for e in svc.events("INC0000002")] == ["new", "in_progress", "escalated"]


def test_append_newer_remembers_the_latest_ts_it_appended() -> None:
    store = Store(":memory:")
    feed = [T0 + timedelta(seconds=s) for s in range(0, 60, 10)]

    def read(since: datetime | None) -> pa.Table:
        ts = [t for t in feed if since is None or t > since]
        return pa.table(
            {"ts": pa.array(ts, pa.timestamp("us")), "device": ["d"] * len(ts), "message": ["m"] * len(ts)}
        )

    assert store.append_newer("events", read) == 6
    feed += [T0 + timedelta(seconds=70)]
    with statements(store) as seen:
        assert store.append_newer("events", read) == 1
        assert store.append_newer("events", read) == 0
    assert not [s for s in seen if "max(ts)" in s]
    assert store.scalar("SELECT max(ts) FROM events") == feed[-1]
    store.execute("DELETE FROM events WHERE ts > ?", [T0 + timedelta(seconds=30)])  # forgets it
    assert store.append_newer("events", read) == 3
    assert store.scalar("SELECT count(*) FROM events") == 7


def test_migrations_are_recorded_with_one_statement(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    fetch = Store._fetch

    def counting(self: Store, sql: str, params: object = None) -> tuple[list[str], list[tuple]]:
        seen.append(sql)
        return fetch(self, sql, params)  # type: ignore[arg-type]

    monkeypatch.setattr(Store, "_fetch", counting)
    store = Store(":memory:")
    assert sum(s.startswith('INSERT INTO "schema_migrations"') for s in seen) == 1
    rows = store.query("SELECT version, name FROM schema_migrations ORDER BY version")
    assert [(r["version"], r["name"]) for r in rows] == sorted((v, n) for v, n, _ in MIGRATIONS)
