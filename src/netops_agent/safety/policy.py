"""Change policy: which actions the agent may take on its own, loaded from YAML.

The gate runs before every network-changing tool call; its decision and reason
are returned to the executor (and recorded). Rules match on risk class, device
role and tool name; maintenance windows and a blast-radius limit apply on top, and
the last working uplink of a device is never taken down.
"""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from netops_agent.inputs import read_yaml, validate
from netops_agent.models import Severity
from netops_agent.tools.base import Risk, Tool
from netops_agent.tools.executor import GateDecision

Action = Literal["auto", "approval", "deny"]
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class _Strict(BaseModel):
    # defer_build: each model builds its validator on first use, not at import
    model_config = ConfigDict(extra="forbid", defer_build=True)


def _as_list(v: Any) -> Any:
    return [v] if isinstance(v, str) else v


class Rule(_Strict):
    risk: list[Risk] | None = None
    role: list[str] | None = None
    tool: list[str] | None = None
    action: Action
    reason: str = ""

    _lists = field_validator("risk", "role", "tool", mode="before")(_as_list)

    def matches(self, tool: Tool, role: str) -> bool:
        return (
            (self.risk is None or tool.risk in self.risk)
            and (self.role is None or role in self.role)
            and (self.tool is None or tool.name in self.tool)
        )


class Window(_Strict):
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(
        default_factory=lambda: list(DAYS)
    )
    start: time
    end: time

    def contains(self, at: datetime) -> bool:
        return DAYS[at.weekday()] in self.days and self.start <= at.time() < self.end


class Maintenance(_Strict):
    windows: list[Window] = Field(default_factory=list)
    tools: list[str] = Field(default_factory=list)

    def open_at(self, at: datetime) -> bool:
        return any(w.contains(at) for w in self.windows)


class SeverityRule(_Strict):
    auto_max: Severity = Severity.medium


class BlastRadius(_Strict):
    max_devices_per_incident: int = Field(2, ge=1)


class Policy(_Strict):
    version: int = 1
    rules: list[Rule] = Field(
        default_factory=lambda: [
            Rule(action="auto", risk=[Risk.read, Risk.low, Risk.medium]),
            Rule(action="approval", risk=[Risk.high]),
        ]
    )
    severity: SeverityRule = Field(default_factory=SeverityRule)
    maintenance: Maintenance = Field(default_factory=Maintenance)
    blast_radius: BlastRadius = Field(default_factory=BlastRadius)
    protect_last_path: bool = True
    approval_ttl_minutes: int = Field(240, ge=1)

    def decide(self, tool: Tool, role: str, at: datetime) -> GateDecision:
        """The rule-based part of the gate (live-state checks are added by the agent)."""
        if tool.name in self.maintenance.tools and not self.maintenance.open_at(at):
            return GateDecision("deny", f"{tool.name} is allowed only in a maintenance window")
        for rule in self.rules:
            if rule.matches(tool, role):
                action = "allow" if rule.action == "auto" else rule.action
                why = rule.reason or f"{tool.risk.value} risk on a {role}"
                return GateDecision(action, f"policy: {rule.action} ({why})")
        return GateDecision("approval", "policy: no rule matched; a human decides")

    def severity_needs_human(self, severity: Severity) -> bool:
        return severity.rank > self.severity.auto_max.rank


def default_policy_path() -> Path:
    return Path(__file__).resolve().parent.parent / "data" / "policy.yaml"


def load_policy(path: Path | None = None) -> Policy:
    path = path or default_policy_path()
    raw = read_yaml(path, missing_fix="pass an existing --policy file")
    return validate(
        Policy, raw or {}, path, where=lambda loc: "field " + ".".join(map(str, loc)),
        fix="see data/policy.yaml for the format",
    )  # fmt: skip
