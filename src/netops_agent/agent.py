"""The agent loop: retrieve, diagnose, plan, gate, act, validate, roll back, update the ticket.

The agent knows the network only through the Lab's tools and the inventory. It
confirms a runbook only when every evidence check holds on real tool output, acts
only through the tool executor (which records everything), and closes a ticket as
resolved only when fresh observation after the change proves the symptom gone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from netops_agent.evidence import CheckResult, Evaluator, MissingContext, contexts_for, fill
from netops_agent.knowledge.index import Hit, Retriever
from netops_agent.knowledge.schema import Runbook
from netops_agent.lab.base import Lab
from netops_agent.models import Incident, ToolStatus
from netops_agent.policy import Policy
from netops_agent.tickets.service import TicketService
from netops_agent.tools.executor import Recorder, ToolExecutor

log = logging.getLogger("netops_agent.agent")

SCOPE_KEYS = {
    "interface": ("device", "interface"),
    "link": ("device", "interface", "peer_device", "peer_interface"),
    "bgp_session": ("device", "peer"),
    "device": ("device",),
}


@dataclass
class AgentConfig:
    top_k: int = 3
    convergence_s: float = 30.0
    dry_run: bool = False


@dataclass
class Outcome:
    """What happened to one incident; `as_dict` is the `run --json` contract."""

    incident: Incident
    ticket_id: str
    runbook: str | None = None
    diagnosis: dict[str, Any] = field(default_factory=lambda: {"type": None, "target": None})
    outcome: str = "escalated"
    validated: bool = False
    escalated: bool = False
    reason: str = ""
    retrieved: list[Hit] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    validation: list[dict[str, Any]] = field(default_factory=list)
    rolled_back: bool = False
    tool_calls: int = 0
    time_to_mitigate_s: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.incident.id,
            "ticket_id": self.ticket_id,
            "severity": self.incident.severity.value,
            "summary": self.incident.summary,
            "runbook": self.runbook,
            "diagnosis": self.diagnosis,
            "outcome": self.outcome,
            "validated": self.validated,
            "escalated": self.escalated,
            "reason": self.reason,
            "device": self.incident.device,
            "interface": self.incident.interface,
            "alerts": self.incident.alerts,
            "suspects": [s.model_dump() for s in self.incident.suspects],
            "retrieved": [
                {"id": h.id, "score": h.score, "fault_types": h.fault_types} for h in self.retrieved
            ],
            "evidence": self.evidence,
            "actions": self.actions,
            "validation": self.validation,
            "rolled_back": self.rolled_back,
            "tool_calls": self.tool_calls,
            "time_to_mitigate_sim_s": self.time_to_mitigate_s,
        }


class Agent:
    def __init__(
        self,
        lab: Lab,
        *,
        retriever: Retriever,
        runbooks: dict[str, Runbook],
        tickets: TicketService,
        recorder: Recorder | None = None,
        policy: Policy | None = None,
        config: AgentConfig | None = None,
    ) -> None:
        self.lab = lab
        self.retriever = retriever
        self.runbooks = runbooks
        self.tickets = tickets
        self.recorder = recorder
        self.policy = policy or Policy()
        self.config = config or AgentConfig()

    # --- the loop --------------------------------------------------------------------------------
    def handle(self, incident: Incident, ticket_id: str) -> Outcome:
        started = self.lab.now()
        ex = ToolExecutor(
            self.lab,
            self.recorder,
            incident_id=incident.id,
            dry_run=self.config.dry_run,
            gate=self.policy.gate,
        )
        ev = Evaluator(ex)
        out = Outcome(incident, ticket_id)
        self._note(ticket_id, "in_progress", f"Agent picked up {incident.id}: {incident.title}")
        out.retrieved = self.retriever.retrieve(f"{incident.title}. {incident.summary}", k=len(self.runbooks))
        log.info("[%s] retrieved %s", incident.id, ", ".join(f"{h.id}:{h.score}" for h in out.retrieved[:5]))
        found = self._diagnose(incident, out, ev)
        out.tool_calls = ex.calls
        if found is None:
            return self._escalate(
                out,
                ex,
                "no runbook was confirmed by the evidence gathered; a network engineer needs to investigate",
                "network-operations",
            )
        rb, ctx = found
        out.runbook = rb.id
        out.diagnosis = {"type": rb.fault_types[0], "target": {k: ctx.get(k) for k in SCOPE_KEYS[rb.scope]}}
        self.tickets.work_note(
            ticket_id,
            f"Diagnosis: {rb.title} ({out.diagnosis['type']}) confirmed by {len(out.evidence)} check(s)",
            self.lab.now(),
            data={"runbook": rb.id, "diagnosis": out.diagnosis, "evidence": out.evidence},
        )
        if not rb.remediation:
            assert rb.escalate is not None
            return self._escalate(out, ex, rb.escalate.reason, rb.escalate.group)
        plan = self._plan(rb, ctx)
        if plan is None:
            return self._escalate(
                out, ex, "the runbook's remediation needs context this incident lacks", rb.assignment_group
            )
        if self.policy.severity_needs_human(incident.severity):
            return self._escalate(
                out,
                ex,
                f"severity {incident.severity.value}: policy hands "
                f"{incident.severity.value}-severity incidents to a human; proposed plan: "
                + "; ".join(f"{d}: {t} {p}" for t, d, p in plan),
                rb.assignment_group,
                data={"plan": plan},
            )
        return self._act(out, ex, ev, rb, ctx, plan, started)

    def _diagnose(
        self, incident: Incident, out: Outcome, ev: Evaluator
    ) -> tuple[Runbook, dict[str, Any]] | None:
        contexts = contexts_for(incident, self.lab.inventory())
        k = max(self.config.top_k, 1)
        for start in range(0, len(out.retrieved), k):
            confirmed: list[tuple[int, int, Runbook, dict[str, Any], list[CheckResult]]] = []
            for rank, hit in enumerate(out.retrieved[start : start + k], start=start):
                rb = self.runbooks[hit.id]
                for ctx in contexts:
                    trial = dict(ctx)
                    results = self._evidence(rb, trial, ev)
                    if results and all(r.holds for r in results):
                        confirmed.append((rb.priority, -rank, rb, trial, results))
                        break
            if confirmed:
                _, _, rb, ctx, results = max(confirmed, key=lambda c: (c[0], c[1]))
                out.evidence = [r.as_dict() for r in results]
                return rb, ctx
        return None

    def _evidence(self, rb: Runbook, ctx: dict[str, Any], ev: Evaluator) -> list[CheckResult]:
        for step in rb.diagnostics:
            try:
                ev.run_step(step, ctx)
            except MissingContext:
                return []
        results = []
        for chk in rb.evidence:
            r = ev.check(chk, ctx)
            results.append(r)
            log.info("[%s] %s evidence %r -> %s (%s)", ev.ex.incident_id, rb.id, r.check, r.holds, r.observed)
            if not r.holds:
                break
        return results

    def _plan(self, rb: Runbook, ctx: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]] | None:
        try:
            return [(s.tool, fill(s.device, ctx), fill(s.params, ctx)) for s in rb.remediation]
        except MissingContext:
            return None

    def _act(
        self,
        out: Outcome,
        ex: ToolExecutor,
        ev: Evaluator,
        rb: Runbook,
        ctx: dict[str, Any],
        plan: list[tuple[str, str, dict[str, Any]]],
        started: Any,
    ) -> Outcome:
        tid = out.ticket_id
        for tool, device, params in plan:
            res = ex.run(tool, device, **params)
            out.actions.append(
                {
                    "tool": tool,
                    "device": device,
                    "params": params,
                    "status": res.status.value,
                    "command": res.command,
                    "error": res.error,
                }
            )
            if res.status == ToolStatus.dry_run:
                continue
            if not res.ok:
                self._rollback(out, ex)
                reason = f"{tool} on {device} was not carried out ({res.status.value}: {res.error})"
                return self._escalate(out, ex, reason, rb.assignment_group)
        if self.config.dry_run:
            out.outcome, out.reason = "no_action", "dry-run: diagnosis and plan only, nothing changed"
            out.tool_calls = ex.calls
            self.tickets.work_note(
                tid,
                f"Dry run: would apply {len(plan)} step(s)",
                self.lab.now(),
                data={"actions": out.actions},
            )
            self.tickets.transition(
                tid,
                "closed",
                out.reason,
                self.lab.now(),
                runbook_id=rb.id,
                diagnosis=out.diagnosis,
                resolution=out.reason,
            )
            return out
        self.tickets.work_note(
            tid,
            f"Applied {len(plan)} change(s) from {rb.id}",
            self.lab.now(),
            kind="change",
            data={"actions": out.actions},
        )
        self.lab.advance(self.config.convergence_s)
        checks = [ev.check(c, dict(ctx), fresh=True) for c in rb.validation]
        out.validation = [c.as_dict() for c in checks]
        out.tool_calls = ex.calls
        if all(c.holds for c in checks):
            out.outcome, out.validated = "resolved", True
            out.time_to_mitigate_s = (self.lab.now() - started).total_seconds()
            out.reason = f"{rb.title}: fixed and verified by {len(checks)} fresh check(s)"
            self.tickets.transition(
                tid,
                "resolved",
                out.reason,
                self.lab.now(),
                runbook_id=rb.id,
                diagnosis=out.diagnosis,
                resolution=out.reason,
                data={"validation": out.validation},
            )
            log.info("[%s] resolved: %s", out.incident.id, out.reason)
            return out
        failed = [c for c in checks if not c.holds]
        self._rollback(out, ex)
        reason = (
            "validation failed after the fix: "
            + "; ".join(f"{c.check} (observed {c.observed})" for c in failed)
            + ("; changes rolled back" if out.rolled_back else "")
        )
        return self._escalate(out, ex, reason, rb.assignment_group)

    def _rollback(self, out: Outcome, ex: ToolExecutor) -> None:
        for device, before in list(ex.changed_devices.items()):
            res = ex.run("rollback_config", device, snapshot=before)
            out.actions.append(
                {
                    "tool": "rollback_config",
                    "device": device,
                    "params": {},
                    "status": res.status.value,
                    "command": res.command,
                    "error": res.error,
                }
            )
            out.rolled_back = out.rolled_back or res.ok
        ex.changed_devices.clear()

    def _escalate(self, out: Outcome, ex: ToolExecutor, reason: str, group: str, data: Any = None) -> Outcome:
        out.outcome, out.escalated, out.reason = "escalated", True, reason
        out.tool_calls = ex.calls
        self.tickets.transition(
            out.ticket_id,
            "escalated",
            reason,
            self.lab.now(),
            escalation_reason=reason,
            assignment_group=group,
            runbook_id=out.runbook,
            diagnosis=out.diagnosis,
            data=data,
        )
        log.warning("[%s] escalated to %s: %s", out.incident.id, group, reason)
        return out

    def _note(self, ticket_id: str, to_state: str, note: str) -> None:
        self.tickets.transition(ticket_id, to_state, note, self.lab.now())
