"""Approvals: a paused plan waiting for a human, stored in DuckDB with its diff.

An approval holds everything needed to carry the plan on later (runbook, context,
steps, diagnosis), so `netops-agent resume` works from the database alone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from netops_agent.errors import NetopsError, NotFoundError
from netops_agent.store import Store
from netops_agent.store.query import page


class ApprovalService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def request(
        self,
        *,
        incident_id: str,
        ticket_id: str,
        runbook_id: str,
        plan: dict[str, Any],
        diff: str,
        risk: str,
        reason: str,
        at: datetime,
    ) -> str:
        n = int(self.store.scalar("SELECT count(*) + 1 FROM approvals"))
        approval_id = f"A-{n:04d}"
        self.store.insert(
            "approvals",
            {
                "id": approval_id,
                "incident_id": incident_id,
                "ticket_id": ticket_id,
                "runbook_id": runbook_id,
                "plan": plan,
                "diff": diff,
                "risk": risk,
                "reason": reason,
                "state": "pending",
                "requested_at": at,
            },
        )
        return approval_id

    def get(self, approval_id: str) -> dict[str, Any]:
        row = self.store.query_one("SELECT * FROM approvals WHERE id = ?", [approval_id])
        if row is None:
            raise NotFoundError(f"no approval {approval_id}; list them with `netops-agent approvals`")
        return row

    def list(self, state: str | None = None, *, incident_id: str | None = None) -> list[dict[str, Any]]:
        filters = {"state": state, "incident_id": incident_id}
        return page(self.store, "SELECT * FROM approvals", filters, "id")

    def decide(self, approval_id: str, approve: bool, by: str, comment: str, at: datetime) -> dict[str, Any]:
        row = self.get(approval_id)
        if row["state"] != "pending":
            raise NetopsError(f"approval {approval_id} is already {row['state']}")
        state = "approved" if approve else "denied"
        self.store.execute(
            "UPDATE approvals SET state = ?, decided_at = ?, decided_by = ?, comment = ? WHERE id = ?",
            [state, at, by, comment, approval_id],
        )
        return self.get(approval_id)

    def expire(self, now: datetime, ttl_minutes: int) -> list[dict[str, Any]]:
        cutoff = now - timedelta(minutes=ttl_minutes)
        rows = self.store.query(
            "SELECT * FROM approvals WHERE state = 'pending' AND requested_at < ?", [cutoff]
        )
        for r in rows:
            self.store.execute(
                "UPDATE approvals SET state = 'expired', decided_at = ? WHERE id = ?", [now, r["id"]]
            )
        return rows

    def mark(self, approval_id: str, state: str) -> None:
        self.store.execute("UPDATE approvals SET state = ? WHERE id = ?", [state, approval_id])


def decide_and_note(
    store: Store, approval_id: str, approve: bool, by: str, comment: str, at: datetime
) -> dict[str, Any]:
    """A human's decision and the ticket's work note about it, in one transaction."""
    from netops_agent.tickets import TicketService

    with store.transaction():
        row = ApprovalService(store).decide(approval_id, approve, by, comment, at)
        TicketService(store).work_note(
            row["ticket_id"],
            f"Approval {approval_id} {row['state']} by {by}" + (f": {comment}" if comment else ""),
            at,
            kind="approval",
            author=by,
        )
    return row
