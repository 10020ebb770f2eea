"""Tools: typed, risk-classed network commands and their parsers."""

from netops_agent.tools.base import Kind, Risk, Tool
from netops_agent.tools.executor import GateDecision, Recorder, ToolExecutor
from netops_agent.tools.registry import TOOLS

__all__ = ["TOOLS", "GateDecision", "Kind", "Recorder", "Risk", "Tool", "ToolExecutor"]
