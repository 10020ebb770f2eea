"""Differential diagnosis and re-observation: the agent's reasoning, apart from its loop.

Retrieval orders the runbooks; it never removes one. Every runbook whose scope fits a
context of the incident is a candidate, checked in retrieval order until one is
confirmed by its evidence; after that only candidates that could outrank it (a higher
priority: a deeper cause) are still checked. Among confirmed runbooks the highest
priority wins, then the one with more evidence holding, then the better retrieval rank.
Look-alikes are checked from both ends of a link (`contexts_for` offers both).

A device-level incident on a device that answers expands to the device's interfaces
and links when nothing is confirmed on the device itself.

`Reobserver` re-observes everything an incident named, after a fix or before "no
fault found": each suspect interface from both ends (state, error and drop counters,
utilisation), each BGP session, the device's CPU, memory and uplinks, and the
incident's prefix and the device's loopback from a probe source other than the device.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from netops_agent.evidence import CheckResult, confirms, contexts_for
from netops_agent.knowledge.schema import Runbook
from netops_agent.models import Incident, Inventory, ToolStatus
from netops_agent.tools.executor import ToolExecutor
from netops_agent.tools.params import is_interface_name

SCOPE_KEYS = {
    "interface": ("device", "interface"),
    "link": ("device", "interface", "peer_device", "peer_interface"),
    "bgp_session": ("device", "peer"),
    "device": ("device",),
}
# What a context must carry for a runbook of each scope to be checked in it; a runbook
# also needs every context value its diagnostics and evidence read (`inputs`): a link
# runbook that reads only its own end is checked where the far end is not known (gear
# listed without cables), one that reads the far end is not.
SCOPE_NEEDS = {
    "interface": ("interface",),
    "link": ("interface",),
    "bgp_session": ("peer",),
    "device": (),
}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass
class Cause:
    """A runbook confirmed by its evidence in one context."""

    runbook: Runbook
    ctx: dict[str, Any]
    results: list[CheckResult]
    rank: int

    @property
    def type(self) -> str:
        return self.runbook.fault_types[0]

    @property
    def target(self) -> dict[str, Any]:
        return {k: self.ctx.get(k) for k in SCOPE_KEYS[self.runbook.scope]}

    @property
    def ident(self) -> tuple[str, tuple[tuple[str, Any], ...]]:
        return self.runbook.id, tuple(sorted(self.target.items()))

    def order(self) -> tuple[int, int, int]:
        return (self.runbook.priority, sum(r.holds for r in self.results), -self.rank)

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "target": self.target, "runbook": self.runbook.id}


# runbook id -> (the runbook, its inputs): the runbook is held, so its id is not reused
_INPUTS: dict[int, tuple[Runbook, frozenset[str]]] = {}


def inputs(rb: Runbook) -> frozenset[str]:
    """The context values a runbook's diagnostics and evidence read (not those it captures).

    Kept per runbook object (the differential asks for every candidate in every context;
    ~40 us each): runbooks are loaded once and never edited in place, a changed runbook is
    a new object (tests/agent/test_inputs_memo.py)."""
    kept = _INPUTS.get(id(rb))
    if kept is None or kept[0] is not rb:
        if len(_INPUTS) >= 4096:
            _INPUTS.clear()
        kept = _INPUTS[id(rb)] = (rb, _inputs(rb))
    return kept[1]


def _inputs(rb: Runbook) -> frozenset[str]:
    steps = [*rb.diagnostics, *rb.evidence]
    used = {n for st in steps for n in _PLACEHOLDER.findall(repr(st.model_dump()))}
    captured = {n for st in rb.evidence for n in st.capture}
    return frozenset(used - captured)


def fits(rb: Runbook, ctx: dict[str, Any]) -> bool:
    """The runbook can be checked in this context: its scope's anchor and every input are known."""
    return all(ctx.get(k) for k in SCOPE_NEEDS[rb.scope]) and all(ctx.get(k) for k in inputs(rb))


