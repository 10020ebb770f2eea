"""The audit trail: tool calls and changes written to DuckDB as they happen (append-only)."""

from __future__ import annotations

from typing import Any

from netops_agent.store import Store
from netops_agent.tools.executor import Recorder


class StoreRecorder(Recorder):
    def __init__(self, store: Store) -> None:
        self.store = store

    def tool_call(self, row: dict[str, Any]) -> None:
        self.store.insert("tool_calls", row)

    def change(self, row: dict[str, Any]) -> None:
        self.store.insert("changes", row)

    def decision(self, row: dict[str, Any]) -> None:
        self.store.insert("policy_decisions", row)


def timeline(store: Store, ref: str) -> list[dict[str, Any]]:
    """Every recorded step of one incident (or its ticket), in order."""
    from netops_agent.errors import NotFoundError

    row = store.query_one("SELECT incident_id, id FROM tickets WHERE id = ? OR incident_id = ?", [ref, ref])
    if row is None:
        raise NotFoundError(f"no incident or ticket {ref!r}; see `netops-agent show-db --table tickets`")
    inc, tid = row["incident_id"], row["id"]
    parts = [
        store.query(
            "SELECT ts, 'tool_call' AS kind, device, command AS what, status, id AS seq "
            "FROM tool_calls WHERE incident_id = ?",
            [inc],
        ),
        store.query(
            "SELECT ts, 'policy' AS kind, device, tool || ': ' || reason AS what, decision AS status, "
            "0 AS seq FROM policy_decisions WHERE incident_id = ?",
            [inc],
        ),
        store.query(
            "SELECT ts, 'change' AS kind, device, tool || ' ' || coalesce(lines, '') AS what, status, "
            "id AS seq FROM changes WHERE incident_id = ?",
            [inc],
        ),
        store.query(
            "SELECT requested_at AS ts, 'approval' AS kind, NULL AS device, "
            "id || ' ' || reason AS what, state AS status, 0 AS seq FROM approvals WHERE incident_id = ?",
            [inc],
        ),
        store.query(
            "SELECT ts, 'ticket:' || kind AS kind, NULL AS device, note AS what, to_state AS status, "
            "id AS seq FROM ticket_events WHERE ticket_id = ?",
            [tid],
        ),
    ]
    events = [e for p in parts for e in p]
    events.sort(key=lambda e: (e["ts"], e["seq"]))
    return events
