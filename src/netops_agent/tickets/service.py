"""Ticket lifecycle in DuckDB: every transition and work note is a `ticket_events` row
written in the same transaction as the ticket change it describes.

new -> in_progress -> resolved | escalated | awaiting_approval | closed (no fault found)
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Any, Protocol

from netops_agent.errors import NetopsError, NotFoundError
from netops_agent.models import Incident
from netops_agent.store import Store
from netops_agent.store.db import Journal

STATES = ("new", "in_progress", "awaiting_approval", "resolved", "escalated", "closed")
FINAL = {"resolved", "escalated", "closed"}
ALLOWED = {
    "new": {"in_progress", "escalated", "closed"},
    "in_progress": {"resolved", "escalated", "awaiting_approval", "closed"},
    "awaiting_approval": {"in_progress", "escalated"},
    "resolved": set(),
    "escalated": set(),
    "closed": set(),
}
AGENT = "netops-agent"

# Progress observers (the CLI's incident counter): called with ("opened" | "done", ticket id).
# Kept out of the records; an observer must be cheap and never raise.
OBSERVERS: list[Callable[[str, str], None]] = []


def _notify(event: str, ticket_id: str) -> None:
    for fn in OBSERVERS:
        fn(event, ticket_id)


class TicketSink(Protocol):
    def open(self, incident: Incident, at: datetime) -> str: ...

    def transition(self, ticket_id: str, to_state: str, note: str, at: datetime, **fields: Any) -> None: ...

    def work_note(self, ticket_id: str, note: str, at: datetime, data: Any = None) -> None: ...


class TicketService:
    """Tickets stored in the same DuckDB file as everything else."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def open(self, incident: Incident, at: datetime, *, group: str = "network-operations") -> str:
        with self.store.transaction():
            # Numbered within the run (runs start afresh), so the same run gives the same ids.
            seq = self.store.recall(_COUNT)
            if seq is None:
                seq = int(self.store.scalar("SELECT count(*) FROM tickets"))
            seq += 1
            ticket_id = f"INC{seq:07d}"
            self._writes().new(
                {
                    "id": ticket_id,
                    "incident_id": incident.id,
                    "state": "new",
                    "severity": incident.severity.value,
                    "assignment_group": group,
                    "short_description": incident.title,
                    "created_at": at,
                    "updated_at": at,
                }
            )
            self.store.remember(_COUNT, seq, tables=_TABLES)
            self.store.remember(("ticket", ticket_id), ("new", incident.id), tables=_TABLES)
            self._event(
                ticket_id,
                at,
                "opened",
                None,
                "new",
                incident.summary,
                data={"incident": incident.id, "device": incident.device, "interface": incident.interface},
            )
        _notify("opened", ticket_id)
        return ticket_id

    def get(self, ticket_id: str) -> dict[str, Any]:
        row = self.store.query_one("SELECT * FROM tickets WHERE id = ?", [ticket_id])
        if row is None:
            raise NotFoundError(
                f"no ticket {ticket_id}; list them with `netops-agent show-db --table tickets`"
            )
        return row

    def transition(
        self,
        ticket_id: str,
        to_state: str,
        note: str,
        at: datetime,
        *,
        author: str = AGENT,
        data: Any = None,
        **fields: Any,
    ) -> None:
        """Move a ticket to `to_state` with a note; extra fields update the ticket row."""
        with self.store.transaction():
            current, incident_id = self._known(ticket_id)
            if to_state not in ALLOWED[current]:
                raise NetopsError(f"ticket {ticket_id}: cannot go from {current} to {to_state}")
            sets = {"state": to_state, "updated_at": at, **fields}
            if to_state in FINAL:
                sets["closed_at"] = at
            self._writes().set(ticket_id, {k: _json(v) for k, v in sets.items()})
            self._event(ticket_id, at, "transition", current, to_state, note, author=author, data=data)
            # The incident closes with its ticket, in the same transaction (`doctor` checks it).
            if incident_id is not None:
                self._statuses().entries.append((incident_id, "closed" if to_state in FINAL else "open"))
            self.store.remember(("ticket", ticket_id), (to_state, incident_id), tables=_TABLES)
        if to_state in FINAL or to_state == "awaiting_approval":
            _notify("done", ticket_id)

    def escalate(
        self,
        ticket_id: str,
        reason: str,
        at: datetime,
        *,
        group: str,
        runbook_id: str | None,
        diagnosis: Any,
        data: Any = None,
        **fields: Any,
    ) -> None:
        """Hand the ticket to a human group, the reason as both note and escalation reason."""
        self.transition(
            ticket_id,
            "escalated",
            reason,
            at,
            escalation_reason=reason,
            assignment_group=group,
            runbook_id=runbook_id,
            diagnosis=diagnosis,
            data=data,
            **fields,
        )

    def work_note(
        self,
        ticket_id: str,
        note: str,
        at: datetime,
        *,
        data: Any = None,
        kind: str = "work_note",
        author: str = AGENT,
    ) -> None:
        with self.store.transaction():
            state, _ = self._known(ticket_id)
            self._event(ticket_id, at, kind, state, state, note, author=author, data=data)

    def list(self, state: str | None = None, limit: int = 500, offset: int = 0) -> list[dict[str, Any]]:
        """Tickets by id, optionally only those in one state."""
        where = " WHERE state = ?" if state else ""
        params: list[Any] = [state] if state else []
        return self.store.query(
            f"SELECT * FROM tickets{where} ORDER BY id LIMIT ? OFFSET ?", [*params, limit, offset]
        )

    def events(self, ticket_id: str) -> list[dict[str, Any]]:
        return self.store.query("SELECT * FROM ticket_events WHERE ticket_id = ? ORDER BY id", [ticket_id])

    def _event(
        self,
        ticket_id: str,
        at: datetime,
        kind: str,
        from_state: str | None,
        to_state: str,
        note: str,
        *,
        author: str = AGENT,
        data: Any = None,
    ) -> None:
        self.store.append_rows(  # with the ticket's change, before its transaction commits
            "ticket_events",
            [
                {
                    "ticket_id": ticket_id,
                    "ts": at,
                    "kind": kind,
                    "from_state": from_state,
                    "to_state": to_state,
                    "note": note,
                    "author": author,
                    "data": data,
                }
            ],
            log=True,
        )

    def _known(self, ticket_id: str) -> tuple[str, str | None]:
        """The ticket's state and incident: as this process last wrote or read them while
        the store remembers them (`Store.remember`), else read."""
        known = self.store.recall(("ticket", ticket_id))
        if known is None:
            row = self.store.query_one("SELECT state, incident_id FROM tickets WHERE id = ?", [ticket_id])
            if row is None:
                raise NotFoundError(
                    f"no ticket {ticket_id}; list them with `netops-agent show-db --table tickets`"
                )
            known = (row["state"], row["incident_id"])
            self.store.remember(("ticket", ticket_id), known, tables=_TABLES)
        return known

    def _writes(self) -> _Writes:
        return self._held(_WRITES, _Writes)  # type: ignore[return-value]

    def _statuses(self) -> _Statuses:
        return self._held(_STATUSES, _Statuses)  # type: ignore[return-value]

    def _held(self, key: Hashable, kind: type[Journal]) -> Journal:
        """This store's journal `key` (lasting on a private store), made on first use."""
        private = self.store.private
        held = self.store.behind(key, lambda: kind(lasting=private))
        assert held is not None, "ticket writes are made inside a transaction"
        return held  # type: ignore[return-value]


