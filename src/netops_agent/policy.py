"""Change policy: which actions the agent may take on its own.

The gate runs before every network-changing tool call and its decision is
recorded. Defaults: reads always; low and medium risk automatically; high risk
needs a human; incidents above `auto_max_severity` are handed to a human with
the proposed plan instead of being fixed automatically.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from netops_agent.models import Severity
from netops_agent.tools.base import Risk, Tool
from netops_agent.tools.executor import GateDecision


@dataclass
class Policy:
    auto_max_risk: Risk = Risk.medium
    auto_max_severity: Severity = Severity.medium
    max_devices_per_incident: int = 2

    def gate(self, tool: Tool, device: str, params: Any) -> GateDecision:
        if tool.risk.rank <= self.auto_max_risk.rank:
            return GateDecision("allow", f"{tool.risk.value} risk is within the automatic limit")
        return GateDecision("approval", f"{tool.name} is {tool.risk.value} risk: a human must approve it")

    def severity_needs_human(self, severity: Severity) -> bool:
        return severity.rank > self.auto_max_severity.rank
