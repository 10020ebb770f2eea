"""Policy gating for a plan and for each step: the agent asks, the policy answers.

`PolicyGate.step` is the `tools.executor.Gate` the agent installs on its executor
(every decision is recorded); `PolicyGate.plan` gates a whole plan before anything
is touched, so a plan never stops half-way; `cuts_last_path` is the live check that
shutting an interface would not leave a device without a working uplink.
"""

from __future__ import annotations

from typing import Any

from netops_agent.lab.base import NetworkView
from netops_agent.safety.policy import Policy
from netops_agent.tools.base import Tool
from netops_agent.tools.executor import GateDecision, Recorder, ToolExecutor
from netops_agent.tools.registry import TOOLS

PATH_CUTTING_TOOLS = {"interface_shutdown"}
Step = tuple[str, str, dict[str, Any]]


class PolicyGate:
    def __init__(self, policy: Policy, view: NetworkView, recorder: Recorder) -> None:
        self.policy = policy
        self.view = view
        self.recorder = recorder
        self.approved_by: str | None = None  # set while carrying on an approved plan

    def step(self, ex: ToolExecutor, tool: Tool, device: str) -> GateDecision:
        """Policy for one step, plus the blast radius so far; every decision is recorded."""
        if self.approved_by:
            decision = GateDecision("allow", f"approved by {self.approved_by}")
        else:
            decision = decide_step(self.policy, self.view, ex, tool, device)
        record_decision(self.recorder, self.view, ex.incident_id, tool, device, decision)
        return decision

    def plan(self, plan: list[Step], ex: ToolExecutor) -> tuple[str, list[str]]:
        """("allow" | "approval" | "deny", reasons) for a whole plan, before touching anything."""
        limit = self.policy.blast_radius.max_devices_per_incident
        devices = {d for t, d, _ in plan if TOOLS.get(t).changes_network}
        reasons, verdict = [], "allow"
        if len(devices) > limit:
            verdict = "approval"
            reasons.append(f"plan changes {len(devices)} devices (limit {limit})")
        for tool_name, device, params in plan:
            tool = TOOLS.get(tool_name)
            decision = self.policy.decide(tool, self.view.inventory().device(device).role, self.view.now())
            if self.policy.protect_last_path and tool_name in PATH_CUTTING_TOOLS:
                cut = cuts_last_path(self.view, ex, device, str(params.get("interface")))
                if cut:
                    decision = GateDecision("deny", cut)
            if decision.action == "deny":
                return "deny", [decision.reason]
            if decision.action == "approval":
                verdict = "approval"
                reasons.append(f"{tool_name} on {device}: {decision.reason}")
        return verdict, reasons


def decide_step(policy: Policy, view: NetworkView, ex: ToolExecutor, tool: Tool, device: str) -> GateDecision:
    """What policy says of one change step now, for any agent: the agent's own rollback is
    reserved (always allowed), then the device role's rule, then the blast radius so far."""
    if tool.name == "rollback_config" and device in ex.changed_devices:
        # Reserved when the change was made: undoing the agent's own change in the same
        # incident is always allowed, so no change is ever made that cannot be undone.
        return GateDecision("allow", "reserved: rollback of this incident's own change")
    decision = policy.decide(tool, view.inventory().device(device).role, view.now())
    if decision.action != "allow":
        return decision
    limit = policy.blast_radius.max_devices_per_incident
    touched = set(ex.changed_devices) | {device}
    if len(touched) > limit:
        return GateDecision(
            "approval", f"blast radius: this incident would change {len(touched)} devices (limit {limit})"
        )
    return decision


def record_decision(
    recorder: Recorder, view: NetworkView, incident_id: str, tool: Tool, device: str, decision: GateDecision
) -> None:
    """The audit row of one gate decision (`policy_decisions`)."""
    recorder.decision(
        {
            "ts": view.now(),
            "incident_id": incident_id,
            "device": device,
            "tool": tool.name,
            "risk": tool.risk.value,
            "decision": decision.action,
            "reason": decision.reason,
        }
    )


def cuts_last_path(view: NetworkView, ex: ToolExecutor, device: str, interface: str) -> str:
    """Why shutting this interface would leave the device without a working uplink ("" if not)."""
    inv = view.inventory()
    uplinks = {i.name for i in inv.interfaces if i.device == device and i.kind == "p2p"}
    if interface not in uplinks:
        return ""
    brief = ex.run("show_ip_interface_brief", device)
    up = {r["interface"] for r in brief.parsed or [] if r["proto"] == "up"} if brief.ok else set()
    if not (uplinks & up) - {interface}:
        return f"shutting {device} {interface} would take down its last working uplink"
    return ""
