"""The agent loop: retrieve, diagnose, plan, gate, act, validate, roll back, update the ticket.

The agent knows the network only through the NetworkView's tools and the inventory. It
confirms a runbook only when every evidence check holds on real tool output, acts
only through the tool executor (which records everything) after the policy gate,
checks that nothing healthy broke, and closes a ticket as resolved only when fresh
observation after the change proves the symptom gone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from netops_agent.diagnosis import SCOPE_KEYS, Cause, Reobserver, Thresholds, differential, expanded_contexts
from netops_agent.evidence import CheckResult, Evaluator, MissingContext, contexts_for, fill
from netops_agent.intake.config import Healthy, load_detection
from netops_agent.knowledge.index import Hit, Retriever
from netops_agent.knowledge.schema import Runbook
from netops_agent.lab.base import NetworkView
from netops_agent.models import Incident, ToolStatus
from netops_agent.safety import snapshot
from netops_agent.safety.approvals import ApprovalService
from netops_agent.safety.gate import PolicyGate
from netops_agent.safety.policy import Policy
from netops_agent.tickets.service import TicketService
from netops_agent.tools.executor import Recorder, ToolExecutor
from netops_agent.tools.registry import TOOLS

log = logging.getLogger("netops_agent.agent")

__all__ = ["SCOPE_KEYS", "Agent", "AgentConfig", "Outcome"]
Step = tuple[str, str, dict[str, Any]]


def _healthy_limits() -> Healthy:
    return load_detection().healthy


@dataclass
class AgentConfig:
    top_k: int = 3
    convergence_s: float = 30.0
    dry_run: bool = False
    snapshots: bool = True
    max_causes: int = 4  # budget: causes diagnosed (and fixed) in one incident
    # "no fault found" limits, shared with monitoring (detection.yaml `healthy:`)
    healthy: Healthy = field(default_factory=_healthy_limits)


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
    plan: list[Step] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    validation: list[dict[str, Any]] = field(default_factory=list)
    state_diff: list[dict[str, Any]] = field(default_factory=list)
    collateral: list[dict[str, Any]] = field(default_factory=list)
    rolled_back: bool = False
    rollback_verified: bool | None = None
    approval_id: str | None = None
    tool_calls: int = 0
    time_to_mitigate_s: float | None = None
    causes: list[dict[str, Any]] = field(default_factory=list)  # every cause found; [0] = diagnosis
    changes_in_network: list[dict[str, Any]] = field(default_factory=list)  # a refused rollback left these
    baseline: dict[str, str] = field(default_factory=dict, repr=False)  # state before the first change
    baseline_devices: list[str] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.incident.id,
            "ticket_id": self.ticket_id,
            "severity": self.incident.severity.value,
            "summary": self.incident.summary,
            "runbook": self.runbook,
            "diagnosis": self.diagnosis,
            "causes": self.causes,
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
            "plan": [{"tool": t, "device": d, "params": p} for t, d, p in self.plan],
            "actions": self.actions,
            "validation": self.validation,
            "state_diff": self.state_diff,
            "collateral": self.collateral,
            "rolled_back": self.rolled_back,
            "rollback_verified": self.rollback_verified,
            "approval": self.approval_id,
            "changes_in_network": self.changes_in_network,
            "tool_calls": self.tool_calls,
            "time_to_mitigate_sim_s": self.time_to_mitigate_s,
        }


class Agent:
    def __init__(
        self,
        view: NetworkView,
        *,
        retriever: Retriever,
        runbooks: dict[str, Runbook],
        tickets: TicketService,
        recorder: Recorder | None = None,
        policy: Policy | None = None,
        config: AgentConfig | None = None,
        approvals: ApprovalService | None = None,
    ) -> None:
        self.view = view
        self.retriever = retriever
        self.runbooks = runbooks
        self.tickets = tickets
        self.recorder = recorder or Recorder()
        self.policy = policy or Policy()
        self.config = config or AgentConfig()
        self.approvals = approvals
        self.gate = PolicyGate(self.policy, view, self.recorder)

    # --- the loop --------------------------------------------------------------------------------
    def handle(self, incident: Incident, ticket_id: str) -> Outcome:
        try:
            return self._handle(incident, ticket_id)
        finally:
            self.recorder.flush()

    def _handle(self, incident: Incident, ticket_id: str) -> Outcome:
        started = self.view.now()
        ex, ev = self._executor(incident.id)
        out = Outcome(incident, ticket_id)
        self.tickets.transition(
            ticket_id, "in_progress", f"Agent picked up {incident.id}: {incident.title}", self.view.now()
        )
        out.retrieved = self.retriever.retrieve(f"{incident.title}. {incident.summary}", k=len(self.runbooks))
        log.info("[%s] retrieved %s", incident.id, ", ".join(f"{h.id}:{h.score}" for h in out.retrieved[:5]))
        ranked = [self.runbooks[h.id] for h in out.retrieved if h.id in self.runbooks]
        listed = {id(rb) for rb in ranked}  # by identity: comparing runbooks by value is slow
        ranked += [rb for rb in self.runbooks.values() if id(rb) not in listed]  # never drop a runbook
        causes = self._diagnose(incident, ranked, ev)
        out.tool_calls = ex.calls
        if not causes:
            problems, seen = self._reobserve(incident, ex)
            if not problems:
                return self._close_no_fault(out, ex, seen)
            return self._escalate(
                out,
                ex,
                "no runbook was confirmed by the evidence gathered and the symptom is still there "
                f"({seen}); a network engineer needs to investigate",
                "network-operations",
            )
        return self._work(out, ex, ev, ranked, causes, started)

    def _work(
        self,
        out: Outcome,
        ex: ToolExecutor,
        ev: Evaluator,
        ranked: list[Runbook],
        causes: list[Cause],
        started: datetime,
    ) -> Outcome:
        """Work every confirmed cause in turn (the primary first), re-observe the whole incident
        after fixing, and keep diagnosing while symptoms remain, within the budget."""
        incident = out.incident
        fixed: list[tuple[Cause, list[Step], bool]] = []  # cause, plan, validated
        remaining: list[tuple[Cause, str]] = []  # causes nobody can fix remotely, and why
        problems: list[str] = []
        seen = ""
        queue = list(causes)
        while queue and len(out.causes) < self.config.max_causes:
            current = queue.pop(0)
            self._record_cause(out, current)
            rb, ctx = current.runbook, current.ctx
            plan = self._plan(rb, ctx) if rb.remediation else None
            plan = self._prune(plan, ex) if plan else plan
            if not rb.remediation or not plan:
                if not rb.remediation and rb.escalate:
                    why = rb.escalate.reason
                elif plan is None:
                    why = "the runbook's remediation needs context this incident lacks"
                else:
                    why = "diagnosis confirmed but the golden config already matches; nothing to restore"
                remaining.append((current, why))
            else:
                stop = self._may_act(out, ex, ev, ranked, rb, ctx, plan, first=not fixed, more=queue)
                if stop is not None:
                    return stop
                applied = self._apply(out, ex, ev, rb, ctx, plan)
                if isinstance(applied, Outcome):
                    return applied
                if self.config.dry_run:
                    return self._close_dry_run(out, ex, rb)
                fixed.append((current, plan, applied))
            if queue or remaining or not fixed:
                continue  # work what is known first; a cause nobody can fix ends the search
            problems, seen = self._reobserve(incident, ex)
            if problems:
                ev.cache.clear()  # the network changed: read it afresh
                done = {c.ident for c, _, _ in fixed}
                queue = self._diagnose(incident, ranked, ev, exclude=done, expand=True)
        return self._conclude(out, ex, ev, fixed, remaining, problems, seen, started)

    def _conclude(
        self,
        out: Outcome,
        ex: ToolExecutor,
        ev: Evaluator,
        fixed: list[tuple[Cause, list[Step], bool]],
        remaining: list[tuple[Cause, str]],
        problems: list[str],
        seen: str,
        started: datetime,
    ) -> Outcome:
        primary = fixed[0][0].runbook if fixed else remaining[0][0].runbook
        if fixed and not all(ok for _, _, ok in fixed):
            # A fix that did not validate may have been masked by a later cause: check it again.
            checks = [
                ev.check(c, dict(cz.ctx), fresh=True) for cz, _, _ in fixed for c in cz.runbook.validation
            ]
            out.validation = [c.as_dict() for c in checks]
            if any(not c.holds for c in checks):
                return self._validation_failed(out, ex, primary)
        names = ", ".join(f"{c.type} {_where(c)}" for c, _, _ in fixed)
        if remaining:
            cz, why = remaining[0]
            reason = why + (f" (also found and fixed: {names})" if fixed else "")
            if len(remaining) > 1:
                reason += "; other causes found: " + ", ".join(
                    f"{c.type} {_where(c)}" for c, _ in remaining[1:]
                )
            grp = cz.runbook.escalate.group if cz.runbook.escalate else cz.runbook.assignment_group
            return self._escalate(out, ex, reason, grp)
        if problems:
            return self._escalate(
                out,
                ex,
                f"fixed {names}, but symptoms remain and no further cause was confirmed ({seen}); "
                "a network engineer needs to investigate",
                primary.assignment_group,
            )
        reason = f"{primary.title}: fixed and verified by fresh observation" + (
            f" ({len(fixed)} causes: {names})" if len(fixed) > 1 else ""
        )
        return self._resolve(out, ex, primary, reason, started)

    def _resolve(
        self, out: Outcome, ex: ToolExecutor, rb: Runbook, reason: str, started: datetime
    ) -> Outcome:
        """The one place a ticket becomes resolved: after its validation passed on fresh output."""
        out.outcome, out.validated = "resolved", True
        out.time_to_mitigate_s = (self.view.now() - started).total_seconds()
        out.tool_calls = ex.calls
        out.reason = reason
        data: dict[str, Any] = {"validation": out.validation, "state_diff": out.state_diff}
        extra: dict[str, Any] = {}
        if out.causes:
            data["causes"] = extra["causes"] = out.causes
        self.tickets.transition(
            out.ticket_id,
            "resolved",
            reason,
            self.view.now(),
            runbook_id=rb.id,
            diagnosis=out.diagnosis,
            resolution=reason,
            data=data,
            **extra,
        )
        log.info("[%s] resolved: %s", out.incident.id, reason)
        return out

    def _validation_failed(self, out: Outcome, ex: ToolExecutor, rb: Runbook) -> Outcome:
        """Roll back what this incident changed and escalate, saying which checks failed."""
        failed = [c for c in out.validation if not c["holds"]]
        self._rollback(out, ex, out.baseline, out.baseline_devices)
        reason = "validation failed after the fix: " + "; ".join(
            f"{c['check']} (observed {c['observed']})" for c in failed
        )
        if out.rolled_back:
            reason += f"; changes rolled back{self._verified(out)}"
        return self._escalate(out, ex, reason, rb.assignment_group)

    def _record_cause(self, out: Outcome, cause: Cause) -> None:
        rb = cause.runbook
        if out.runbook is None:
            out.runbook = rb.id
            out.diagnosis = {"type": cause.type, "target": cause.target}
            out.evidence = [r.as_dict() for r in cause.results]
        out.causes.append(cause.as_dict())
        self.tickets.work_note(
            out.ticket_id,
            f"Diagnosis: {rb.title} ({cause.type} at {_where(cause)}) confirmed by "
            f"{sum(r.holds for r in cause.results)} check(s)"
            + ("" if len(out.causes) == 1 else f"; cause {len(out.causes)} of this incident"),
            self.view.now(),
            data={
                "runbook": rb.id,
                "cause": cause.as_dict(),
                "evidence": [r.as_dict() for r in cause.results],
            },
        )

    def _may_act(
        self,
        out: Outcome,
        ex: ToolExecutor,
        ev: Evaluator,
        ranked: list[Runbook],
        rb: Runbook,
        ctx: dict[str, Any],
        plan: list[Step],
        *,
        first: bool,
        more: list[Cause],
    ) -> Outcome | None:
        """Severity and policy before touching anything; an Outcome when the agent must stop here."""
        out.plan = plan
        if self.policy.severity_needs_human(out.incident.severity):
            for other in more[: max(self.config.max_causes - len(out.causes), 0)]:
                self._record_cause(out, other)  # the human gets every cause found so far
            sev = out.incident.severity.value
            return self._escalate(
                out,
                ex,
                f"severity {sev}: policy hands {sev}-severity incidents to a "
                "human; proposed plan: " + _plan_text(plan),
                rb.assignment_group,
                data={"plan": out.as_dict()["plan"]},
            )
        if self.config.dry_run:
            return None
        verdict, reasons = self.gate.plan(plan, ex)
        if verdict == "deny":
            return self._escalate(
                out, ex, "policy denied the plan: " + "; ".join(reasons), rb.assignment_group
            )
        if verdict == "approval":
            if first:
                for other in more[: max(self.config.max_causes - len(out.causes), 0)]:
                    self._record_cause(out, other)  # name every cause found before pausing for a human
                return self._request_approval(out, ex, rb, ctx, reasons)
            return self._escalate(
                out,
                ex,
                f"a further cause needs approval ({'; '.join(reasons)}); proposed plan: {_plan_text(plan)}",
                rb.assignment_group,
            )
        return None

    def _diagnose(
        self,
        incident: Incident,
        ranked: list[Runbook],
        ev: Evaluator,
        *,
        exclude: set[Any] = frozenset(),  # type: ignore[assignment]
        expand: bool = False,
    ) -> list[Cause]:
        """Differential diagnosis; a device-level incident on a device that answers expands its
        scope to the device's links when nothing is confirmed on the device itself (or, after
        a fix, while symptoms remain)."""
        inv = self.view.inventory()

        def evidence(rb: Runbook, ctx: dict[str, Any]) -> list[CheckResult]:
            return self._evidence(rb, ctx, ev)

        causes = differential(ranked, contexts_for(incident, inv), evidence, exclude=exclude)
        device_level = not incident.interface and not incident.peer
        if (causes and not expand) or not device_level or not self._answers(ev, incident.device):
            return causes
        log.info("[%s] looking beyond %s itself: its links", incident.id, incident.device)
        more = differential(
            ranked, expanded_contexts(incident, inv), evidence, exclude=exclude, every_place=True
        )
        unique = {c.ident: c for c in sorted(causes + more, key=Cause.order)}  # best kept per cause
        return sorted(unique.values(), key=Cause.order, reverse=True)

    @staticmethod
    def _answers(ev: Evaluator, device: str) -> bool:
        from netops_agent.knowledge.schema import Step as RunbookStep

        res = ev.run_step(RunbookStep(tool="show_ip_interface_brief", device=device), {})
        return res.status != ToolStatus.unreachable

    def _reobserve(self, incident: Incident, ex: ToolExecutor) -> tuple[list[str], str]:
        h = self.config.healthy
        limits = Thresholds(
            h.max_utilisation_pct,
            h.max_cpu_pct,
            h.max_memory_pct,
            h.min_ping_success_pct,
            h.counter_interval_s,
        )
        reob = Reobserver(ex, self.view.inventory(), ex.wait, limits)
        problems = reob.problems(incident)
        return problems, "; ".join(reob.seen)

    def resume(self, approval: dict[str, Any], incident: Incident) -> Outcome:
        """Carry on a plan after a human decided on its approval."""
        try:
            return self._resume(approval, incident)
        finally:
            self.recorder.flush()

    def _resume(self, approval: dict[str, Any], incident: Incident) -> Outcome:
        import json

        saved = json.loads(approval["plan"]) if isinstance(approval["plan"], str) else approval["plan"]
        out = Outcome(
            incident,
            approval["ticket_id"],
            runbook=approval["runbook_id"],
            diagnosis=saved["diagnosis"],
            evidence=saved["evidence"],
            approval_id=approval["id"],
        )
        out.plan = [(t, d, p) for t, d, p in saved["steps"]]
        ex, ev = self._executor(incident.id)
        rb = self.runbooks[approval["runbook_id"]]
        if approval["state"] != "approved":
            who = approval.get("decided_by") or "nobody (it expired)"
            reason = (
                f"approval {approval['id']} was {approval['state']} by {who}"
                + (f": {approval['comment']}" if approval.get("comment") else "")
                + "; nothing was changed"
            )
            return self._escalate(out, ex, reason, rb.assignment_group)
        self.tickets.transition(
            out.ticket_id,
            "in_progress",
            f"Approval {approval['id']} granted by {approval['decided_by']}; carrying on",
            self.view.now(),
            author=approval["decided_by"] or "human",
        )
        self.gate.approved_by = approval["decided_by"] or "human"
        try:
            return self._act(out, ex, ev, rb, saved["ctx"], self.view.now())
        finally:
            self.gate.approved_by = None

    # --- diagnosis -----------------------------------------------------------------------------------
    def _executor(self, incident_id: str) -> tuple[ToolExecutor, Evaluator]:
        ex = ToolExecutor(
            self.view, self.recorder, incident_id=incident_id, dry_run=self.config.dry_run, reuse_reads=True
        )
        ex.gate = lambda tool, device, params: self.gate.step(ex, tool, device)
        return ex, Evaluator(ex)

    def _evidence(self, rb: Runbook, ctx: dict[str, Any], ev: Evaluator) -> list[CheckResult]:
        for step in rb.diagnostics:
            try:
                ev.run_step(step, ctx)
            except MissingContext:
                return []
        results = []
        for chk in rb.evidence:
            r = ev.check(chk, ctx)
            r.support = chk.support
            results.append(r)
            log.info("[%s] %s evidence %r -> %s (%s)", ev.ex.incident_id, rb.id, r.check, r.holds, r.observed)
            if not r.holds and not chk.support:
                break
        return results

    def _plan(self, rb: Runbook, ctx: dict[str, Any]) -> list[Step] | None:
        try:
            return [(s.tool, fill(s.device, ctx), fill(s.params, ctx)) for s in rb.remediation]
        except MissingContext:
            return None

    def _prune(self, plan: list[Step], ex: ToolExecutor) -> list[Step]:
        """Drop golden-config restores that would change nothing (that end is already as intended)."""
        preview = ToolExecutor(self.view, self.recorder, incident_id=ex.incident_id, dry_run=True)
        kept = []
        for tool, device, params in plan:
            if tool == "restore_golden_section":
                res = preview.run(tool, device, **params)
                ex.calls += preview.calls
                preview.calls = 0
                if res.ok and not (res.parsed or {}).get("lines"):
                    continue
            kept.append((tool, device, params))
        return kept

    def _request_approval(
        self, out: Outcome, ex: ToolExecutor, rb: Runbook, ctx: dict[str, Any], reasons: list[str]
    ) -> Outcome:
        preview = ToolExecutor(self.view, self.recorder, incident_id=out.incident.id, dry_run=True)
        diff_lines = []
        for tool, device, params in out.plan:
            res = preview.run(tool, device, **params)
            lines = (res.parsed or {}).get("lines") if isinstance(res.parsed, dict) else None
            diff_lines.append(f"{device}: " + ("\n  ".join(["", *lines]) if lines else res.command or tool))
        if self.approvals is None:
            return self._escalate(
                out,
                ex,
                "needs approval, and no approval queue is configured: " + "; ".join(reasons),
                rb.assignment_group,
            )
        plan_blob = {
            "ctx": ctx,
            "steps": [list(s) for s in out.plan],
            "diagnosis": out.diagnosis,
            "evidence": out.evidence,
        }
        risk = max((TOOLS.get(t).risk for t, _, _ in out.plan), key=lambda r: r.rank).value
        with self.approvals.store.transaction():  # the approval and the ticket move together
            out.approval_id = self.approvals.request(
                incident_id=out.incident.id,
                ticket_id=out.ticket_id,
                runbook_id=rb.id,
                plan=plan_blob,
                diff="\n".join(diff_lines),
                risk=risk,
                reason="; ".join(reasons),
                at=self.view.now(),
            )
            out.outcome, out.escalated = "escalated", True
            out.reason = (
                f"waiting for approval {out.approval_id} ({'; '.join(reasons)}); "
                f"`netops-agent approve {out.approval_id}` then `netops-agent resume`"
            )
            out.tool_calls = ex.calls
            self.tickets.transition(
                out.ticket_id,
                "awaiting_approval",
                out.reason,
                self.view.now(),
                runbook_id=rb.id,
                diagnosis=out.diagnosis,
                data={"approval": out.approval_id, "diff": "\n".join(diff_lines)},
            )
        log.warning("[%s] awaiting approval %s: %s", out.incident.id, out.approval_id, "; ".join(reasons))
        return out

    # --- acting and validating --------------------------------------------------------------------------
    def _act(
        self,
        out: Outcome,
        ex: ToolExecutor,
        ev: Evaluator,
        rb: Runbook,
        ctx: dict[str, Any],
        started: datetime,
    ) -> Outcome:
        """Carry out an approved plan (resume) and validate it."""
        applied = self._apply(out, ex, ev, rb, ctx, out.plan)
        if isinstance(applied, Outcome):
            return applied
        if self.config.dry_run:
            return self._close_dry_run(out, ex, rb)
        if applied:
            reason = f"{rb.title}: fixed and verified by {len(out.validation)} fresh check(s)"
            return self._resolve(out, ex, rb, reason, started)
        return self._validation_failed(out, ex, rb)

    def _apply(
        self,
        out: Outcome,
        ex: ToolExecutor,
        ev: Evaluator,
        rb: Runbook,
        ctx: dict[str, Any],
        plan: list[Step],
    ) -> bool | Outcome:
        """Apply one plan, converge, check for collateral damage, validate on fresh reads.

        Returns whether the runbook's validation held, or the Outcome when the agent had to
        stop (a step failed, or something healthy broke: everything is rolled back).
        """
        tid = out.ticket_id
        affected = self._affected(plan)
        reads = _CachedReads(ex, ev)  # nothing changed since diagnosis read these
        pre = snapshot.take(reads, affected) if self.config.snapshots and not self.config.dry_run else {}  # type: ignore[arg-type]
        ev.cache.clear()  # from here on the network changes: every later read is fresh
        for k, v in pre.items():  # the state before this incident's first change, per entity
            out.baseline.setdefault(k, v)
        out.baseline_devices += [d for d in affected if d not in out.baseline_devices]
        for tool, device, params in plan:
            res = ex.run(tool, device, **params)
            lines = res.parsed.get("lines") if isinstance(res.parsed, dict) else None
            out.actions.append(
                {
                    "tool": tool,
                    "device": device,
                    "params": params,
                    "status": res.status.value,
                    "command": res.command,
                    "lines": lines,
                    "error": res.error,
                }
            )
            if res.status == ToolStatus.dry_run:
                continue
            if not res.ok:
                self._rollback(out, ex, out.baseline, out.baseline_devices)
                reason = f"{tool} on {device} was not carried out ({res.status.value}: {res.error})"
                return self._escalate(out, ex, reason, rb.assignment_group)
        if self.config.dry_run:
            return True
        self.tickets.work_note(
            tid,
            f"Applied {len(plan)} change(s) from {rb.id}",
            self.view.now(),
            kind="change",
            data={"actions": out.actions},
        )
        ex.wait(self.config.convergence_s)
        if pre:
            post = snapshot.take(ex, affected)
            diff = snapshot.diff(pre, post)
            out.state_diff += diff
            out.collateral = snapshot.broken(diff)
            self.tickets.work_note(
                tid,
                f"Post-change state diff: {len(diff)} change(s)",
                self.view.now(),
                kind="snapshot_diff",
                data={"diff": diff},
            )
            if out.collateral:
                self._rollback(out, ex, out.baseline, out.baseline_devices)
                what = ", ".join(f"{c['entity']} {c['before']}->{c['after']}" for c in out.collateral[:5])
                return self._escalate(
                    out,
                    ex,
                    f"collateral damage after the change ({what}); changes rolled back{self._verified(out)}",
                    rb.assignment_group,
                    data={"collateral": out.collateral},
                )
        checks = [ev.check(c, dict(ctx), fresh=True) for c in rb.validation]
        out.validation = [c.as_dict() for c in checks]
        out.tool_calls = ex.calls
        return all(c.holds for c in checks)

    def _affected(self, plan: list[Step]) -> list[str]:
        """Devices a plan changes and the neighbours on the far side of their cables."""
        inv = self.view.inventory()
        devices = {d for t, d, _ in plan if TOOLS.get(t).changes_network}
        around = set(devices)
        for _, d, p in plan:
            itf = p.get("interface")
            link = inv.link_of(d, itf) if itf else None
            if link is not None:
                around.add(link.peer_of(d)[0])
        return sorted(around)

    def _rollback(self, out: Outcome, ex: ToolExecutor, pre: snapshot.Snapshot, affected: list[str]) -> None:
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
            if not res.ok:
                applied = [
                    " / ".join(a.get("lines") or [a.get("command") or a["tool"]])
                    for a in out.actions
                    if a["device"] == device and a["tool"] != "rollback_config" and a["status"] == "ok"
                ]
                out.changes_in_network.append(
                    {
                        "device": device,
                        "change": "; ".join(applied) or "config changed",
                        "rollback": f"{res.status.value}: {res.error}",
                    }
                )
        ex.changed_devices.clear()
        if out.rolled_back and pre:
            ex.wait(self.config.convergence_s)
            restored = snapshot.take(ex, affected)
            out.rollback_verified = snapshot.same(pre, restored)

    @staticmethod
    def _verified(out: Outcome) -> str:
        if out.rollback_verified is None:
            return ""
        return (
            " and the pre-change state was verified restored"
            if out.rollback_verified
            else " but the pre-change state was NOT restored"
        )

    def _close_no_fault(self, out: Outcome, ex: ToolExecutor, seen: str) -> Outcome:
        out.outcome = "no_action"
        out.reason = (
            f"no fault found: no runbook was confirmed and the symptom is gone on re-observation ({seen})"
        )
        out.tool_calls = ex.calls
        self.tickets.transition(out.ticket_id, "closed", out.reason, self.view.now(), resolution=out.reason)
        log.info("[%s] closed: %s", out.incident.id, out.reason)
        return out

    def _close_dry_run(self, out: Outcome, ex: ToolExecutor, rb: Runbook) -> Outcome:
        out.outcome, out.reason = "no_action", "dry-run: diagnosis and plan only, nothing changed"
        out.tool_calls = ex.calls
        self.tickets.work_note(
            out.ticket_id,
            f"Dry run: would apply {len(out.plan)} step(s)",
            self.view.now(),
            data={"actions": out.actions},
        )
        self.tickets.transition(
            out.ticket_id,
            "closed",
            out.reason,
            self.view.now(),
            runbook_id=rb.id,
            diagnosis=out.diagnosis,
            resolution=out.reason,
        )
        return out

    def _escalate(self, out: Outcome, ex: ToolExecutor, reason: str, group: str, data: Any = None) -> Outcome:
        if out.changes_in_network:
            reason += "; STILL IN THE NETWORK (rollback refused): " + "; ".join(
                f"{c['device']}: {c['change']}" for c in out.changes_in_network
            )
        out.outcome, out.escalated, out.reason = "escalated", True, reason
        out.tool_calls = ex.calls
        self.tickets.escalate(
            out.ticket_id,
            reason,
            self.view.now(),
            group=group,
            runbook_id=out.runbook,
            diagnosis=out.diagnosis,
            data=data,
            causes=out.causes,
            changes_in_network=out.changes_in_network or None,
        )
        log.warning("[%s] escalated to %s: %s", out.incident.id, group, reason)
        return out


class _CachedReads:
    """`run` for read-only tools, answered from the evaluator's cache when diagnosis already read it."""

    def __init__(self, ex: ToolExecutor, ev: Evaluator) -> None:
        self.ex, self.ev = ex, ev

    def run(self, tool: str, device: str, **params: Any) -> Any:
        k = (tool, device, repr(sorted(params.items())))
        if k not in self.ev.cache:
            self.ev.cache[k] = self.ex.run(tool, device, **params)
        return self.ev.cache[k]


def _where(cause: Cause) -> str:
    t = cause.target
    return " ".join(str(t[k]) for k in ("device", "interface", "peer") if t.get(k))


def _plan_text(plan: list[Step]) -> str:
    return "; ".join(f"{d}: {t} {p}" for t, d, p in plan)