_TABLES = ("tickets",)  # what the remembered ticket states and count are read from
_COUNT = ("tickets", "count")
_WRITES = "tickets"  # one buffer per store, whichever TicketService writes: changes keep their order
_STATUSES = ("tickets", "incident status")


class _Writes(Journal):
    """Ticket rows and changes held back (`Store.behind`) as a journal of entries, a new
    ticket's row or a change of a ticket's fields, written (`flush`) as the changes one by
    one would leave the rows: a ticket opened while held goes in as one row with its changes
    merged in order (no UPDATE), every other changed ticket gets one UPDATE of its fields
    merged in order. On a `private` store (a staged run) they are lasting: a run's 15
    incidents write their tickets with one INSERT, before the first statement that names
    `tickets` (a rollback keeps what committed: `Journal`). The states and count the service
    remembers are those after these writes (`keeps`)."""

    tables = _TABLES
    keeps = _TABLES

    def new(self, row: dict[str, Any]) -> None:
        self.entries.append(("new", row["id"], row))

    def set(self, ticket_id: str, fields: dict[str, Any]) -> None:
        self.entries.append(("set", ticket_id, fields))

    def flush(self, store: Store) -> None:
        rows: list[dict[str, Any]] = []
        opened: dict[str, dict[str, Any]] = {}
        sets: dict[str, dict[str, Any]] = {}
        for kind, key, value in self.entries:
            if kind == "new":
                opened[key] = dict(value)
                rows.append(opened[key])
            else:
                target = opened.get(key)
                (sets.setdefault(key, {}) if target is None else target).update(value)
        if rows:
            store.insert_rows("tickets", _aligned(rows))
        for ticket_id, fields in sets.items():
            cols = ", ".join(f'"{k}" = ?' for k in fields)
            store.execute(f"UPDATE tickets SET {cols} WHERE id = ?", [*fields.values(), ticket_id])


class _Statuses(Journal):
    """The incidents' statuses their tickets' changes set (open or closed), held back as a
    journal of (incident, status) and written with one UPDATE (the last status of each);
    lasting on a `private` store, as `_Writes`. A buffer of its own: only a statement that
    names `incidents` needs them written first; written after the incident rows held with
    them (`phase`), which they change."""

    tables = ("incidents",)
    phase = 1

    def flush(self, store: Store) -> None:
        status = dict(self.entries)
        if len(status) == 1:
            [(incident_id, state)] = status.items()
            store.execute("UPDATE incidents SET status = ? WHERE id = ?", [state, incident_id])
        elif status:
            store.execute(
                "UPDATE incidents SET status = u.status FROM (SELECT unnest(?::VARCHAR[]) AS id, "
                "unnest(?::VARCHAR[]) AS status) AS u WHERE incidents.id = u.id",
                [list(status), list(status.values())],
            )


def _aligned(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with the same columns, in the same order (a column a row lacks is NULL, as
    it is in a ticket row never given one: no column of `tickets` has a default), so they
    go in with one statement (`Store.insert_rows` makes one per run of rows alike)."""
    cols = list(dict.fromkeys(c for row in rows for c in row))
    return [{c: row.get(c) for c in cols} for row in rows]


def _json(v: Any) -> Any:
    import json

    return json.dumps(v, default=str) if isinstance(v, (dict, list)) else v
