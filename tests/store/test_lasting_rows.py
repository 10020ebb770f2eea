"""Issue 13: log rows (`append_rows(..., log=True)`: audit rows, ticket events) on a private
store outlive their commit, still held, until a statement names their table, `flush()`, or
`connection`; what is stored (rows, ids, sequences) is what writing them at each commit stored,
and a rollback keeps exactly the committed rows. On any other store they go at the commit."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from netops_agent.audit import StoreRecorder
from netops_agent.models import Incident, Severity
from netops_agent.store import Store
from netops_agent.tickets import TicketService
from tests.helpers import statements

T0 = datetime(2026, 11, 30, 9, 0, 0)


def _call(n: int) -> dict[str, object]:
    return {"ts": T0 + timedelta(seconds=n), "incident_id": f"IM-{n % 3}", "tool": "show", "command": f"c{n}"}


def _inserts(seen: list[str], table: str) -> int:
    return sum(s.startswith(f'INSERT INTO "{table}"') for s in seen)


def _work(store: Store, log: bool) -> None:
    """Five transactions of tool calls and ticket events, one of them rolled back, one
    writing outside a transaction, and reads that name the tables in between."""
    for n in range(5):
        with store.transaction():
            store.append_rows("tool_calls", [_call(10 * n + k) for k in range(3)], log=log)
            store.append_rows("ticket_events", [{"ticket_id": "T1", "ts": T0, "note": f"n{n}"}], log=log)
        if n == 1:
            with pytest.raises(RuntimeError), store.transaction():
                store.append_rows("tool_calls", [_call(99)], log=log)
                assert store.scalar("SELECT count(*) FROM tool_calls") == 7  # sees everything held
                raise RuntimeError("this transaction rolls back")
        if n == 2:
            store.append_rows("tool_calls", [_call(50)], log=log)  # at once: after the held ones
        if n == 3:
            assert store.scalar("SELECT count(*) FROM ticket_events") == 4


def test_log_rows_store_what_writing_them_at_each_commit_stored() -> None:
    held, ref = Store(":memory:"), Store(":memory:")
    _work(ref, log=False)
    with statements(held) as seen:
        _work(held, log=True)
    # Five commits; tool_calls written in the rolled-back transaction (by its read), again
    # outside a transaction (the held ones first, then the new one), and not since.
    assert _inserts(seen, "tool_calls") == 3
    for table in ("tool_calls", "ticket_events"):
        sql = f"SELECT * EXCLUDE (id) FROM {table} ORDER BY id"
        assert held.query(sql) == ref.query(sql), table
    # The same order by id. DuckDB's sequences are not transactional: the ids the rolled-back
    # transaction drew for the committed rows it wrote are spent, so those rows, written
    # again, get later ones (as a rolled-back transaction's own rows leave a gap either way).
    assert held.query("SELECT id FROM ticket_events ORDER BY id") == ref.query(
        "SELECT id FROM ticket_events ORDER BY id"
    )
    with statements(held) as later:
        held.query("SELECT * FROM tool_calls")
    assert later == ["SELECT * FROM tool_calls"]  # nothing was left to write


def test_held_rows_take_their_ids_before_the_sequences_are_read() -> None:
    store = Store(":memory:")
    with store.transaction():
        store.append_rows("tool_calls", [_call(1), _call(2)], log=True)
    seq = (
        "SELECT last_value FROM duckdb_sequences() "
        "WHERE database_name = current_database() AND sequence_name = 'tool_call_seq'"
    )
    assert store.scalar(seq) is None  # not written yet: the sequence has not moved
    store.flush()
    assert store.scalar(seq) == 2
    assert store.scalar("SELECT count(*) FROM tool_calls") == 2


def test_a_rollback_after_writing_committed_rows_holds_them_again() -> None:
    store = Store(":memory:")
    with store.transaction():
        store.append_rows("tool_calls", [_call(1)], log=True)
    with pytest.raises(RuntimeError), store.transaction():
        store.append_rows("tool_calls", [_call(2)], log=True)
        store.flush()  # both written inside this transaction...
        raise RuntimeError
    with statements(store) as seen:  # ...the committed one is held again, written now
        rows = store.query("SELECT command FROM tool_calls ORDER BY id")
    assert rows == [{"command": "c1"}] and _inserts(seen, "tool_calls") == 1


def test_the_raw_connection_sees_every_held_row() -> None:
    store = Store(":memory:")
    with store.transaction():
        store.append_rows("ticket_events", [{"ticket_id": "T1", "note": "x"}], log=True)
    assert store.connection.execute("SELECT count(*) FROM ticket_events").fetchall() == [(1,)]


def test_rows_that_are_not_log_rows_go_at_the_commit() -> None:
    store = Store(":memory:")
    with statements(store) as seen, store.transaction():
        store.append_rows("tool_calls", [_call(1)], log=True)
        store.append_rows("tool_calls", [_call(2)])  # one buffer per table: now not lasting
    assert _inserts(seen, "tool_calls") == 1 and seen[-1] == "COMMIT"


def test_a_file_store_writes_log_rows_at_the_commit(tmp_path: Path) -> None:
    path = tmp_path / "f.duckdb"
    with Store(path) as store:
        assert not store.private
        with store.transaction():
            store.append_rows("tool_calls", [_call(1), _call(2)], log=True)
        store.release()
        with Store(path, read_only=True) as reader:  # another connection sees them at once
            assert reader.scalar("SELECT count(*) FROM tool_calls") == 2


def test_the_recorder_and_tickets_write_log_rows() -> None:
    """The audit recorder's and the ticket service's rows are log rows: held across commits
    on a private store (the run's stage)."""
    store = Store(":memory:")
    rec, tickets = StoreRecorder(store), TicketService(store)
    with statements(store) as seen:
        for n in range(3):
            with store.transaction():
                rec.tool_call({"ts": T0, "incident_id": "IM-1", "tool": "show", "params": {"n": n}})
                rec.decision({"ts": T0, "incident_id": "IM-1", "tool": "show", "decision": "allow"})
                rec.flush()
                rec.change({"ts": T0, "incident_id": "IM-1", "device": "d", "tool": "cfg"})
        with store.transaction():
            inc = Incident(id="IM-1", title="t", summary="s", severity=Severity.low, device="d")
            tid = tickets.open(inc, T0)
            tickets.work_note(tid, "note", T0)
    for table in ("tool_calls", "policy_decisions", "changes", "ticket_events"):
        assert _inserts(seen, table) == 0, table
    assert store.scalar("SELECT count(*) FROM tool_calls") == 3
    assert store.scalar("SELECT count(*) FROM changes") == 3
    assert store.scalar("SELECT count(*) FROM policy_decisions") == 3
    assert [e["kind"] for e in tickets.events(tid)] == ["opened", "work_note"]