def differential(
    ranked: list[Runbook],
    contexts: list[dict[str, Any]],
    evidence: Callable[[Runbook, dict[str, Any]], list[CheckResult]],
    *,
    exclude: set[Any] = frozenset(),  # type: ignore[assignment]
    exhaustive: bool = False,
    every_place: bool = False,
) -> list[Cause]:
    """Confirmed causes, best first. `exhaustive` checks every candidate (to name them all);
    `every_place` checks a confirmed runbook at every other place too (a device's links: the
    same fault may be on several of them), else a runbook is confirmed at one place."""
    confirmed: list[Cause] = []
    for rank, rb in enumerate(ranked):
        found: set[frozenset[tuple[Any, ...]]] = set()
        best = max(confirmed, key=Cause.order, default=None)
        where = contexts
        if best is not None and not exhaustive and rb.priority <= best.runbook.priority:
            if best.runbook.remediation or not rb.remediation:
                continue  # cannot outrank what is already confirmed
            # The best cause cannot be fixed remotely: a fixable look-alike at the same place
            # (a duplex mismatch next to a dying optic) is still worth naming and fixing.
            where = [best.ctx]
        for ctx in where:
            if not fits(rb, ctx) or place(rb, ctx) in found:
                continue
            trial = dict(ctx)
            results = evidence(rb, trial)
            if confirms(results):
                cause = Cause(rb, trial, results, rank)
                if cause.ident not in exclude:
                    confirmed.append(cause)
                    if not every_place:
                        break
                    found.add(place(rb, ctx))
    return sorted(confirmed, key=Cause.order, reverse=True)


def place(rb: Runbook, ctx: dict[str, Any]) -> frozenset[tuple[Any, ...]]:
    """Where a runbook would name a cause: its own end, and the far end when it reads it (a
    mismatch seen from either end of one cable is one cause; each end shut is one each)."""
    near = tuple(ctx.get(k) for k in SCOPE_KEYS[rb.scope] if not k.startswith("peer_"))
    if rb.scope == "link" and inputs(rb) & {"peer_device", "peer_interface"}:
        return frozenset({near, (ctx.get("peer_device"), ctx.get("peer_interface"))})
    return frozenset({near})


def expanded_contexts(incident: Incident, inv: Inventory) -> list[dict[str, Any]]:
    """A device-level incident seen as each of the device's cabled interfaces (both ends)."""
    out: list[dict[str, Any]] = []
    for itf in inv.interfaces:
        if itf.device == incident.device and inv.link_of(itf.device, itf.name) is not None:
            out.extend(contexts_for(incident.model_copy(update={"interface": itf.name}), inv))
    return out


@dataclass
class Thresholds:
    """When a re-observed entity still counts as a symptom (shared with the validation)."""

    util_pct: float = 90.0
    cpu_pct: float = 70.0
    mem_pct: float = 80.0
    ping_ok_pct: float = 80.0
    interval_s: float = 10.0


