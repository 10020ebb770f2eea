"""The agent loop: retrieve, diagnose, plan, gate, act, validate, roll back, update the ticket.

The agent knows the network only through its `NetworkView`: tools and the inventory. It
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

SCOPE_KEYS = {
    "interface": ("device", "interface"),
    "link": ("device", "interface", "peer_device", "peer_interface"),
    "bgp_session": ("device", "peer"),
    "device": ("device",),
}
Step = tuple[str, str, dict[str, Any]]


def _healthy_limits() -> Healthy:
    return load_detection().healthy


@dataclass
class AgentConfig:
    top_k: int = 3
    convergence_s: float = 30.0
    dry_run: bool = False
    snapshots: bool = True
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
            "plan": [{"tool": t, "device": d, "params": p} for t, d, p in self.plan],
            "actions": self.actions,
            "validation": self.validation,
            "state_diff": self.state_diff,
            "collateral": self.collateral,
            "rolled_back": self.rolled_back,
            "rollback_verified": self.rollback_verified,
            "approval": self.approval_id,
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
        found = self._diagnose(incident, out, ev)
        out.tool_calls = ex.calls
        if found is None:
            healthy, seen = self._symptoms_cleared(incident, ex)
            if healthy:
                return self._close_no_fault(out, ex, seen)
            return self._escalate(
                out,
                ex,
                "no runbook was confirmed by the evidence gathered and the symptom is still there "
                f"({seen}); a network engineer needs to investigate",
                "network-operations",
            )
        rb, ctx = found
        out.runbook = rb.id
        out.diagnosis = {"type": rb.fault_types[0], "target": {k: ctx.get(k) for k in SCOPE_KEYS[rb.scope]}}
        self.tickets.work_note(
            ticket_id,
            f"Diagnosis: {rb.title} ({out.diagnosis['type']}) confirmed by {len(out.evidence)} check(s)",
            self.view.now(),
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
        out.plan = plan = self._prune(plan, ex)
        if not plan:
            return self._escalate(
                out,
                ex,
                "diagnosis confirmed but the golden config already matches; nothing to restore remotely",
                rb.assignment_group,
            )
        if self.policy.severity_needs_human(incident.severity):
            sev = incident.severity.value
            return self._escalate(
                out,
                ex,
                f"severity {sev}: policy hands {sev}-severity incidents to a "
                "human; proposed plan: " + _plan_text(plan),
                rb.assignment_group,
                data={"plan": out.as_dict()["plan"]},
            )
        if not self.config.dry_run:
            verdict, reasons = self.gate.plan(plan, ex)
            if verdict == "deny":
                return self._escalate(
                    out, ex, "policy denied the plan: " + "; ".join(reasons), rb.assignment_group
                )
            if verdict == "approval":
                return self._request_approval(out, ex, rb, ctx, reasons)
        return self._act(out, ex, ev, rb, ctx, started)

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
        ex = ToolExecutor(self.view, self.recorder, incident_id=incident_id, dry_run=self.config.dry_run)
        ex.gate = lambda tool, device, params: self.gate.step(ex, tool, device)
        return ex, Evaluator(ex)

    def _diagnose(
        self, incident: Incident, out: Outcome, ev: Evaluator
    ) -> tuple[Runbook, dict[str, Any]] | None:
        contexts = contexts_for(incident, self.view.inventory())
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

    # --- approval --------------------------------------------------------------------------------------
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
        tid = out.ticket_id
        affected = self._affected(out.plan)
        pre = snapshot.take(ex, affected) if self.config.snapshots and not self.config.dry_run else {}
        for tool, device, params in out.plan:
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
                self._rollback(out, ex, pre, affected)
                reason = f"{tool} on {device} was not carried out ({res.status.value}: {res.error})"
                return self._escalate(out, ex, reason, rb.assignment_group)
        if self.config.dry_run:
            return self._close_dry_run(out, ex, rb)
        self.tickets.work_note(
            tid,
            f"Applied {len(out.plan)} change(s) from {rb.id}",
            self.view.now(),
            kind="change",
            data={"actions": out.actions},
        )
        self.view.wait(self.config.convergence_s)
        if pre:
            post = snapshot.take(ex, affected)
            out.state_diff = snapshot.diff(pre, post)
            out.collateral = snapshot.broken(out.state_diff)
            self.tickets.work_note(
                tid,
                f"Post-change state diff: {len(out.state_diff)} change(s)",
                self.view.now(),
                kind="snapshot_diff",
                data={"diff": out.state_diff},
            )
            if out.collateral:
                self._rollback(out, ex, pre, affected)
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
        if all(c.holds for c in checks):
            out.outcome, out.validated = "resolved", True
            out.time_to_mitigate_s = (self.view.now() - started).total_seconds()
            out.reason = f"{rb.title}: fixed and verified by {len(checks)} fresh check(s)"
            self.tickets.transition(
                tid,
                "resolved",
                out.reason,
                self.view.now(),
                runbook_id=rb.id,
                diagnosis=out.diagnosis,
                resolution=out.reason,
                data={"validation": out.validation, "state_diff": out.state_diff},
            )
            log.info("[%s] resolved: %s", out.incident.id, out.reason)
            return out
        failed = [c for c in checks if not c.holds]
        self._rollback(out, ex, pre, affected)
        reason = "validation failed after the fix: " + "; ".join(
            f"{c.check} (observed {c.observed})" for c in failed
        )
        if out.rolled_back:
            reason += f"; changes rolled back{self._verified(out)}"
        return self._escalate(out, ex, reason, rb.assignment_group)

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
        ex.changed_devices.clear()
        if out.rolled_back and pre:
            self.view.wait(self.config.convergence_s)
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

    def _symptoms_cleared(self, incident: Incident, ex: ToolExecutor) -> tuple[bool, str]:
        """Re-observe what the incident is about: is every suspect healthy now?

        Used only when no runbook is confirmed: a transient spike that cleared by itself is
        a false alarm (no fault found); anything still wrong is escalated. Healthy means,
        on fresh reads: interfaces up with error and drop counters steady and utilisation
        below 90%; BGP sessions Established; CPU below 70% and memory below 80% and not
        climbing between two reads (a leak under the bar is not healthy); an
        incident's prefix reachable from the device. The limits are `config.healthy`
        (detection.yaml `healthy:`, shared with monitoring).
        """
        lim = self.config.healthy
        places = [(s.device, s.interface, s.peer) for s in incident.suspects[:3]] or [
            (incident.device, incident.interface, incident.peer)
        ]
        seen: list[str] = []
        for device, interface, peer in places:
            problem = (
                self._interface_problem(ex, device, interface, seen)
                if interface
                else self._device_problem(ex, device, seen)
            )
            if not problem and peer:
                problem = self._session_problem(ex, device, peer, seen)
            if problem:
                return False, "; ".join(seen)
        if incident.prefix:
            import ipaddress

            host = str(ipaddress.IPv4Network(incident.prefix, strict=False).network_address + 10)
            res = ex.run("ping", incident.device, destination=host, count=lim.ping_count)
            ok = res.ok and (res.parsed or {}).get("success_pct", 0) >= lim.min_ping_success_pct
            seen.append(f"ping {host} from {incident.device} {'ok' if ok else 'fails'}")
            if not ok:
                return False, "; ".join(seen)
        return True, "; ".join(seen)

    def _interface_problem(self, ex: ToolExecutor, device: str, interface: str, seen: list[str]) -> bool:
        reads = []
        for n in range(2):
            if n:
                self.view.wait(self.config.healthy.counter_interval_s)
            res = ex.run("show_interfaces", device, interface=interface)
            rows = [r for r in res.parsed or [] if r["interface"] == interface] if res.ok else []
            if not rows:
                seen.append(f"{device} {interface} {res.status.value}")
                return True
            reads.append(rows[0])
        first, last = reads
        growing = [
            k
            for k in ("crc", "input_errors", "output_drops", "late_collisions")
            if last.get(k, 0) > first.get(k, 0)
        ]
        seen.append(
            f"{device} {interface} {last['protocol_status']}, util {last.get('output_util_pct', 0):.0f}%"
            + (f", {'/'.join(growing)} rising" if growing else "")
        )
        busy = last.get("output_util_pct", 0) >= self.config.healthy.max_utilisation_pct
        return last["protocol_status"] != "up" or bool(growing) or busy

    def _device_problem(self, ex: ToolExecutor, device: str, seen: list[str]) -> bool:
        cpu_res = ex.run("show_processes_cpu", device)
        cpu = (cpu_res.parsed or {}).get("cpu_5_sec") if cpu_res.ok else None
        mem_res = ex.run("show_memory_statistics", device)
        mem = (mem_res.parsed or {}).get("used_pct") if mem_res.ok else None
        if cpu is None:
            seen.append(f"{device} {cpu_res.status.value}")
            return True
        lim = self.config.healthy
        rising = False
        if cpu < lim.max_cpu_pct and mem is not None and mem < lim.max_memory_pct:
            # under the bar now: a leak still climbing towards it is not healthy either
            self.view.wait(lim.counter_interval_s)
            again = ex.run("show_memory_statistics", device)
            later = (again.parsed or {}).get("used") if again.ok else None
            before = (mem_res.parsed or {}).get("used")
            rising = later is not None and before is not None and later > before
        seen.append(
            f"{device} CPU {cpu:.0f}%"
            + (f", memory {mem:.0f}%" if mem is not None else "")
            + (" and rising" if rising else "")
        )
        return cpu >= lim.max_cpu_pct or (mem is not None and mem >= lim.max_memory_pct) or rising

    def _session_problem(self, ex: ToolExecutor, device: str, peer: str, seen: list[str]) -> bool:
        res = ex.run("show_ip_bgp_summary", device)
        rows = [r for r in res.parsed or [] if r["neighbor"] == peer] if res.ok else []
        state = rows[0]["state"] if rows else res.status.value
        seen.append(f"{device} BGP {peer} {state}")
        return state != "Established"

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
        )
        log.warning("[%s] escalated to %s: %s", out.incident.id, group, reason)
        return out


def _plan_text(plan: list[Step]) -> str:
    return "; ".join(f"{d}: {t} {p}" for t, d, p in plan)
