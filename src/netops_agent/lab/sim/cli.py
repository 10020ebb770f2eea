"""IOS command parsing and rendering for the twin (placeholder; being written)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from netops_agent.lab.base import CommandOutput

if TYPE_CHECKING:
    from netops_agent.lab.sim.lab import SimLab


def run_command(lab: SimLab, device: str, command: str) -> CommandOutput:
    text = f"% Invalid input detected at '^' marker.\n{command}"
    return CommandOutput(ok=False, text=text, error=text)
