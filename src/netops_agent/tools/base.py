"""Tool definitions: a name, a typed parameter model, a risk class, a command, a parser.

A tool knows how to say its command on each platform and how to turn the answer
into the normalised shape the agent reads; it does not know which lab it talks to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from netops_agent.errors import RegistryError
from netops_agent.lab.base import CommandOutput
from netops_agent.tools.params import Params


class Risk(str, Enum):
    read = "read"
    low = "low"
    medium = "medium"
    high = "high"

    @property
    def rank(self) -> int:
        return ["read", "low", "medium", "high"].index(self.value)


class Kind(str, Enum):
    show = "show"  # read-only
    exec = "exec"  # exec-mode action (clear, restart)
    config = "config"  # configuration lines


@dataclass(frozen=True)
class Tool:
    name: str
    kind: Kind
    risk: Risk
    params: type[Params]
    description: str
    # platform -> builds the command (show/exec) or the config lines (config)
    build: dict[str, Callable[[Any], Any]] = field(default_factory=dict)
    # platform -> turns device output into the normalised shape
    parse: dict[str, Callable[[CommandOutput, Any], Any]] = field(default_factory=dict)
    # compare the device's running config with the golden config (source of truth)
    compare_golden: bool = False

    @property
    def changes_network(self) -> bool:
        return self.kind != Kind.show


class Registry:
    """Tools by name; fails loudly on unknown or duplicate names."""

    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}

    def register(self, tool: Tool) -> Tool:
        if tool.name in self._tools:
            raise RegistryError(f"tool {tool.name!r} is already registered")
        self._tools[tool.name] = tool
        return tool

    def get(self, name: str) -> Tool:
        try:
            return self._tools[name]
        except KeyError:
            raise RegistryError(
                f"unknown tool {name!r}; known tools: {', '.join(sorted(self._tools))}"
            ) from None

    def names(self) -> list[str]:
        return sorted(self._tools)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._tools.values())

    def __contains__(self, name: str) -> bool:
        return name in self._tools
