"""Pydantic models shared across layers: inventory, incidents, tool results.

The inventory is NetBox-shaped (sites, devices with roles and platforms,
interfaces with IP addresses, cables) plus the routing intent (BGP sessions) that
a source of truth would hold. It is what the agent may know about the network
without asking it; faults and their locations are never part of it.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    # defer_build: each model builds its validator on first use, not at import
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Severity(str, Enum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"

    @property
    def rank(self) -> int:
        return ["low", "medium", "high", "critical"].index(self.value)


Criticality = Literal["low", "normal", "high", "critical"]
CRITICALITY_RANK = {"low": 0, "normal": 1, "high": 2, "critical": 3}


class Site(Strict):
    name: str
    slug: str
    region: str
    criticality: Criticality = "normal"  # service tier, as a CMDB would carry it


class Device(Strict):
    name: str
    site: str
    role: Literal["spine", "leaf", "edge"]
    platform: str = "cisco_ios"
    asn: int
    loopback: str
    router_id: str
    criticality: Criticality = "normal"  # service tier; the site's applies when higher


class Interface(Strict):
    device: str
    name: str
    kind: Literal["p2p", "loopback", "svi", "uplink"]
    ip: str | None = None
    prefixlen: int | None = None
    mtu: int = 1500
    description: str = ""
    speed_mbps: int = 1000


class Link(Strict):
    """A cable between two interfaces (NetBox 'cable')."""

    id: str
    a_device: str
    a_interface: str
    b_device: str
    b_interface: str
    subnet: str

    def ends(self) -> tuple[tuple[str, str], tuple[str, str]]:
        return (self.a_device, self.a_interface), (self.b_device, self.b_interface)

    def peer_of(self, device: str) -> tuple[str, str]:
        if device == self.a_device:
            return self.b_device, self.b_interface
        return self.a_device, self.a_interface


class BgpSession(Strict):
    """One side of an eBGP session as intended by the source of truth."""

    device: str
    peer_device: str
    local_ip: str
    peer_ip: str
    local_as: int
    remote_as: int
    link_id: str


class Inventory(Strict):
    sites: list[Site]
    devices: list[Device]
    interfaces: list[Interface]
    links: list[Link]
    bgp_sessions: list[BgpSession]
    prefixes: dict[str, list[str]] = Field(
        default_factory=dict, description="device -> prefixes it originates (service/customer)"
    )

    # --- lookups (cheap; built on demand) -------------------------------------------
    def criticality(self, device: str) -> str:
        """A device's service tier: its own or its site's, whichever is higher."""
        dev = next((d for d in self.devices if d.name == device), None)
        if dev is None:
            return "normal"
        site = next((s.criticality for s in self.sites if s.name == dev.site), "normal")
        return max(dev.criticality, site, key=CRITICALITY_RANK.__getitem__)

    def device(self, name: str) -> Device:
        found = self._index()["device"].get(name)  # every command on the twin asks
        if found is not None:
            return found  # type: ignore[no-any-return]
        for d in self.devices:
            if d.name == name:
                return d
        from netops_agent.errors import UnknownDeviceError

        known = ", ".join(sorted(d.name for d in self.devices)[:8])
        raise UnknownDeviceError(
            f"unknown device {name!r}; known devices include: {known} "
            "(run `netops-agent lab status` for the full list)"
        )

    def device_names(self) -> list[str]:
        return [d.name for d in self.devices]

    def probe_order(self) -> list[Device]:
        """The devices in the order monitoring prefers to probe from: edges first, then
        leaves, then spines, by name."""
        order = {"edge": 0, "leaf": 1, "spine": 2}
        return sorted(self.devices, key=lambda d: (order.get(d.role, 9), d.name))

    def vantages(self) -> list[str]:
        """Where monitoring probes from: one device per site (the first in `probe_order`);
        a second one when there is a single site."""
        by_site: dict[str, list[str]] = {}
        for d in self.probe_order():
            by_site.setdefault(d.site, []).append(d.name)
        picks = [names[0] for names in by_site.values()]
        if len(picks) == 1 and len(next(iter(by_site.values()))) > 1:
            picks.append(next(iter(by_site.values()))[1])
        return picks

    def _index(self) -> dict[str, Any]:
        """Lookup tables built once per inventory (the inventory is never mutated)."""
        idx = self.__dict__.get("_lookup")
        if idx is None:
            idx = {
                "link": {end: lk for lk in self.links for end in lk.ends()},
                "iface": {(i.device, i.name): i for i in self.interfaces},
                "device": {d.name: d for d in self.devices},
            }
            self.__dict__["_lookup"] = idx
        return idx

    def link_of(self, device: str, interface: str) -> Link | None:
        return self._index()["link"].get((device, interface))  # type: ignore[no-any-return]

    def interface(self, device: str, name: str) -> Interface | None:
        return self._index()["iface"].get((device, name))  # type: ignore[no-any-return]

    def session(self, device: str, peer_ip: str) -> BgpSession | None:
        for s in self.bgp_sessions:
            if s.device == device and s.peer_ip == peer_ip:
                return s
        return None


class FaultSpec(Strict):
    """A fault to inject: a catalog slug and a target (explicit or 'auto')."""

    type: str
    target: dict[str, Any] | Literal["auto"] = "auto"


class InjectedFault(Strict):
    """Ground truth: what was injected where. Only the harness and the lab read it."""

    id: str
    type: str
    target: dict[str, Any]
    params: dict[str, Any] = Field(default_factory=dict)


class ToolStatus(str, Enum):
    ok = "ok"
    error = "error"
    unreachable = "unreachable"
    denied = "denied"
    dry_run = "dry_run"


class ToolResult(BaseModel):
    """What a tool returns: never raises for device-side failures."""

    tool: str
    device: str
    command: str
    status: ToolStatus
    raw: str = ""
    parsed: Any = None
    error: str = ""
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == ToolStatus.ok


class Suspect(BaseModel):
    kind: Literal["device", "interface", "link", "bgp_session", "ospf_adjacency"]
    device: str
    interface: str | None = None
    peer: str | None = None
    score: float = 1.0


class Incident(BaseModel):
    """What the NOC hands the agent: symptoms, never causes."""

    id: str
    title: str
    summary: str
    severity: Severity
    device: str
    interface: str | None = None
    peer: str | None = None
    prefix: str | None = None
    suspects: list[Suspect] = Field(default_factory=list)
    alerts: int = 0
    opened_at: str = ""
