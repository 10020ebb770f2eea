"""`ToolExecutor`: validate, gate, run, parse, time and record every tool call.

The public `run()` wraps each call the same way (timing, logging, the audit row);
a device-side failure comes back as a `ToolResult` with an error status and never
raises. Parameters are validated before anything is sent; config changes capture
the running config before and after, so they can be shown as a diff and rolled back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from netops_agent.lab.base import CommandOutput, NetworkView
from netops_agent.models import ToolResult, ToolStatus
from netops_agent.tools.base import Kind, Tool
from netops_agent.tools.golden import config_diff, remediation_lines
from netops_agent.tools.registry import TOOLS

log = logging.getLogger("netops_agent.tools")


@dataclass
class GateDecision:
    action: str  # allow | approval | deny
    reason: str = ""


Gate = Callable[[Tool, str, Any], GateDecision]


class Recorder:
    """Where tool calls and changes are written (the audit trail). Default: nowhere."""

    def tool_call(self, row: dict[str, Any]) -> None: ...

    def change(self, row: dict[str, Any]) -> None: ...

    def decision(self, row: dict[str, Any]) -> None: ...

    def flush(self) -> None:
        """Write anything buffered (called at the end of each incident)."""


class ToolExecutor:
    def __init__(
        self,
        view: NetworkView,
        recorder: Recorder | None = None,
        *,
        incident_id: str = "",
        dry_run: bool = False,
        gate: Gate | None = None,
        reuse_reads: bool = False,
    ) -> None:
        self.view = view
        self.recorder = recorder or Recorder()
        self.incident_id = incident_id
        self.dry_run = dry_run
        self.gate = gate
        self.calls = 0
        self.changed_devices: dict[str, str] = {}  # device -> running config before first change
        # One observation pass (no change made, no deliberate wait since): a read command
        # runs once and its answer serves every check of the pass. Off by default: a caller
        # that reads twice to see counters move (an external agent) gets two reads.
        self.reuse_reads = reuse_reads
        self._pass: dict[tuple[str, str, str], ToolResult] = {}

    def new_pass(self) -> None:
        """The network changed or time was let pass: the next reads go to the devices again."""
        self._pass.clear()

    def wait(self, seconds: float) -> None:
        """Let `seconds` pass on the network's clock (convergence, counters): a new pass."""
        self.new_pass()
        self.view.wait(seconds)

    def run(self, tool_name: str, device: str, **raw_params: Any) -> ToolResult:
        tool = TOOLS.get(tool_name)
        started = time.perf_counter()
        try:
            params = tool.params.model_validate(raw_params)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            return self._finish(
                tool,
                device,
                "",
                raw_params,
                started,
                ToolStatus.error,
                error=f"invalid parameters: {problems}",
            )
        if self.reuse_reads and tool.kind == Kind.show:
            key = (tool.name, device, repr(sorted(params.model_dump().items())))
            if key not in self._pass:
                result = self._run(tool, device, params, started)
                if result.ok:
                    self._pass[key] = result
                return result
            return self._pass[key]
        return self._run(tool, device, params, started)

    def _run(self, tool: Tool, device: str, params: Any, started: float) -> ToolResult:
        if tool.changes_network and self.gate is not None:
            decision = self.gate(tool, device, params)
            if decision.action != "allow":
                return self._finish(
                    tool,
                    device,
                    "",
                    params.model_dump(),
                    started,
                    ToolStatus.denied,
                    error=f"{decision.action}: {decision.reason}",
                )
        if self.view.platform not in tool.build:
            return self._finish(
                tool,
                device,
                "",
                params.model_dump(),
                started,
                ToolStatus.error,
                error=f"tool {tool.name} has no {self.view.platform} implementation",
            )
        if tool.kind == Kind.config:
            return self._configure(tool, device, params, started)
        command = tool.build[self.view.platform](params)
        if tool.kind == Kind.exec and self.dry_run:
            return self._finish(tool, device, command, params.model_dump(), started, ToolStatus.dry_run)
        out = self.view.execute(device, command)
        if tool.kind != Kind.show:
            self.new_pass()
        if tool.kind == Kind.exec and out.ok:
            self._record_change(tool, device, command, "", "", "applied")
        return self._result(tool, device, command, params, out, started)

    # --- config changes -------------------------------------------------------------------------
    def running_config(self, device: str) -> str | None:
        out = self.run("show_running_config", device)
        return out.raw if out.ok else None

    def _configure(self, tool: Tool, device: str, params: Any, started: float) -> ToolResult:
        before = self.running_config(device)
        if before is None:
            return self._finish(
                tool,
                device,
                "",
                params.model_dump(),
                started,
                ToolStatus.unreachable,
                error="could not read the running config before the change",
            )
        lines = self._lines(tool, device, params, before)
        text = "\n".join(lines)
        if not lines:
            return self._finish(
                tool,
                device,
                text,
                params.model_dump(),
                started,
                ToolStatus.ok,
                parsed={"accepted": True, "lines": [], "note": "already as intended"},
            )
        if self.dry_run:
            self._record_change(tool, device, text, before, "", "dry_run")
            return self._finish(
                tool, device, text, params.model_dump(), started, ToolStatus.dry_run, parsed={"lines": lines}
            )
        out = self.view.configure(device, lines)
        self.new_pass()
        after = self.running_config(device) if out.ok else before
        self.changed_devices.setdefault(device, before)
        self._record_change(tool, device, text, before, after or "", "applied" if out.ok else "rejected")
        result = self._result(tool, device, text, params, out, started)
        result.parsed = {"accepted": out.ok, "lines": lines}
        return result

    def _lines(self, tool: Tool, device: str, params: Any, running: str) -> list[str]:
        built = tool.build[self.view.platform](params)
        if isinstance(built, list):
            return built
        if "bgp" in built:
            asn = self.view.inventory().device(device).asn
            return [f"router bgp {asn}", f" {built['bgp']}"]
        if "golden" in built:
            return remediation_lines(running, self.view.golden_config(device), built["golden"])
        if "rollback" in built:
            return remediation_lines(running, built["rollback"])
        raise AssertionError(f"tool {tool.name} built {built!r}")

    def _record_change(
        self, tool: Tool, device: str, lines: str, before: str, after: str, status: str
    ) -> None:
        self.recorder.change(
            {
                "ts": self.view.now(),
                "incident_id": self.incident_id,
                "device": device,
                "tool": tool.name,
                "risk": tool.risk.value,
                "lines": lines,
                "before_config": before,
                "after_config": after,
                "status": status,
                "kind": tool.kind.value,
            }
        )

    # --- results -----------------------------------------------------------------------------------
    def _result(
        self, tool: Tool, device: str, command: str, params: Any, out: CommandOutput, started: float
    ) -> ToolResult:
        if not out.reachable:
            return self._finish(
                tool,
                device,
                command,
                params.model_dump(),
                started,
                ToolStatus.unreachable,
                raw=out.text,
                error=out.error,
            )
        if not out.ok:
            return self._finish(
                tool,
                device,
                command,
                params.model_dump(),
                started,
                ToolStatus.error,
                raw=out.text,
                error=out.error or out.text,
            )
        try:
            parsed = tool.parse[self.view.platform](out, params)
            if tool.compare_golden:
                parsed = config_diff(out.text, self.view.golden_config(device))
        except Exception as exc:  # a parser bug or unexpected output is data, not a crash
            return self._finish(
                tool,
                device,
                command,
                params.model_dump(),
                started,
                ToolStatus.error,
                raw=out.text,
                error=f"could not parse output: {exc}",
            )
        return self._finish(
            tool, device, command, params.model_dump(), started, ToolStatus.ok, raw=out.text, parsed=parsed
        )

    def _finish(
        self,
        tool: Tool,
        device: str,
        command: str,
        params: dict[str, Any],
        started: float,
        status: ToolStatus,
        *,
        raw: str = "",
        parsed: Any = None,
        error: str = "",
    ) -> ToolResult:
        self.calls += 1
        result = ToolResult(
            tool=tool.name,
            device=device,
            command=command,
            status=status,
            raw=raw,
            parsed=parsed,
            error=error,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
        )
        log.info(
            "[%s] %s %s -> %s%s",
            self.incident_id or "-",
            device,
            command or tool.name,
            status.value,
            f" ({error})" if error else "",
        )
        self.recorder.tool_call(
            {
                "ts": self.view.now(),
                "incident_id": self.incident_id,
                "device": device,
                "tool": tool.name,
                "command": command,
                "params": params,
                "risk": tool.risk.value,
                "status": status.value,
                "raw_output": raw,
                "parsed": parsed,
                "error": error,
                "duration_ms": result.duration_ms,
            }
        )
        return result
