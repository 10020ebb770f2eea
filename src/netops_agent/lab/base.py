"""The Lab protocol: how every backend (sim twin, FRR namespaces) looks to the agent.

The agent and the tools see a network only through `Lab`: an inventory (the source
of truth), commands that return text or JSON, configuration pushes, and the passage
of time. Ground truth about injected faults lives behind `FaultInjector`, which
only the scenario loader and the evaluation harness use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from netops_agent.models import FaultSpec, InjectedFault, Inventory


@dataclass
class CommandOutput:
    """The raw answer of a device to one command."""

    ok: bool
    text: str
    error: str = ""
    reachable: bool = True
    fmt: str = "text"  # "text" (vendor CLI) or "json"
    data: Any = None  # decoded JSON when fmt == "json"
    meta: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Lab(Protocol):
    """A network the agent can observe and change."""

    backend: str
    platform: str  # the parser family tools use: "cisco_ios" (sim) or "frr"

    def inventory(self) -> Inventory: ...

    def golden_config(self, device: str) -> str:
        """Intended configuration from the source of truth (config management)."""
        ...

    def execute(self, device: str, command: str) -> CommandOutput:
        """Run one read-only or exec-mode command on a device."""
        ...

    def configure(self, device: str, lines: list[str]) -> CommandOutput:
        """Apply configuration lines in config mode (like `configure terminal`)."""
        ...

    def now(self) -> datetime:
        """The lab's clock (simulated for the twin, wall clock for FRR)."""
        ...

    def advance(self, seconds: float) -> None:
        """Let time pass: protocols converge, counters grow, telemetry is sampled."""
        ...

    def state_hash(self) -> str:
        """A digest of configuration and condition: equal before/after means unchanged."""
        ...


@runtime_checkable
class FaultInjector(Protocol):
    """Ground-truth side of a lab: only the scenario loader and harness use it."""

    def inject(self, spec: FaultSpec, seed: int = 0) -> InjectedFault: ...

    def injected(self) -> list[InjectedFault]: ...

    def fault_present(self, fault: InjectedFault) -> bool:
        """Is the root cause of this fault still in the network?"""
        ...
