"""The workbench: everything an agent other than our own may do, and nothing more.

A `Workbench` holds the network view (inventory, tools through the executor, the
clock), the knowledge base, the ticket system and the change policy; it is what the
MCP server serves and what the LLM planner calls. Every network call goes through
`ToolExecutor` (validated, audited), every change through the policy gate, and the
ticket rules are enforced here rather than trusted to the caller:

- a ticket is marked resolved (or closed as "no fault found") only when a validation
  run after the incident's last change passed;
- escalating (or leaving a ticket open) rolls back the incident's changes that no
  passing validation covers.

`Rules(gated=False, require_validation=False)` exists only so the evaluation harness
can replay an ungated in-process baseline through this same interface and show the
scores are identical; nothing outside the harness turns it off.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from netops_agent.agent import SCOPE_KEYS, Outcome
from netops_agent.agents import reobserve
from netops_agent.agents.changes import CONVERGENCE_S, ChangeControl, IncidentWork, Rules, ToolCallError
from netops_agent.evidence import Evaluator, contexts_for
from netops_agent.knowledge.index import Retriever
from netops_agent.knowledge.schema import Runbook
from netops_agent.lab.base import NetworkView
from netops_agent.models import Incident, Severity, Suspect, ToolResult, ToolStatus
from netops_agent.safety.policy import Policy
from netops_agent.store import Store
from netops_agent.tickets.service import FINAL, TicketService
from netops_agent.tools.base import Tool
from netops_agent.tools.executor import Recorder, ToolExecutor
from netops_agent.tools.registry import TOOLS

log = logging.getLogger("netops_agent.workbench")


class Workbench:
    def __init__(
        self,
        net: NetworkView,
        *,
        store: Store,
        runbooks: dict[str, Runbook],
        retriever: Retriever,
        tickets: TicketService,
        policy: Policy,
        recorder: Recorder,
        rules: Rules | None = None,
        agent_name: str = "external",
    ) -> None:
        self.net = net
        self.store = store
        self.runbooks = runbooks
        self.retriever = retriever
        self.tickets = tickets
        self.policy = policy
        self.recorder = recorder
        self.rules = rules or Rules()
        self.agent_name = agent_name
        self.control = ChangeControl(
            net, store=store, tickets=tickets, policy=policy, recorder=recorder, rules=self.rules,
            agent_name=agent_name,
        )  # fmt: skip
        self.lock = threading.RLock()  # one call at a time (the MCP server may run in a thread)
        self._work: dict[str, IncidentWork] = {}
        self.after_call: Callable[[], None] | None = None  # e.g. save the twin after each call

    # --- incidents -----------------------------------------------------------------------------
    def begin(self, incident: Incident, ticket_id: str) -> IncidentWork:
        """Start (or continue) work on an incident: the ticket moves to in_progress."""
        with self.lock:
            work = self._work.get(incident.id)
            if work is None:
                ex = ToolExecutor(self.net, self.recorder, incident_id=incident.id)
                work = IncidentWork(incident, ticket_id, ex, self.net.now())
                ex.gate = lambda tool, device, params: self.control.gate(work, tool, device, params)
                self._work[incident.id] = work
            if self.tickets.get(ticket_id)["state"] == "new":
                self.tickets.transition(
                    ticket_id,
                    "in_progress",
                    f"{self.agent_name} picked up {incident.id}: {incident.title}",
                    self.net.now(),
                    author=self.agent_name,
                )
            return work

    def work(self, ref: str) -> IncidentWork:
        """The incident an agent names (incident id or ticket id), started if need be."""
        row = self.store.query_one(
            "SELECT id, incident_id FROM tickets WHERE incident_id = ? OR id = ? ORDER BY created_at DESC",
            [ref, ref],
        )
        if row is None:
            raise ToolCallError(f"no incident or ticket {ref!r}; call list_incidents to see the open ones")
        if row["incident_id"] in self._work:
            return self._work[row["incident_id"]]
        return self.begin(self._load_incident(row["incident_id"]), row["id"])

    def list_incidents(self, state: str = "open") -> list[dict[str, Any]]:
        sql = (
            "SELECT i.id, i.title, i.severity, i.device, i.interface, i.peer, i.prefix, i.alerts, "
            "t.id AS ticket_id, t.state AS ticket_state "
            "FROM incidents i JOIN tickets t ON t.incident_id = i.id"
        )
        if state == "open":
            sql += " WHERE t.state NOT IN ('resolved', 'escalated', 'closed')"
        elif state != "all":
            sql += " WHERE t.state = ?"
        return self.store.query(sql + " ORDER BY i.id", [state] if state not in ("open", "all") else None)

    def get_incident(self, ref: str) -> dict[str, Any]:
        work = self.work(ref)
        inc = work.incident
        ticket = self.tickets.get(work.ticket_id)
        alerts = self.store.query(
            "SELECT id, source, device, entity, check_name, severity, state, count, first_seen, last_seen, "
            "value, message FROM alerts WHERE incident_id = ? ORDER BY first_seen, id",
            [inc.id],
        )
        contexts = contexts_for(inc, self.net.inventory())
        return {
            "incident": inc.model_dump(mode="json"),
            "ticket": {k: ticket[k] for k in ("id", "state", "severity", "assignment_group", "runbook_id")},
            "alerts": alerts,
            "contexts": contexts,
            "clock": self.net.now().isoformat(),
            "rules": {
                "resolve_needs_validation": self.rules.require_validation,
                "changes_gated": self.rules.gated,
            },
        }

    # --- knowledge -----------------------------------------------------------------------------
    def search_runbooks(self, query: str, k: int = 5, ref: str | None = None) -> list[dict[str, Any]]:
        hits = self.retriever.retrieve(query, k=max(1, min(k, len(self.runbooks))))
        if ref is not None:
            work = self.work(ref)
            if work.retrieved is None:  # the first search is what retrieval is scored on
                work.retrieved = hits
        return [{"id": h.id, "title": h.title, "score": h.score, "fault_types": h.fault_types} for h in hits]

    def get_runbook(self, runbook_id: str) -> dict[str, Any]:
        rb = self._runbook(runbook_id)
        body = rb.model_dump(mode="json")
        body["target_keys"] = list(SCOPE_KEYS[rb.scope])
        return body

    def check_runbook(
        self, ref: str, runbook_id: str, section: str = "evidence", orientation: int = 0
    ) -> dict[str, Any]:
        """Run a runbook's evidence (or validation) checks in one orientation of the incident."""
        work = self.work(ref)
        rb = self._runbook(runbook_id)
        checks = {"evidence": rb.evidence, "validation": rb.validation}.get(section)
        if checks is None:
            raise ToolCallError(f"section must be 'evidence' or 'validation', not {section!r}")
        ctx = dict(self._context(work, orientation))
        ev = Evaluator(work.executor)
        results = [ev.check(c, ctx, fresh=section == "validation") for c in checks]
        base = self._context(work, orientation)
        captured = {k: v for k, v in ctx.items() if base.get(k) != v}
        return {
            "runbook": rb.id,
            "section": section,
            "orientation": orientation,
            "all_hold": all(r.holds for r in results) and bool(results),
            "checks": [r.as_dict() for r in results],
            "captured": captured,
        }

    # --- the network -----------------------------------------------------------------------------
    def inventory(self) -> dict[str, Any]:
        return self.net.inventory().model_dump(mode="json")

    def read(self, ref: str, tool_name: str, device: str, params: dict[str, Any]) -> dict[str, Any]:
        """One read-only tool call through the executor (audited under the incident)."""
        tool = self._tool(tool_name)
        if tool.changes_network:
            raise ToolCallError(f"{tool_name} changes the network; call propose_change for it")
        work = self.work(ref)
        self._device(device)
        return _result(work.executor.run(tool_name, device, **params))

    def propose_change(
        self,
        ref: str,
        tool_name: str,
        device: str,
        params: dict[str, Any],
        *,
        reason: str = "",
        runbook_id: str | None = None,
        approval_id: str | None = None,
        diagnosis: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A change through the policy gate: applied, approval_required, denied or error.

        `runbook_id` and `diagnosis` go on the ticket if the change must wait for a human."""
        tool = self._tool(tool_name)
        if not tool.changes_network:
            raise ToolCallError(f"{tool_name} is read-only; call it directly instead of proposing it")
        if tool_name == "rollback_config":
            raise ToolCallError("roll back with the rollback tool (it restores this incident's changes)")
        work = self.work(ref)
        self._device(device)
        state = self.tickets.get(work.ticket_id)["state"]
        if state in FINAL:
            raise ToolCallError(f"ticket {work.ticket_id} is {state}; no more changes for {work.incident.id}")
        if approval_id is not None:
            self.control.approved(work, approval_id, tool_name, device, params)
        work.last_decision = None
        try:
            res = work.executor.run(tool_name, device, **params)
        finally:
            work.approved_by = None
        out = _result(res)
        action = {"tool": tool_name, "device": device, "params": params, "status": res.status.value,
                  "command": res.command, "error": res.error, "reason": reason}  # fmt: skip
        work.actions.append(action)
        decision = work.last_decision
        if res.status == ToolStatus.denied and decision is not None and decision.action == "approval":
            out["status"] = "approval_required"
            out["approval_id"] = self.control.request_approval(
                work, tool, device, params, decision, runbook_id, diagnosis
            )
            out["next"] = (
                f"a human must approve {out['approval_id']} (`netops-agent approve {out['approval_id']}`); "
                "then propose the same change again with approval_id"
            )
            return out
        if res.ok and not (isinstance(res.parsed, dict) and res.parsed.get("lines") == []):
            work.changes += 1
            work.last_device = device
            out["status"] = "applied"
            out["next"] = "call validate before resolving the ticket"
        elif res.ok:
            out["status"] = "unchanged"
        return out

    def rollback(self, ref: str, reason: str = "") -> dict[str, Any]:
        """Return every device this incident changed to its config before the first change."""
        work = self.work(ref)
        return self.control.rollback(work, reason or "rollback requested by the agent")

    def validate(
        self, ref: str, runbook_id: str | None = None, orientation: int | None = None
    ) -> dict[str, Any]:
        """Re-observe with fresh reads: the incident's symptoms, and the runbook's validation checks
        when one is named (the agent's choice of runbook alone proves nothing)."""
        work = self.work(ref)
        if work.changes and work.validated_at != work.changes:
            self.net.wait(CONVERGENCE_S)  # let protocols converge after the change
        if runbook_id:
            rb = self._runbook(runbook_id)
            if not rb.validation:
                raise ToolCallError(
                    f"runbook {rb.id} has no validation checks; call validate without runbook_id "
                    "to re-observe the incident's symptoms"
                )
            n = self._orientation(work) if orientation is None else orientation
            ctx = dict(self._context(work, n))
            ev = Evaluator(work.executor)
            checks = [ev.check(c, ctx, fresh=True).as_dict() for c in rb.validation]
            # The agent chose the runbook; the incident's own symptoms must be gone too.
            checks += reobserve.symptoms(work.incident, work.executor)
            what = f"{rb.id} validation and the incident's symptoms ({len(checks)} check(s))"
        else:
            checks = reobserve.symptoms(work.incident, work.executor)
            what = f"re-observation of the incident's symptoms ({len(checks)} check(s))"
        passed = bool(checks) and all(c["holds"] for c in checks)
        work.validated_at = work.changes if passed else None
        work.validation = checks
        self.tickets.work_note(
            work.ticket_id,
            f"Validation {'passed' if passed else 'FAILED'}: {what}",
            self.net.now(),
            kind="validation",
            author=self.agent_name,
            data={"passed": passed, "runbook": runbook_id, "checks": checks, "after_changes": work.changes},
        )
        self.recorder.flush()
        out: dict[str, Any] = {"passed": passed, "checks": checks, "changes_so_far": work.changes}
        if not passed:
            out["next"] = (
                "roll back (rollback) or try another fix; resolving is refused until a validation passes"
            )
        return out

    # --- the ticket --------------------------------------------------------------------------------
    def update_ticket(
        self,
        ref: str,
        state: str,
        reason: str,
        *,
        runbook_id: str | None = None,
        diagnosis: dict[str, Any] | None = None,
        group: str | None = None,
    ) -> dict[str, Any]:
        """Close the ticket as resolved / closed (no fault found) / escalated, or add a note."""
        work = self.work(ref)
        if not reason.strip():
            raise ToolCallError("give a reason: it is what the next engineer reads on the ticket")
        if runbook_id is not None:
            self._runbook(runbook_id)
        now = self.net.now
        tid = work.ticket_id
        if state == "note":
            self.tickets.work_note(tid, reason, now(), author=self.agent_name, data={"diagnosis": diagnosis})
            return {"ticket": tid, "state": self.tickets.get(tid)["state"]}
        if state in ("resolved", "closed"):
            self._may_close(work, state)
            data = {"validation": work.validation, "validated": work.validated}
            self.tickets.transition(
                tid,
                state,
                reason,
                now(),
                author=self.agent_name,
                runbook_id=runbook_id,
                diagnosis=diagnosis,
                resolution=reason,
                data=data,
            )
        elif state == "escalated":
            if work.changes and not work.validated and self.rules.require_validation:
                self.control.rollback(work, "escalating: unvalidated changes are rolled back first")
            self.tickets.escalate(
                tid,
                reason,
                now(),
                group=group or self._group(runbook_id),
                runbook_id=runbook_id,
                diagnosis=diagnosis,
                data={"by": self.agent_name},
            )
        else:
            raise ToolCallError(f"state must be resolved, closed, escalated or note, not {state!r}")
        self.recorder.flush()
        return {"ticket": tid, "state": state, "rolled_back": work.rolled_back}

    def finish(self, incident: Incident, ticket_id: str) -> Outcome:
        """After the agent stopped: close what it left open (escalate) and report the outcome."""
        with self.lock:
            work = (
                self.begin(incident, ticket_id) if incident.id not in self._work else self._work[incident.id]
            )
            state = self.tickets.get(ticket_id)["state"]
            if state in ("new", "in_progress"):
                self.update_ticket(
                    incident.id, "escalated", f"{self.agent_name} stopped without closing the ticket"
                )
            self.recorder.flush()
            return self.outcome(work)

    def outcome(self, work: IncidentWork) -> Outcome:
        t = self.tickets.get(work.ticket_id)
        out = Outcome(work.incident, work.ticket_id)
        out.outcome = {"resolved": "resolved", "closed": "no_action"}.get(t["state"], "escalated")
        out.escalated = out.outcome == "escalated"
        out.runbook = t["runbook_id"]
        diag = t["diagnosis"]
        out.diagnosis = (json.loads(diag) if isinstance(diag, str) else diag) or {
            "type": None,
            "target": None,
        }
        out.reason = t["resolution"] or t["escalation_reason"] or ""
        out.retrieved = work.retrieved or []
        out.tool_calls = work.executor.calls
        out.validated = work.validated and t["state"] == "resolved"
        out.validation = work.validation
        out.actions = work.actions
        out.rolled_back = work.rolled_back
        out.approval_id = work.approval_id
        if t["state"] == "resolved" and t["closed_at"] is not None:
            out.time_to_mitigate_s = (t["closed_at"] - work.started.replace(tzinfo=None)).total_seconds()
        return out

    # --- internals ---------------------------------------------------------------------------------
    def _may_close(self, work: IncidentWork, state: str) -> None:
        if not self.rules.require_validation:
            return
        if not work.validated:
            why = (
                f"{work.changes} change(s) since the last passing validation"
                if work.validated_at is not None
                else "no validation has passed yet"
            )
            raise ToolCallError(
                f"refused: ticket {work.ticket_id} cannot be {state} ({why}); call validate first"
            )
        if state == "closed" and work.changes:
            raise ToolCallError(
                f"refused: {work.incident.id} was changed; close it as resolved (validated) or escalate it"
            )

    def _runbook(self, runbook_id: str) -> Runbook:
        try:
            return self.runbooks[runbook_id]
        except KeyError:
            raise ToolCallError(
                f"unknown runbook {runbook_id!r}; search_runbooks lists them "
                f"(e.g. {next(iter(self.runbooks))})"
            ) from None

    def _tool(self, name: str) -> Tool:
        if name not in TOOLS:
            raise ToolCallError(f"unknown tool {name!r}; known tools: {', '.join(TOOLS.names())}")
        return TOOLS.get(name)

    def _device(self, device: str) -> None:
        if device not in set(self.net.inventory().device_names()):
            names = sorted(self.net.inventory().device_names())
            raise ToolCallError(f"unknown device {device!r}; devices include {', '.join(names[:6])}, ...")

    def _context(self, work: IncidentWork, orientation: int) -> dict[str, Any]:
        contexts = contexts_for(work.incident, self.net.inventory())
        if not 0 <= orientation < len(contexts):
            raise ToolCallError(f"orientation must be 0..{len(contexts) - 1} for {work.incident.id}")
        return contexts[orientation]

    def _orientation(self, work: IncidentWork) -> int:
        contexts = contexts_for(work.incident, self.net.inventory())
        for n, ctx in enumerate(contexts):
            if ctx.get("device") == work.last_device:
                return n
        return 0

    def _group(self, runbook_id: str | None) -> str:
        if runbook_id and runbook_id in self.runbooks:
            rb = self.runbooks[runbook_id]
            return rb.escalate.group if rb.escalate else rb.assignment_group
        return "network-operations"

    def _load_incident(self, incident_id: str) -> Incident:
        r = self.store.query_one("SELECT * FROM incidents WHERE id = ?", [incident_id])
        if r is None:
            raise ToolCallError(f"no incident {incident_id}")
        suspects = json.loads(r["suspects"]) if isinstance(r["suspects"], str) else r["suspects"] or []
        return Incident(
            id=r["id"], title=r["title"], summary=r["summary"], severity=Severity(r["severity"]),
            device=r["device"], interface=r["interface"], peer=r["peer"], prefix=r.get("prefix"),
            suspects=[Suspect(**s) for s in suspects], alerts=r["alerts"] or 0,
        )  # fmt: skip


def _result(res: ToolResult) -> dict[str, Any]:
    return {
        "status": res.status.value,
        "tool": res.tool,
        "device": res.device,
        "command": res.command,
        "parsed": res.parsed,
        "raw": res.raw,
        "error": res.error,
    }
