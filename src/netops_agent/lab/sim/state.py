"""The twin's state: configuration and physical condition in, protocol state derived.

Nothing here is stored that can be derived. `Conditions` holds what is true of the
physical world (a cut cable, a dying optic, a runaway process); the device configs
hold what operators set. `derive` computes interface, OSPF and BGP state from both,
so a fix that changes the cause changes everything downstream, and a fix that only
touches a symptom changes nothing.
"""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from netops_agent.lab.sim.config import DeviceConfig, StaticRoute
from netops_agent.models import Inventory


def key(device: str, entity: str) -> str:
    return f"{device}|{entity}"


@dataclass
class Conditions:
    """Physical and runtime condition of the twin (not configuration)."""

    cut_links: list[str] = field(default_factory=list)
    down_devices: list[str] = field(default_factory=list)
    optic_rx_dbm: dict[str, float] = field(default_factory=dict)  # key(dev, if) -> dBm
    err_disabled: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> cause
    cpu_hogs: dict[str, dict[str, float]] = field(default_factory=dict)  # dev -> proc -> %
    mem_leak: dict[str, dict[str, float]] = field(default_factory=dict)  # dev -> {rate, since}
    extra_load: dict[str, float] = field(default_factory=dict)  # link id -> extra utilisation
    load_sender: dict[str, str] = field(default_factory=dict)  # link id -> end sending it (default: a)
    peer_prefixes: dict[str, int] = field(default_factory=dict)  # key(dev, peer) -> advertised

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Conditions:
        return cls(**data)


@dataclass(frozen=True)
class IfState:
    admin_up: bool
    oper_up: bool
    err_disabled: bool = False

    @property
    def line(self) -> str:
        """IOS first-line status word."""
        if not self.admin_up:
            return "administratively down"
        return "up" if self.oper_up else "down"


@dataclass(frozen=True)
class BgpState:
    state: str  # Established | Idle | Idle (Admin) | Idle (PfxCt) | Active
    prefixes: int = 0
    notification: str = ""  # why the last attempt failed, for syslog


@dataclass
class Derived:
    iface: dict[tuple[str, str], IfState]
    ospf: dict[tuple[str, str], str]  # (dev, if) -> FULL | EXSTART; absent = no neighbour
    bgp: dict[tuple[str, str], BgpState]  # (dev, peer ip) -> state
    originated: dict[str, list[str]]  # dev -> prefixes it originates into BGP
    duplex: dict[tuple[str, str], str]  # effective duplex per p2p interface


def effective_duplex(a: str, b: str) -> tuple[str, str]:
    """Auto-negotiation outcome: auto against a hard-coded end falls back to half."""
    if a == "auto" and b == "auto":
        return "full", "full"
    ea = a if a != "auto" else "half"
    eb = b if b != "auto" else "half"
    return ea, eb


def derive(inv: Inventory, configs: dict[str, DeviceConfig], cond: Conditions) -> Derived:
    down = set(cond.down_devices)
    cut = set(cond.cut_links)
    iface: dict[tuple[str, str], IfState] = {}
    for dev, cfg in configs.items():
        for name, itf in cfg.interfaces.items():
            errd = key(dev, name) in cond.err_disabled
            up = dev not in down and not itf.shutdown and not errd
            iface[(dev, name)] = IfState(admin_up=not itf.shutdown, oper_up=up, err_disabled=errd)
    ospf: dict[tuple[str, str], str] = {}
    duplex: dict[tuple[str, str], str] = {}
    for link in inv.links:
        (ad, ai), (bd, bi) = link.ends()
        a, b = iface[(ad, ai)], iface[(bd, bi)]
        link_up = a.oper_up and b.oper_up and link.id not in cut
        iface[(ad, ai)] = IfState(a.admin_up, link_up, a.err_disabled)
        iface[(bd, bi)] = IfState(b.admin_up, link_up, b.err_disabled)
        ca, cb = configs[ad].interfaces[ai], configs[bd].interfaces[bi]
        duplex[(ad, ai)], duplex[(bd, bi)] = effective_duplex(ca.duplex, cb.duplex)
        if not link_up or ca.ospf_area is None or cb.ospf_area is None:
            continue
        if (ca.ospf_hello, ca.ospf_dead) != (cb.ospf_hello, cb.ospf_dead):
            continue  # hellos are dropped: no neighbour at all
        state = "FULL" if ca.mtu == cb.mtu else "EXSTART"
        ospf[(ad, ai)] = ospf[(bd, bi)] = state
    originated = _originated(configs, iface, down)
    bgp = _bgp(inv, configs, cond, iface, originated)
    return Derived(iface=iface, ospf=ospf, bgp=bgp, originated=originated, duplex=duplex)


def _originated(
    configs: dict[str, DeviceConfig], iface: dict[tuple[str, str], IfState], down: set[str]
) -> dict[str, list[str]]:
    """A `network` statement originates only when the prefix is in the RIB (connected/static)."""
    out: dict[str, list[str]] = {}
    for dev, cfg in configs.items():
        if cfg.bgp is None or dev in down:
            continue
        rib = {
            f"{_net(i.ip, i.prefixlen)}"
            for n, i in cfg.interfaces.items()
            if i.ip and iface[(dev, n)].oper_up
        }
        rib |= {f"{r.prefix}/{r.prefixlen}" for r in cfg.statics if _resolvable(r, cfg, iface, dev)}
        out[dev] = [f"{p}/{plen}" for p, plen in cfg.bgp.networks if f"{p}/{plen}" in rib]
    return out


