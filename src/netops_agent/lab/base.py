"""The two faces of a lab: what the agent sees, and what only the harness may touch.

`NetworkView` is the *only* object the agent, the intake, the baselines, the MCP
server or an LLM planner receive: the inventory (source of truth), golden config,
`execute` / `configure` through a `Transport`, the clock, a way to let time pass,
and reads of telemetry and syslog since a time. It is a small concrete class with
`__slots__` holding private callables, so no attribute, `__dict__`, `__getattr__`
or bound method leads from it to the backend's internals or to injected faults.
(In one Python process a determined caller can still walk closure cells or the
garbage collector; the process boundary for that is the SSH transport / MCP server.)

`ControlFace` is the other side of the same lab: inject, repair, the injected faults
(ground truth), `fault_present`, state hashes, scenario time control and
`disturbed(fault)`. Only the case pipeline (`netops_agent.pipeline`) and the
evaluation harness hold one; `tests/test_boundary.py` checks that nothing on the
agent side imports or names it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NoReturn, Protocol, runtime_checkable

import pyarrow as pa

from netops_agent.models import FaultSpec, InjectedFault, Inventory

# Columns of what `NetworkView.telemetry_since` / `logs_since` return (the store's
# `telemetry` and `events` tables have the same columns).
TELEMETRY_SCHEMA = pa.schema(
    [
        ("ts", pa.timestamp("us")),
        ("device", pa.string()),
        ("entity", pa.string()),
        ("metric", pa.string()),
        ("value", pa.float64()),
    ]
)
LOG_SCHEMA = pa.schema(
    [
        ("ts", pa.timestamp("us")),
        ("device", pa.string()),
        ("facility", pa.string()),
        ("severity", pa.int32()),
        ("mnemonic", pa.string()),
        ("message", pa.string()),
    ]
)


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
class Transport(Protocol):
    """How commands reach the devices: in-process for the twin, vtysh/ip for FRR,
    SSH (issue 16) for anything with a login. Swap it with `NetworkView.with_transport`."""

    def execute(self, device: str, command: str) -> CommandOutput:
        """Run one read-only or exec-mode command on a device."""
        ...

    def configure(self, device: str, lines: list[str]) -> CommandOutput:
        """Apply configuration lines in config mode (like `configure terminal`)."""
        ...


class CallTransport:
    """A `Transport` over two plain callables (closures: no bound method, no lab attribute)."""

    __slots__ = ("_configure", "_execute")

    def __init__(
        self,
        execute: Callable[[str, str], CommandOutput],
        configure: Callable[[str, list[str]], CommandOutput],
    ) -> None:
        object.__setattr__(self, "_execute", execute)
        object.__setattr__(self, "_configure", configure)

    def execute(self, device: str, command: str) -> CommandOutput:
        return self._execute(device, command)

    def configure(self, device: str, lines: list[str]) -> CommandOutput:
        return self._configure(device, list(lines))

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("a transport is read-only")

    def __reduce__(self) -> NoReturn:
        raise TypeError("a transport cannot be pickled")


Since = datetime | None


class NetworkView:
    """What a NOC sees of a network (see the module docstring); build with `NetworkView(...)`.

    - `backend`, `platform`: "sim"/"frr" and the parser family ("cisco_ios"/"frr").
    - `inventory()`, `golden_config(device)`: the source of truth.
    - `execute(device, command)`, `configure(device, lines)`: through the transport.
    - `now()`: the network's clock; `wait(seconds)`: let time pass (convergence,
      counters growing between two reads).
    - `telemetry_since(ts)`, `logs_since(ts)`: samples / syslog with `ts` later than
      the given time (all buffered ones for None), as Arrow tables with
      `TELEMETRY_SCHEMA` / `LOG_SCHEMA`.
    """

    __slots__ = (
        "_concurrent",
        "_golden",
        "_inventory",
        "_logs",
        "_now",
        "_telemetry",
        "_transport",
        "_wait",
        "backend",
        "platform",
    )

    def __init__(
        self,
        *,
        backend: str,
        platform: str,
        inventory: Callable[[], Inventory],
        golden_config: Callable[[str], str],
        transport: Transport,
        now: Callable[[], datetime],
        wait: Callable[[float], None],
        telemetry_since: Callable[[Since], pa.Table] | None = None,
        logs_since: Callable[[Since], pa.Table] | None = None,
        concurrent: Callable[[], AbstractContextManager[None]] | None = None,
    ) -> None:
        init = object.__setattr__
        init(self, "_concurrent", concurrent or contextlib.nullcontext)
        init(self, "backend", backend)
        init(self, "platform", platform)
        init(self, "_inventory", inventory)
        init(self, "_golden", golden_config)
        init(self, "_transport", transport)
        init(self, "_now", now)
        init(self, "_wait", wait)
        init(self, "_telemetry", telemetry_since or (lambda since: TELEMETRY_SCHEMA.empty_table()))
        init(self, "_logs", logs_since or (lambda since: LOG_SCHEMA.empty_table()))

    # --- the source of truth --------------------------------------------------------------
    def inventory(self) -> Inventory:
        return self._inventory()

    def golden_config(self, device: str) -> str:
        """Intended configuration from the source of truth (config management)."""
        return self._golden(device)

    # --- devices --------------------------------------------------------------------------
    def execute(self, device: str, command: str) -> CommandOutput:
        return self._transport.execute(device, command)

    def configure(self, device: str, lines: list[str]) -> CommandOutput:
        return self._transport.configure(device, list(lines))

    # --- time -----------------------------------------------------------------------------
    def now(self) -> datetime:
        return self._now()

    def wait(self, seconds: float) -> None:
        """Let time pass: protocols converge, counters grow, telemetry is sampled."""
        self._wait(float(seconds))

    def concurrent(self) -> AbstractContextManager[None]:
        """Commands issued inside run side by side, as a poller's sweep does: on the twin
        the batch costs one command time, not one per command (elsewhere a no-op)."""
        return self._concurrent()

    # --- monitoring feeds -----------------------------------------------------------------
    def telemetry_since(self, since: Since = None) -> pa.Table:
        return self._telemetry(since)

    def logs_since(self, since: Since = None) -> pa.Table:
        return self._logs(since)

    # --- plumbing -------------------------------------------------------------------------
    def with_transport(self, transport: Transport) -> NetworkView:
        """The same view with commands going through another transport (e.g. SSH)."""
        return NetworkView(
            backend=self.backend,
            platform=self.platform,
            inventory=self._inventory,
            golden_config=self._golden,
            transport=transport,
            now=self._now,
            wait=self._wait,
            telemetry_since=self._telemetry,
            logs_since=self._logs,
            concurrent=self._concurrent,
        )

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("a NetworkView is read-only")

    def __reduce__(self) -> NoReturn:
        raise TypeError("a NetworkView cannot be pickled (it is a live handle on a network)")

    def __repr__(self) -> str:
        return f"NetworkView(backend={self.backend!r}, platform={self.platform!r})"


@runtime_checkable
class ControlFace(Protocol):
    """The lab's control side: only the case pipeline and the harness hold one.

    `view()` returns the sealed `NetworkView` of the same network. Ground truth is
    `injected()` (the pipeline copies it into a `TruthStore`, never the agent's DB).
    Entity keys (`disturbed`, `healthy_entities`) are the harness's: `dev:X`,
    `if:X|Y`, `bgp:X|PEER_IP`, `ospf:X|Y`, `pfx:OWNER|PREFIX`, `proc:X|NAME`.
    """

    backend: str

    def view(self) -> NetworkView: ...

    def inventory(self) -> Inventory: ...

    def now(self) -> datetime: ...

    def advance(self, seconds: float) -> None:
        """Scenario time control: let `seconds` of (twin or real) time pass."""
        ...

    def set_criticality(self, tiers: dict[str, str]) -> None:
        """Service tier per device or site name (inventory data); others become "normal"."""
        ...

    def inject(self, spec: FaultSpec, seed: int = 0) -> InjectedFault: ...

    def inject_all(self, specs: list[FaultSpec], seed: int = 0) -> list[InjectedFault]:
        """A case's faults, applied in an order that always works (isolation last)."""
        ...

    def repair(self, fault: InjectedFault) -> None:
        """Undo a fault as a field engineer would (shared-lab cleanup, lab CLI)."""
        ...

    def injected(self) -> list[InjectedFault]:
        """The faults in the network now: the ground truth."""
        ...

    def fault_present(self, fault: InjectedFault) -> bool:
        """Is the root cause of this fault still in the network?"""
        ...

    def state_hash(self) -> str:
        """A digest of configuration and condition: equal before/after means unchanged."""
        ...

    def healthy_entities(self) -> set[str]:
        """Entities working now (interfaces up, sessions Established, adjacencies FULL)."""
        ...

    def disturbed(self, fault: InjectedFault) -> set[str]:
        """Entity keys whose derived state differs from the fault-free state because of
        `fault` (twin: computed, `lab.sim.disturbance`; FRR: approximated, `lab.disturbance`)."""
        ...


def apply_criticality(inv: Inventory, tiers: dict[str, str]) -> None:
    """Set every device's and site's criticality from `tiers` (absent: "normal")."""
    for site in inv.sites:
        site.criticality = tiers.get(site.name, "normal")  # type: ignore[assignment]
    for dev in inv.devices:
        dev.criticality = tiers.get(dev.name, "normal")  # type: ignore[assignment]
