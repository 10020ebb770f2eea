"""Changes an external or LLM agent proposes: the policy gate, approvals and rollback.

`ChangeControl` is the workbench's half that decides whether a change may happen
(the same policy rules as the built-in agent: risk x role, maintenance windows, blast
radius, the last working uplink, the severity hand-off), records every decision,
turns an `approval` into an approval request and the ticket into `awaiting_approval`,
lets an approved change through once, and rolls an incident's changes back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from netops_agent.errors import NetopsError
from netops_agent.knowledge.index import Hit
from netops_agent.lab.base import NetworkView
from netops_agent.models import Incident
from netops_agent.safety.approvals import ApprovalService
from netops_agent.safety.gate import cuts_last_path, decide_step, record_decision
from netops_agent.safety.policy import Policy
from netops_agent.store import Store
from netops_agent.tickets.service import TicketService
from netops_agent.tools.base import Tool
from netops_agent.tools.executor import GateDecision, Recorder, ToolExecutor

CONVERGENCE_S = 30.0  # after a change or rollback, protocols converge before anything is read


class ToolCallError(NetopsError):
    """A call the agent got wrong (unknown incident, tool, device, bad arguments)."""


@dataclass
class Rules:
    gated: bool = True
    require_validation: bool = True


@dataclass
class IncidentWork:
    """What the workbench remembers about one incident while an agent works it."""

    incident: Incident
    ticket_id: str
    executor: ToolExecutor
    started: datetime
    retrieved: list[Hit] | None = None
    changes: int = 0  # applied changes (including rollbacks)
    validated_at: int | None = None  # `changes` when the last passing validation ran
    validation: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    rolled_back: bool = False
    approval_id: str | None = None
    last_decision: GateDecision | None = None
    last_device: str | None = None
    approved_by: str | None = None  # set for the one call that carries an approved approval

    @property
    def validated(self) -> bool:
        return self.validated_at is not None and self.validated_at == self.changes


class ChangeControl:
    def __init__(
        self,
        net: NetworkView,
        *,
        store: Store,
        tickets: TicketService,
        policy: Policy,
        recorder: Recorder,
        rules: Rules,
        agent_name: str,
    ) -> None:
        self.net = net
        self.store = store
        self.tickets = tickets
        self.policy = policy
        self.recorder = recorder
        self.rules = rules
        self.agent_name = agent_name
        self.approvals = ApprovalService(store)

    def gate(self, work: IncidentWork, tool: Tool, device: str, params: Any) -> GateDecision:
        decision = self.decide(work, tool, device, params)
        work.last_decision = decision
        record_decision(self.recorder, self.net, work.incident.id, tool, device, decision)
        return decision

    def decide(self, work: IncidentWork, tool: Tool, device: str, params: Any) -> GateDecision:
        if work.approved_by:
            return GateDecision("allow", f"approved by {work.approved_by}")
        if not self.rules.gated:
            return GateDecision("allow", "ungated evaluation (baseline replay)")
        if self.policy.severity_needs_human(work.incident.severity):
            sev = work.incident.severity.value
            return GateDecision(
                "approval", f"severity {sev}: policy hands {sev}-severity incidents to a human"
            )
        decision = decide_step(self.policy, self.net, work.executor, tool, device)
        if decision.action != "allow":
            return decision
        if self.policy.protect_last_path and tool.name == "interface_shutdown":
            cut = cuts_last_path(self.net, work.executor, device, str(params.interface))
            if cut:
                return GateDecision("deny", cut)
        return decision

    def approved(self, work: IncidentWork, approval_id: str, tool: str, device: str, params: dict) -> None:
        row = self.approvals.get(approval_id)
        plan = json.loads(row["plan"]) if isinstance(row["plan"], str) else row["plan"]
        if row["incident_id"] != work.incident.id or plan.get("steps") != [[tool, device, params]]:
            raise ToolCallError(f"approval {approval_id} is for a different change or incident")
        if row["state"] != "approved":
            raise ToolCallError(f"approval {approval_id} is {row['state']}; it must be approved first")
        self.approvals.mark(approval_id, "executed")
        if self.tickets.get(work.ticket_id)["state"] == "awaiting_approval":
            self.tickets.transition(
                work.ticket_id,
                "in_progress",
                f"Approval {approval_id} granted by {row['decided_by']}; carrying on",
                self.net.now(),
                author=row["decided_by"] or "human",
            )
        work.approved_by = row["decided_by"] or "human"

    def request_approval(
        self,
        work: IncidentWork,
        tool: Tool,
        device: str,
        params: dict,
        decision: GateDecision,
        rb: str | None,
        diagnosis: dict[str, Any] | None = None,
    ) -> str:
        preview = ToolExecutor(self.net, Recorder(), incident_id=work.incident.id, dry_run=True)
        res = preview.run(tool.name, device, **params)
        lines = (res.parsed or {}).get("lines") if isinstance(res.parsed, dict) else None
        diff = f"{device}: " + ("\n  ".join(["", *lines]) if lines else res.command or tool.name)
        with self.store.transaction():
            approval_id = self.approvals.request(
                incident_id=work.incident.id,
                ticket_id=work.ticket_id,
                runbook_id=rb or "",
                plan={"origin": "external", "agent": self.agent_name, "steps": [[tool.name, device, params]]},
                diff=diff,
                risk=tool.risk.value,
                reason=decision.reason,
                at=self.net.now(),
            )
            self.tickets.transition(
                work.ticket_id,
                "awaiting_approval",
                f"waiting for approval {approval_id} ({decision.reason})",
                self.net.now(),
                author=self.agent_name,
                runbook_id=rb,
                diagnosis=diagnosis,
                data={"approval": approval_id, "diff": diff},
            )
        work.approval_id = approval_id
        return approval_id

    def rollback(self, work: IncidentWork, reason: str) -> dict[str, Any]:
        ex = work.executor
        done = []
        if ex.changed_devices:
            gate, ex.gate = ex.gate, None  # restoring the pre-change state is always allowed
            try:
                for device, before in list(ex.changed_devices.items()):
                    res = ex.run("rollback_config", device, snapshot=before)
                    self.recorder.decision(
                        {"ts": self.net.now(), "incident_id": work.incident.id, "device": device,
                         "tool": "rollback_config", "risk": "medium", "decision": "allow",
                         "reason": f"rollback of this incident's own changes: {reason}"}
                    )  # fmt: skip
                    done.append({"device": device, "status": res.status.value, "error": res.error})
                    work.actions.append(
                        {"tool": "rollback_config", "device": device, "params": {}}
                        | {"status": res.status.value, "command": res.command, "error": res.error}
                    )
            finally:
                ex.gate = gate
            ex.changed_devices.clear()
            work.rolled_back = any(d["status"] == "ok" for d in done) or work.rolled_back
            work.changes += 1
            self.net.wait(CONVERGENCE_S)
            self.tickets.work_note(
                work.ticket_id, f"Rolled back {len(done)} device(s): {reason}", self.net.now(),
                kind="change", author=self.agent_name, data={"rollback": done},
            )  # fmt: skip
        self.recorder.flush()
        return {"rolled_back": done, "note": "nothing to roll back" if not done else reason}
