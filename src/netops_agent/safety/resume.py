"""Carry paused incidents on after humans decided on their approvals (`netops-agent resume`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from netops_agent.agent import Agent, AgentConfig, Outcome
from netops_agent.audit import StoreRecorder
from netops_agent.lab.base import NetworkView
from netops_agent.models import Incident, Severity, Suspect
from netops_agent.safety.approvals import ApprovalService
from netops_agent.safety.policy import Policy
from netops_agent.services import Services
from netops_agent.store import Store


@dataclass
class ResumeResult:
    approval_id: str
    state: str
    outcome: Outcome


def load_incident(store: Store, incident_id: str) -> Incident:
    r = store.query_one("SELECT * FROM incidents WHERE id = ?", [incident_id])
    if r is None:
        from netops_agent.errors import NotFoundError

        raise NotFoundError(f"no incident {incident_id} in {store.path}")
    suspects = json.loads(r["suspects"]) if r["suspects"] else []
    return Incident(
        id=r["id"],
        title=r["title"],
        summary=r["summary"],
        severity=Severity(r["severity"]),
        device=r["device"],
        interface=r["interface"],
        peer=r["peer"],
        prefix=r.get("prefix"),
        suspects=[Suspect(**s) for s in suspects],
        alerts=r["alerts"] or 0,
    )


def resume_decided(
    store: Store,
    view: NetworkView,
    services: Services,
    policy: Policy,
    config: AgentConfig | None = None,
    *,
    commit_with: Callable[[], object] | None = None,
) -> list[ResumeResult]:
    """Expire stale approvals, then resume every decided approval whose ticket still waits.

    Each one is a unit of record: the ticket's transition, the approval's `executed` mark
    and whatever `commit_with()` writes (the caller saves the lab state the change
    produced) commit in one transaction.
    """
    approvals = ApprovalService(store)
    approvals.expire(view.now(), policy.approval_ttl_minutes)
    agent = Agent(
        view,
        retriever=services.retriever,
        runbooks=services.runbooks,
        tickets=services.tickets,
        recorder=StoreRecorder(store),
        policy=policy,
        config=config,
        approvals=approvals,
    )
    results = []
    for row in approvals.list():
        if row["state"] == "pending" or _external(row):
            continue
        ticket = services.tickets.get(row["ticket_id"])
        if ticket["state"] != "awaiting_approval":
            continue
        # The ticket's transition and the approval's `executed` mark commit together: a
        # crash in between can no longer leave an executed approval on a waiting ticket.
        with store.transaction():
            outcome = agent.resume(row, load_incident(store, row["incident_id"]))
            if row["state"] == "approved":
                approvals.mark(row["id"], "executed")
            if commit_with is not None:
                commit_with()
        store.release()  # readers get in between approvals
        results.append(ResumeResult(row["id"], row["state"], outcome))
    return results


def _external(row: dict[str, Any]) -> bool:
    """Approvals an external (MCP / LLM) agent asked for: that agent carries them on itself,
    by proposing the approved change again with the approval id."""
    plan = json.loads(row["plan"]) if isinstance(row["plan"], str) else row["plan"] or {}
    return plan.get("origin") == "external"
