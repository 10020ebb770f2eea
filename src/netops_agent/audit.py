"""The audit trail: tool calls and changes written to DuckDB as they happen (append-only)."""

from __future__ import annotations

import json
from typing import Any

from netops_agent.store import Store
from netops_agent.tools.executor import Recorder


class StoreRecorder(Recorder):
    """Buffers audit rows and hands them to the store in bulk when an incident's step ends.

    Changes go to the store at once. Inside a transaction (the case pipeline makes one
    per incident) the store holds every row back and writes each table's rows with one
    statement just before the commit, so the rows commit with the work they describe
    (`Store.append_rows`); outside one, they are written when handed over. They are log
    rows: a private store (a staged run) may hold them across commits, until a statement
    names their table.
    """

    JSON_COLUMNS = {"params", "parsed"}

    def __init__(self, store: Store) -> None:
        self.store = store
        self._rows: dict[str, list[dict[str, Any]]] = {"tool_calls": [], "policy_decisions": []}

    def tool_call(self, row: dict[str, Any]) -> None:
        self._rows["tool_calls"].append(row)

    def change(self, row: dict[str, Any]) -> None:
        self.flush()
        self.store.append_rows("changes", [row], log=True)

    def decision(self, row: dict[str, Any]) -> None:
        self._rows["policy_decisions"].append(row)

    def flush(self) -> None:
        with self.store.transaction():
            for table, rows in self._rows.items():
                if not rows:
                    continue
                self.store.append_rows(
                    table,
                    [{c: _cell(v, c in self.JSON_COLUMNS) for c, v in r.items()} for r in rows],
                    log=True,
                )
                rows.clear()


def _cell(value: Any, as_json: bool) -> Any:
    if as_json:
        return None if value is None else json.dumps(value, default=str)
    return value


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
