"""Find and settle what a killed or interrupted writer left behind.

A command that changes the lab and its records (`run`, `solve`, `resume`, the `lab`
commands) sets the `meta` key `work_state` to `running <command> <pid>` before it
starts and to `done` when it finishes, all while holding the lab-writer lock
(`store.writer`: an flock the kernel drops when its process dies). So whoever holds
that lock later and still finds `running` knows that writer died (kill -9, power loss)
or was interrupted. `settle` (call it only under the lock) then, in one transaction:

- marks each ticket still `new`/`in_progress` with an `interrupted` event and a note
  (the incident's work was rolled back with its transaction; nothing of it was kept)
  and escalates it to a human with that note (nothing would pick it up again);
- closes incidents whose ticket is closed, and unlinks alerts from incident ids that
  were never written (both impossible with the current transactions: alerts, incidents
  and tickets are written together; kept for files written by older versions);
- clears the marker.

Per-incident transactions (see `pipeline.case`) keep the lab state and the tickets
consistent, so nothing else needs repair.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from netops_agent.store import Store
from netops_agent.store.db import utcnow

KEY = "work_state"


@dataclass
class Settled:
    command: str = ""
    tickets: list[str] = field(default_factory=list)
    incidents_closed: int = 0
    alerts_unlinked: int = 0

    def line(self) -> str:
        parts = [f"{len(self.tickets)} ticket(s) marked interrupted and escalated"]
        if self.tickets:
            parts[0] += f" ({', '.join(self.tickets[:5])}{', ...' if len(self.tickets) > 5 else ''})"
        if self.incidents_closed:
            parts.append(f"{self.incidents_closed} incident(s) closed with their tickets")
        if self.alerts_unlinked:
            parts.append(f"{self.alerts_unlinked} alert(s) unlinked from unwritten incidents")
        return f"an earlier `{self.command}` did not finish: " + "; ".join(parts)


def begin(store: Store, command: str) -> None:
    with store.transaction():
        store.set_meta(KEY, f"running {command} {os.getpid()}")


def finish(store: Store) -> None:
    with store.transaction():
        store.set_meta(KEY, "done")


def unfinished(store: Store) -> str | None:
    """The command that did not finish, or None."""
    if not store.migrated and "meta" not in store.tables():  # a reader of a file never written
        return None
    state = store.get_meta(KEY) or ""
    return state.split()[1] if state.startswith("running") and len(state.split()) > 1 else None


def settle(store: Store) -> Settled | None:
    """Mark what an unfinished writer left; None when the last writer finished."""
    command = unfinished(store)
    if command is None:
        return None
    out = Settled(command)
    now = utcnow()
    with store.transaction():
        stuck = store.query(
            "SELECT t.id, t.state FROM tickets t WHERE t.state IN ('new', 'in_progress') "
            "AND NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = t.id "
            "AND e.kind = 'interrupted') ORDER BY t.id"
        )
        note = (
            f"interrupted: `netops-agent {command}` stopped while this ticket was being worked; "
            "its work was rolled back (no change of it was kept). Look at the device."
        )
        for t in stuck:
            store.insert(
                "ticket_events",
                {
                    "ticket_id": t["id"],
                    "ts": now,
                    "kind": "interrupted",
                    "from_state": t["state"],
                    "to_state": t["state"],
                    "note": note,
                    "author": "netops-agent",
                },
            )
            # Hand it to a human: its work was rolled back, so nothing will pick it up again.
            store.execute(
                "UPDATE tickets SET state = 'escalated', escalation_reason = ?, updated_at = ?, "
                "closed_at = ? WHERE id = ?",
                [note, now, now, t["id"]],
            )
            store.insert(
                "ticket_events",
                {
                    "ticket_id": t["id"],
                    "ts": now,
                    "kind": "transition",
                    "from_state": t["state"],
                    "to_state": "escalated",
                    "note": note,
                    "author": "netops-agent",
                },
            )
            store.execute(
                "UPDATE incidents SET status = 'closed' "
                "WHERE id = (SELECT incident_id FROM tickets WHERE id = ?)",
                [t["id"]],
            )
            out.tickets.append(t["id"])
        out.incidents_closed = _count_and_run(
            store,
            "FROM incidents i WHERE i.status = 'open' AND EXISTS (SELECT 1 FROM tickets t WHERE "
            "t.incident_id = i.id AND t.state IN ('resolved', 'escalated', 'closed'))",
            "UPDATE incidents SET status = 'closed' WHERE id IN (SELECT i.id {where})",
        )
        out.alerts_unlinked = _count_and_run(
            store,
            "FROM alerts a WHERE a.incident_id IS NOT NULL "
            "AND a.incident_id NOT IN (SELECT id FROM incidents)",
            "UPDATE alerts SET incident_id = NULL WHERE id IN (SELECT a.id {where})",
        )
        store.set_meta(KEY, "done")
    return out


def _count_and_run(store: Store, where: str, update: str) -> int:
    n = int(store.scalar(f"SELECT count(*) {where}") or 0)
    if n:
        store.execute(update.format(where=where))
    return n


def status(store: Store) -> dict[str, Any]:
    return {"unfinished": unfinished(store)}
