"""Baseline agents to compare against (`pipeline.AGENTS` lists them as `BASELINES`).

- ``seed-baseline``: the reference design's behaviour. Take the top-1 TF-IDF runbook
  for the incident text, run its remediation steps blindly, never re-observe, and
  mark the ticket resolved. A runbook without remediation escalates.
- ``random``: the same, with a runbook drawn at random (seeded by the incident).

Both work through the real ticket service and the real tool executor with the same
audit recording as the default agent, so their false resolutions, collateral damage
and unsafe changes show up in the scores exactly as they would in production. They
have no policy gate: running a runbook blindly is the behaviour being measured.
Like the default agent they get the sealed `NetworkView`, never the lab.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from netops_agent.agent import SCOPE_KEYS, Outcome
from netops_agent.audit import StoreRecorder
from netops_agent.evidence import Evaluator, MissingContext, contexts_for, fill
from netops_agent.knowledge.index import Hit
from netops_agent.knowledge.schema import Runbook
from netops_agent.lab.base import NetworkView
from netops_agent.models import Incident
from netops_agent.services import Services
from netops_agent.tools.executor import ToolExecutor

Picker = Callable[[Incident, list[Hit], dict[str, Runbook]], list[Hit]]


class BlindRunbookAgent:
    """Runs one runbook's remediation as written and trusts it."""

    group = "network-operations"

    def __init__(self, view: NetworkView, svc: Services, pick: Picker) -> None:
        self.view = view
        self.svc = svc
        self.pick = pick

    def handle(self, incident: Incident, ticket_id: str) -> Outcome:
        recorder = StoreRecorder(self.svc.store)
        try:
            return self._handle(
                incident, ticket_id, ToolExecutor(self.view, recorder, incident_id=incident.id)
            )
        finally:
            recorder.flush()  # the audit rows of this incident reach the store together

    def _handle(self, incident: Incident, ticket_id: str, ex: ToolExecutor) -> Outcome:
        started = self.view.now()
        tickets = self.svc.tickets
        out = Outcome(incident, ticket_id)
        tickets.transition(ticket_id, "in_progress", f"Baseline picked up {incident.id}", self.view.now())
        hits = self.svc.retriever.retrieve(f"{incident.title}. {incident.summary}", k=len(self.svc.runbooks))
        out.retrieved = self.pick(incident, hits, self.svc.runbooks)
        if not out.retrieved:
            return self._escalate(out, ex, "no runbook matched the incident text", self.group)
        rb = self.svc.runbooks[out.retrieved[0].id]
        ctx = contexts_for(incident, self.view.inventory())[0]
        out.runbook = rb.id
        out.diagnosis = {"type": rb.fault_types[0], "target": {k: ctx.get(k) for k in SCOPE_KEYS[rb.scope]}}
        if not rb.remediation:
            reason = rb.escalate.reason if rb.escalate else "the runbook has no remediation"
            group = rb.escalate.group if rb.escalate else rb.assignment_group
            return self._escalate(out, ex, reason, group)
        plan = self._plan(rb, ctx, ex)
        if plan is None:
            return self._escalate(
                out, ex, "the runbook's remediation needs context this incident lacks", rb.assignment_group
            )
        out.plan = plan
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
            if not res.ok:
                return self._escalate(
                    out,
                    ex,
                    f"{tool} on {device} failed ({res.status.value}: {res.error})",
                    rb.assignment_group,
                )
        out.outcome, out.tool_calls = "resolved", ex.calls
        out.time_to_mitigate_s = (self.view.now() - started).total_seconds()
        out.reason = f"{rb.title}: runbook applied ({len(plan)} step(s)); not re-checked"
        tickets.transition(
            ticket_id,
            "resolved",
            out.reason,
            self.view.now(),
            runbook_id=rb.id,
            diagnosis=out.diagnosis,
            resolution=out.reason,
            data={"actions": out.actions},
        )
        return out

    def _plan(self, rb: Runbook, ctx: dict[str, Any], ex: ToolExecutor) -> list[Any] | None:
        """Fill the steps from the incident; values a runbook captures come from its own reads."""
        try:
            return [(s.tool, fill(s.device, ctx), fill(s.params, ctx)) for s in rb.remediation]
        except MissingContext:
            pass
        ev = Evaluator(ex)
        for chk in rb.evidence:  # read only to capture parameters; whether they hold is ignored
            ev.check(chk, ctx)
        try:
            return [(s.tool, fill(s.device, ctx), fill(s.params, ctx)) for s in rb.remediation]
        except MissingContext:
            return None

    def _escalate(self, out: Outcome, ex: ToolExecutor, reason: str, group: str) -> Outcome:
        out.outcome, out.escalated, out.reason, out.tool_calls = "escalated", True, reason, ex.calls
        self.svc.tickets.escalate(
            out.ticket_id,
            reason,
            self.view.now(),
            group=group,
            runbook_id=out.runbook,
            diagnosis=out.diagnosis,
        )
        return out


def _top1(incident: Incident, hits: list[Hit], runbooks: dict[str, Runbook]) -> list[Hit]:
    return hits


def _shuffled(incident: Incident, hits: list[Hit], runbooks: dict[str, Runbook]) -> list[Hit]:
    """Every runbook in a random order (a string seed hashes alike in every process)."""
    rng = random.Random(f"random-baseline|{incident.device}|{incident.interface}|{incident.title}")
    order = [Hit(rb.id, rb.title, 0.0, list(rb.fault_types)) for _, rb in sorted(runbooks.items())]
    rng.shuffle(order)
    return order


def _seed_baseline(view: NetworkView, svc: Services, options: Any) -> BlindRunbookAgent:
    return BlindRunbookAgent(view, svc, _top1)


def _random_agent(view: NetworkView, svc: Services, options: Any) -> BlindRunbookAgent:
    return BlindRunbookAgent(view, svc, _shuffled)


BASELINES = {"seed-baseline": _seed_baseline, "random": _random_agent}