class Reobserver:
    """Fresh reads of every symptom an incident named; `problems()` lists what is still wrong."""

    def __init__(
        self,
        ex: ToolExecutor,
        inv: Inventory,
        wait: Callable[[float], None],
        thresholds: Thresholds | None = None,
    ) -> None:
        self.ex, self.inv, self.wait = ex, inv, wait
        self.t = thresholds or Thresholds()
        self.seen: list[str] = []

    def problems(self, incident: Incident) -> list[str]:
        self.seen = []
        bad: list[str] = []
        places = [(s.device, s.interface, s.peer) for s in incident.suspects[:3]] or [
            (incident.device, incident.interface, incident.peer)
        ]
        interfaces: list[tuple[str, str]] = []
        for device, interface, peer in places:
            if interface:
                interfaces.append((device, interface))
                link = self.inv.link_of(device, interface)
                if link is not None:
                    interfaces.append(link.peer_of(device))  # both ends of the cable
            if peer:
                bad += self._session(device, peer)
        devices = {d for d, i, _ in places if not i}
        for device in sorted(devices):
            bad += self._device(device)
            interfaces += [
                (device, i.name)
                for i in self.inv.interfaces
                if i.device == device and self.inv.link_of(device, i.name) is not None
            ]
        bad += self._interfaces(list(dict.fromkeys(interfaces)))
        if incident.prefix:
            bad += self._prefix(incident)
        return bad

    # --- reads ------------------------------------------------------------------------------
    def _interfaces(self, where: list[tuple[str, str]]) -> list[str]:
        """Every interface up, counters steady and utilisation below the threshold, over two reads."""
        if not where:
            return []
        wanted: dict[str, list[str]] = {}
        for device, name in where:
            wanted.setdefault(device, []).append(name)
        self.ex.new_pass()  # read the devices now: not what diagnosis read before the fix
        first = {d: self._rows(d, names) for d, names in wanted.items()}
        self.wait(self.t.interval_s)
        last = {d: self._rows(d, names) for d, names in wanted.items()}
        bad = []
        for device, name in where:
            a, b = first[device].get(name), last[device].get(name)
            if a is None or b is None:
                self.seen.append(f"{device} {name} unreadable")
                bad.append(f"{device} {name} unreadable")
                continue
            rising = [
                k
                for k in ("crc", "input_errors", "output_drops", "late_collisions")
                if b.get(k, 0) > a.get(k, 0)
            ]
            util = float(b.get("output_util_pct", 0) or 0)
            self.seen.append(
                f"{device} {name} {b['protocol_status']}, util {util:.0f}%"
                + (f", {'/'.join(rising)} rising" if rising else "")
            )
            if b["protocol_status"] != "up" or rising or util >= self.t.util_pct:
                bad.append(f"{device} {name}")
        return bad

    def _rows(self, device: str, names: list[str]) -> dict[str, dict[str, Any]]:
        """One read of the device per pass, as an engineer would type it: `show interfaces
        NAME` when one interface is wanted, the whole device's `show interfaces` when several
        are (the same rows for the wanted interfaces; a long output is parsed only if needed)."""
        one = len(names) == 1 and is_interface_name(names[0])
        res = self.ex.run("show_interfaces", device, **({"interface": names[0]} if one else {}))
        return {r["interface"]: r for r in res.parsed or []} if res.ok else {}

    def _session(self, device: str, peer: str) -> list[str]:
        res = self.ex.run("show_ip_bgp_summary", device)
        rows = [r for r in res.parsed or [] if r["neighbor"] == peer] if res.ok else []
        state = rows[0]["state"] if rows else res.status.value
        self.seen.append(f"{device} BGP {peer} {state}")
        return [] if state == "Established" else [f"{device} BGP {peer}"]

    def _device(self, device: str) -> list[str]:
        cpu_res = self.ex.run("show_processes_cpu", device)
        cpu = (cpu_res.parsed or {}).get("cpu_5_sec") if cpu_res.ok else None
        if cpu is None:
            self.seen.append(f"{device} {cpu_res.status.value}")
            if cpu_res.status == ToolStatus.unreachable:
                return [f"{device} {cpu_res.status.value}"]
            # the platform has no CPU/memory read (FRR): judge the device from outside
            return self._from_elsewhere(device)
        mem_res = self.ex.run("show_memory_statistics", device)
        mem = (mem_res.parsed or {}).get("used_pct") if mem_res.ok else None
        self.seen.append(f"{device} CPU {cpu:.0f}%" + (f", memory {mem:.0f}%" if mem is not None else ""))
        bad = [f"{device} CPU"] if cpu >= self.t.cpu_pct else []
        if mem is not None and mem >= self.t.mem_pct:
            bad.append(f"{device} memory")
        elif mem is not None:
            # under the bar now: a leak still climbing towards it is not healthy either
            self.wait(self.t.interval_s)
            again = self.ex.run("show_memory_statistics", device)
            later = (again.parsed or {}).get("used") if again.ok else None
            before = (mem_res.parsed or {}).get("used")
            if later is not None and before is not None and later > before:
                self.seen.append(f"{device} memory rising")
                bad.append(f"{device} memory rising")
        return bad + self._from_elsewhere(device)

    def _from_elsewhere(self, device: str) -> list[str]:
        """The device's loopback pinged from a neighbour: seen from outside the device."""
        dev = self.inv.device(device)
        nbr = self._neighbour(device)
        if nbr is None or not dev.loopback:
            return []
        return self._ping(nbr, dev.loopback, f"{device} loopback")

    def _prefix(self, incident: Incident) -> list[str]:
        host = str(ipaddress.IPv4Network(incident.prefix or "", strict=False).network_address + 10)
        sources = [incident.device]
        other = self._probe_source(incident.device)
        if other:
            sources.append(other)
        bad: list[str] = []
        for src in sources:
            bad += self._ping(src, host, incident.prefix or host)
        return bad

    def _ping(self, source: str, destination: str, what: str) -> list[str]:
        res = self.ex.run("ping", source, destination=destination, count=5)
        ok = res.ok and (res.parsed or {}).get("success_pct", 0) >= self.t.ping_ok_pct
        self.seen.append(f"ping {destination} from {source} {'ok' if ok else 'fails'}")
        return [] if ok else [f"{what} from {source}"]

    def _neighbour(self, device: str) -> str | None:
        for lk in self.inv.links:
            if device in (lk.a_device, lk.b_device):
                return lk.peer_of(device)[0]
        return None

    def _probe_source(self, device: str) -> str | None:
        """A device of another role than `device`, not `device` itself (a second vantage point)."""
        role = self.inv.device(device).role
        others = [d.name for d in self.inv.devices if d.name != device and d.role not in (role, "spine")]
        return others[0] if others else self._neighbour(device)
