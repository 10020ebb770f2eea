"""The tools an external or LLM agent may call: names, JSON schemas, and dispatch.

One catalogue serves both front ends: the MCP server lists it as MCP tools (with an
`incident_id` argument) and the LLM planner as OpenAI function tools (the incident is
bound, so the model never names it). Meta tools have a Pydantic argument model; every
read-only tool of the registry becomes a tool of its own whose schema is the tool's
parameter model plus `device`. Bad calls raise `ToolCallError` with a message written
for the caller to fix its next call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from netops_agent.agents.workbench import ToolCallError, Workbench
from netops_agent.tools.registry import TOOLS


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ListIncidents(_Args):
    state: str = Field("open", description="open (default), all, or a ticket state such as escalated")


class NoArgs(_Args):
    pass


class SearchRunbooks(_Args):
    query: str = Field(min_length=1, description="Symptoms in words, e.g. the incident title and summary")
    k: int = Field(5, ge=1, le=50, description="How many runbooks to return, best first")


class GetRunbook(_Args):
    runbook_id: str = Field(description="A runbook id such as RB-IF-ADMIN-DOWN")


class CheckRunbook(_Args):
    runbook_id: str
    section: Literal["evidence", "validation"] = "evidence"
    orientation: int = Field(0, ge=0, le=1, description="0: as reported; 1: the far end of the link/session")


class ProposeChange(_Args):
    tool: str = Field(description="A change tool (risk low/medium/high), e.g. interface_no_shutdown")
    device: str
    params: dict[str, Any] = Field(default_factory=dict, description="The tool's parameters")
    reason: str = Field("", description="Why this change fixes the diagnosed cause")
    runbook_id: str | None = None
    approval_id: str | None = Field(None, description="An approved approval for exactly this change")
    diagnosis: dict[str, Any] | None = Field(
        None, description="Your diagnosis, kept on the ticket if the change waits for approval"
    )


class Validate(_Args):
    runbook_id: str | None = Field(
        None, description="Also run this runbook's validation checks (the symptoms are always re-observed)"
    )
    orientation: int | None = Field(None, ge=0, le=1)


class Rollback(_Args):
    reason: str = ""


class UpdateTicket(_Args):
    state: Literal["resolved", "closed", "escalated", "note"] = Field(
        description="resolved (fixed and validated), closed (no fault found, validated), escalated, note"
    )
    reason: str = Field(min_length=1, description="What the next engineer reads on the ticket")
    runbook_id: str | None = None
    diagnosis: dict[str, Any] | None = Field(
        None, description='{"type": fault type, "target": {device, interface, ...}}'
    )
    group: str | None = Field(None, description="Assignment group when escalating")


@dataclass(frozen=True)
class Spec:
    name: str
    description: str
    args: type[BaseModel]
    call: Callable[[Workbench, str | None, Any], Any]
    incident: bool = True  # takes the incident it works on

    def schema(self, *, with_incident: bool) -> dict[str, Any]:
        s = self.args.model_json_schema()
        s.pop("title", None)
        props = dict(s.get("properties", {}))
        required = list(s.get("required", []))
        if self.incident and with_incident:
            props = {
                "incident_id": {"type": "string", "description": "Incident (IM-0001) or ticket id"}
            } | props
            required = ["incident_id", *required]
        out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
        if required:
            out["required"] = required
        if "$defs" in s:
            out["$defs"] = s["$defs"]
        return out


def _network_spec(name: str) -> Spec:
    tool = TOOLS.get(name)
    model = create_model(
        f"{name}_args",
        __base__=tool.params,
        device=(str, Field(description="A device name from the inventory")),
    )

    def call(wb: Workbench, ref: str | None, a: Any) -> Any:
        params = a.model_dump(exclude={"device"}, exclude_none=True)
        return wb.read(_need(ref), name, a.device, params)

    desc = f"{tool.description} Read-only; returns parsed rows and the raw device text."
    return Spec(name, desc, model, call)


def _need(ref: str | None) -> str:
    if not ref:
        raise ToolCallError("incident_id is required")
    return ref


META = [
    Spec(
        "list_incidents",
        "Incidents with their ticket state (open ones by default).",
        ListIncidents,
        lambda wb, ref, a: wb.list_incidents(a.state),
        incident=False,
    ),
    Spec(
        "get_incident",
        "One incident: title, symptom summary, severity, ranked suspects, its alerts, its ticket, and the "
        "context variables runbooks use ({device}, {interface}, {peer}, ...) in each orientation.",
        NoArgs,
        lambda wb, ref, a: wb.get_incident(_need(ref)),
    ),
    Spec(
        "search_runbooks",
        "Rank runbooks by similarity to a text (TF-IDF cosine). Returns ids, titles, scores, fault types.",
        SearchRunbooks,
        lambda wb, ref, a: wb.search_runbooks(a.query, a.k, ref),
    ),
    Spec(
        "get_runbook",
        "A runbook in full: evidence checks, remediation steps, validation checks, escalation.",
        GetRunbook,
        lambda wb, ref, a: wb.get_runbook(a.runbook_id),
        incident=False,
    ),
    Spec(
        "check_runbook",
        "Run a runbook's evidence (or validation) checks on the incident through read-only tools; "
        "returns each check with what was observed, and values the checks captured.",
        CheckRunbook,
        lambda wb, ref, a: wb.check_runbook(_need(ref), a.runbook_id, a.section, a.orientation),
    ),
    Spec(
        "propose_change",
        "Apply a change through the policy gate. status: applied, unchanged, approval_required "
        "(with approval_id; a human decides), denied, or error.",
        ProposeChange,
        lambda wb, ref, a: wb.propose_change(
            _need(ref),
            a.tool,
            a.device,
            a.params,
            reason=a.reason,
            runbook_id=a.runbook_id,
            approval_id=a.approval_id,
            diagnosis=a.diagnosis,
        ),
    ),
    Spec(
        "validate",
        "Re-observe with fresh reads after a change (waits for convergence first): the incident's "
        "symptoms, plus the runbook's validation checks if named. Resolving needs a pass.",
        Validate,
        lambda wb, ref, a: wb.validate(_need(ref), a.runbook_id, a.orientation),
    ),
    Spec(
        "rollback",
        "Return every device this incident changed to its configuration before the first change.",
        Rollback,
        lambda wb, ref, a: wb.rollback(_need(ref), a.reason),
    ),
    Spec(
        "update_ticket",
        "Resolve (needs a passing validation after the last change), close as no fault found "
        "(validated, nothing changed), escalate to humans (unvalidated changes are rolled back), "
        "or add a note.",
        UpdateTicket,
        lambda wb, ref, a: wb.update_ticket(
            _need(ref), a.state, a.reason, runbook_id=a.runbook_id, diagnosis=a.diagnosis, group=a.group
        ),
    ),
]


@functools.lru_cache(maxsize=1)
def catalogue() -> dict[str, Spec]:
    specs = {s.name: s for s in META}
    for tool in TOOLS:
        if not tool.changes_network:
            specs[tool.name] = _network_spec(tool.name)
    return specs


def call(wb: Workbench, name: str, args: dict[str, Any] | None, incident: str | None = None) -> Any:
    """Dispatch one tool call; `incident` binds the incident (else args carry incident_id)."""
    specs = catalogue()
    spec = specs.get(name)
    if spec is None:
        raise ToolCallError(f"unknown tool {name!r}; tools: {', '.join(sorted(specs))}")
    args = dict(args or {})
    ref = incident if incident is not None else args.pop("incident_id", None)
    if incident is not None:
        args.pop("incident_id", None)
    try:
        parsed = spec.args.model_validate(args)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors()
        )
        raise ToolCallError(f"invalid arguments for {name}: {problems}") from None
    with wb.lock:
        try:
            return spec.call(wb, ref, parsed)
        finally:
            if wb.after_call is not None:
                wb.after_call()