def _resolvable(r: StaticRoute, cfg: DeviceConfig, iface: dict[tuple[str, str], IfState], dev: str) -> bool:
    """A static route is installed when its next hop is Null0 or in an up connected subnet."""
    if r.nexthop == "Null0":
        return True
    nh = ipaddress.IPv4Address(r.nexthop)
    return any(
        i.ip and iface[(dev, n)].oper_up and nh in _network(i.ip, i.prefixlen)
        for n, i in cfg.interfaces.items()
    )


@lru_cache(maxsize=65536)
def _network(ip: str, plen: int | None) -> ipaddress.IPv4Network:  # routing.py shares it
    """Addresses are parsed once per twin, not once per derive."""
    return ipaddress.IPv4Interface(f"{ip}/{plen}").network


@lru_cache(maxsize=65536)
def _prefix(text: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(text)


@lru_cache(maxsize=65536)
def _net(ip: str | None, plen: int | None) -> str:
    return str(_network(ip or "0.0.0.0", plen))


def _bgp(
    inv: Inventory,
    configs: dict[str, DeviceConfig],
    cond: Conditions,
    iface: dict[tuple[str, str], IfState],
    originated: dict[str, list[str]],
) -> dict[tuple[str, str], BgpState]:
    """Session state per configured neighbour; prefixes counted per connected component."""
    link_by_id = {link.id: link for link in inv.links}
    asn = {d: c.bgp.asn for d, c in configs.items() if c.bgp}
    states: dict[tuple[str, str], BgpState] = {}
    for s in inv.bgp_sessions:
        cfg = configs[s.device].bgp
        n = cfg.neighbors.get(s.peer_ip) if cfg else None
        if n is None or n.remote_as is None:
            continue
        peer_cfg = configs[s.peer_device].bgp
        pn = peer_cfg.neighbors.get(s.local_ip) if peer_cfg else None
        link = link_by_id[s.link_id]
        (ad, ai), (bd, bi) = link.ends()
        transport = iface[(ad, ai)].oper_up and iface[(bd, bi)].oper_up
        if n.shutdown:
            states[(s.device, s.peer_ip)] = BgpState("Idle (Admin)")
        elif not transport or pn is None or pn.remote_as is None or pn.shutdown:
            states[(s.device, s.peer_ip)] = BgpState("Active")
        elif n.remote_as != asn.get(s.peer_device):
            states[(s.device, s.peer_ip)] = BgpState("Idle", notification="bad_as_sent")
        elif pn.remote_as != asn.get(s.device):
            states[(s.device, s.peer_ip)] = BgpState("Idle", notification="bad_as_received")
        else:
            states[(s.device, s.peer_ip)] = BgpState("Established")
    # Max-prefix: a surge from the peer beyond the limit tears the session down.
    for (dev, peer_ip), st in list(states.items()):
        surge = cond.peer_prefixes.get(key(dev, peer_ip))
        limit = configs[dev].bgp.neighbors[peer_ip].max_prefix  # type: ignore[union-attr]
        if st.state == "Established" and surge is not None and limit is not None and surge > limit:
            states[(dev, peer_ip)] = BgpState("Idle (PfxCt)", surge, "maxpfx")
    # A session is up only if it is up on both ends; a Cease from the peer leaves us Idle.
    for s in inv.bgp_sessions:
        mine, theirs = states.get((s.device, s.peer_ip)), states.get((s.peer_device, s.local_ip))
        if mine is None or mine.state != "Established":
            continue
        if theirs is None or theirs.state != "Established":
            ceased = theirs is not None and theirs.state == "Idle (PfxCt)"
            states[(s.device, s.peer_ip)] = BgpState("Idle" if ceased else "Active")
    return _count_prefixes(inv, states, originated, cond)


def _count_prefixes(
    inv: Inventory,
    states: dict[tuple[str, str], BgpState],
    originated: dict[str, list[str]],
    cond: Conditions,
) -> dict[tuple[str, str], BgpState]:
    """Prefixes received over a session: what the peer's side of the BGP graph originates."""
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(d.name for d in inv.devices)
    peer_of = {(s.device, s.peer_ip): s.peer_device for s in inv.bgp_sessions}
    for (dev, peer_ip), st in states.items():
        if st.state == "Established":
            g.add_edge(dev, peer_of[(dev, peer_ip)])
    total = {}
    for comp in nx.connected_components(g):
        count = sum(len(originated.get(d, [])) for d in comp)
        total.update(dict.fromkeys(comp, count))
    out = {}
    for (dev, peer_ip), st in states.items():
        if st.state != "Established":
            out[(dev, peer_ip)] = st
            continue
        extra = cond.peer_prefixes.get(key(dev, peer_ip), 0)
        own = len(originated.get(dev, []))
        out[(dev, peer_ip)] = BgpState("Established", max(total[dev] - own, 0) + extra)
    return out
