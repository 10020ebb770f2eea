"""The twin's state: configuration and physical condition in, protocol state derived.

Nothing here is stored that can be derived. `Conditions` holds what is true of the
physical world (a cut cable, a dying optic, a runaway process); the device configs
hold what operators set. `derive` computes interface, OSPF and BGP state from both,
so a fix that changes the cause changes everything downstream, and a fix that only
touches a symptom changes nothing.
"""

from __future__ import annotations

import ipaddress
import re
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


class _Wiring:
    """What derive reads from the inventory, as plain tuples, built once per inventory (the
    inventory's links and sessions are never changed in place; a copy with new lists gets
    its own)."""

    def __init__(self, inv: Inventory) -> None:
        self.links_of, self.sessions_of = inv.links, inv.bgp_sessions
        self.links = [(lk.id, lk.a_device, lk.a_interface, lk.b_device, lk.b_interface) for lk in inv.links]
        # the same with each end's key, (device, interface), made once
        self.link_keys = [(*lk, (lk[1], lk[2]), (lk[3], lk[4])) for lk in self.links]
        ends = {lk.id: (lk.a_device, lk.a_interface, lk.b_device, lk.b_interface) for lk in inv.links}
        # (device, peer ip, peer device, local ip, the link's two ends)
        self.sessions = [
            (s.device, s.peer_ip, s.peer_device, s.local_ip, ends[s.link_id]) for s in inv.bgp_sessions
        ]
        # the same with the keys derive makes of them: (device, peer ip), the peer's
        # (peer device, local ip), and the link's two ends
        self.session_keys = [
            (dev, ip, pdev, lip, (dev, ip), (pdev, lip), (ad, ai), (bd, bi))
            for dev, ip, pdev, lip, (ad, ai, bd, bi) in self.sessions
        ]
        self.devices = [d.name for d in inv.devices]
        self.peer_of = {(s.device, s.peer_ip): s.peer_device for s in inv.bgp_sessions}
        # (device, peer ip) -> the ends of the session's link (routing's BGP graph)
        self.session_ends = {(s.device, s.peer_ip): ends[s.link_id] for s in inv.bgp_sessions}
        # (device, interface) -> the other end of its cable, as `inv.link_of(...).peer_of(device)`
        self.peer_end = {end: lk.peer_of(end[0]) for lk in inv.links for end in lk.ends()}

    @classmethod
    def of(cls, inv: Inventory) -> _Wiring:
        w = inv.__dict__.get("_sim_wiring")
        if w is None or w.links_of is not inv.links or w.sessions_of is not inv.bgp_sessions:
            w = cls(inv)
            inv.__dict__["_sim_wiring"] = w
        return w  # type: ignore[no-any-return]


# IfState and BgpState are frozen values: derive hands out shared instances
_BOOLS = (False, True)
_IF_STATES = {(a, o, e): IfState(a, o, e) for a in _BOOLS for o in _BOOLS for e in _BOOLS}
_BGP_STATES: dict[tuple[str, int, type, str], BgpState] = {}


def _bgp_state(state: str, prefixes: int = 0, notification: str = "") -> BgpState:
    k = (state, prefixes, type(prefixes), notification)
    found = _BGP_STATES.get(k)
    if found is None:
        found = _BGP_STATES[k] = BgpState(state, prefixes, notification)
    return found


def derive(inv: Inventory, configs: dict[str, DeviceConfig], cond: Conditions) -> Derived:
    wiring = _Wiring.of(inv)
    down = set(cond.down_devices)
    cut = set(cond.cut_links)
    err = cond.err_disabled
    states = _IF_STATES
    up, shut = states[(True, True, False)], states[(False, False, False)]
    iface: dict[tuple[str, str], IfState] = {}
    for dev, cfg in configs.items():
        dev_down = dev in down
        if not err and not dev_down:  # the usual device: up unless shut
            for name, itf in cfg.interfaces.items():
                iface[(dev, name)] = shut if itf.shutdown else up
            continue
        for name, itf in cfg.interfaces.items():
            errd = bool(err) and key(dev, name) in err
            admin = not itf.shutdown
            iface[(dev, name)] = states[(admin, admin and not dev_down and not errd, errd)]
    ospf: dict[tuple[str, str], str] = {}
    duplex: dict[tuple[str, str], str] = {}
    full = ("full", "full")
    for link_id, ad, ai, bd, bi, ka, kb in wiring.link_keys:
        a, b = iface[ka], iface[kb]
        link_up = a.oper_up and b.oper_up and link_id not in cut
        if a.oper_up != link_up:  # else the same state (states are shared values)
            iface[ka] = states[(a.admin_up, link_up, a.err_disabled)]
        if b.oper_up != link_up:
            iface[kb] = states[(b.admin_up, link_up, b.err_disabled)]
        ca, cb = configs[ad].interfaces[ai], configs[bd].interfaces[bi]
        da, db = ca.duplex, cb.duplex
        duplex[ka], duplex[kb] = full if da == "auto" and db == "auto" else effective_duplex(da, db)
        if not link_up or ca.ospf_area is None or cb.ospf_area is None:
            continue
        if ca.ospf_hello != cb.ospf_hello or ca.ospf_dead != cb.ospf_dead:
            continue  # hellos are dropped: no neighbour at all
        state = "FULL" if ca.mtu == cb.mtu else "EXSTART"
        ospf[ka] = ospf[kb] = state
    originated = _originated(configs, iface, down)
    bgp = _bgp(wiring, configs, cond, iface, originated)
    return Derived(iface=iface, ospf=ospf, bgp=bgp, originated=originated, duplex=duplex)


def _originated(
    configs: dict[str, DeviceConfig], iface: dict[tuple[str, str], IfState], down: set[str]
) -> dict[str, list[str]]:
    """A `network` statement originates only when the prefix is in the RIB (connected/static)."""
    out: dict[str, list[str]] = {}
    for dev, cfg in configs.items():
        if cfg.bgp is None or dev in down:
            continue
        rib = {_net(i.ip, i.prefixlen) for n, i in cfg.interfaces.items() if i.ip and iface[(dev, n)].oper_up}
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
    if _plain_plen(plen):
        return ipaddress.IPv4Network((_ip_int(ip) & _MASKS[plen], plen))  # type: ignore[index]
    return ipaddress.IPv4Interface(f"{ip}/{plen}").network


@lru_cache(maxsize=65536)
def _net_ints(ip: str, plen: int | None) -> tuple[int, int, int]:
    """(network, mask, prefix length) of `ip/plen` as integers, as `_network` gives them."""
    if _plain_plen(plen):
        mask = _MASKS[plen]  # type: ignore[index]
        return _ip_int(ip) & mask, mask, plen  # type: ignore[return-value]
    net = _network(ip, plen)
    return int(net.network_address), int(net.netmask), net.prefixlen


@lru_cache(maxsize=65536)
def _network_of(net: int, plen: int) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network((net, plen))


def _plain_plen(plen: object) -> bool:
    return type(plen) is int and 0 <= plen <= 32


_MASKS = [(0xFFFFFFFF << (32 - n)) & 0xFFFFFFFF for n in range(33)]


_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"  # 0-255, no leading zero, ASCII
_DOTTED_QUAD = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}")


@lru_cache(maxsize=65536)
def _ip_int(ip: str) -> int:
    """`int(ipaddress.IPv4Address(ip))`, parsed by hand when the text is four plain
    decimal octets (what `ipaddress` accepts); anything else goes to `ipaddress` (and
    its error)."""
    m = _DOTTED_QUAD.fullmatch(ip)
    if m is not None:
        a, b, c, d = m.groups()
        return (int(a) << 24) | (int(b) << 16) | (int(c) << 8) | int(d)
    return int(ipaddress.IPv4Address(ip))


def _dotted(n: int) -> str:
    """`str(ipaddress.IPv4Address(n))` for 0 <= n < 2**32."""
    return f"{n >> 24}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


@lru_cache(maxsize=65536)
def _prefix(text: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(text)


@lru_cache(maxsize=65536)
def _net(ip: str | None, plen: int | None) -> str:
    """`str(_network(ip or "0.0.0.0", plen))`, by integer arithmetic when it can."""
    if _plain_plen(plen):
        return f"{_dotted(_ip_int(ip or '0.0.0.0') & _MASKS[plen])}/{plen}"  # type: ignore[index]
    return str(_network(ip or "0.0.0.0", plen))


def _bgp(
    wiring: _Wiring,
    configs: dict[str, DeviceConfig],
    cond: Conditions,
    iface: dict[tuple[str, str], IfState],
    originated: dict[str, list[str]],
) -> dict[tuple[str, str], BgpState]:
    """Session state per configured neighbour; prefixes counted per connected component."""
    bgp_of = {d: c.bgp for d, c in configs.items()}
    asn = {d: b.asn for d, b in bgp_of.items() if b}
    states: dict[tuple[str, str], BgpState] = {}
    admin, active, established = _bgp_state("Idle (Admin)"), _bgp_state("Active"), _bgp_state("Established")
    for dev, peer_ip, peer_dev, local_ip, k, _, ka, kb in wiring.session_keys:
        cfg = bgp_of[dev]
        n = cfg.neighbors.get(peer_ip) if cfg else None
        if n is None or n.remote_as is None:
            continue
        peer_cfg = bgp_of[peer_dev]
        pn = peer_cfg.neighbors.get(local_ip) if peer_cfg else None
        transport = iface[ka].oper_up and iface[kb].oper_up
        if n.shutdown:
            states[k] = admin
        elif not transport or pn is None or pn.remote_as is None or pn.shutdown:
            states[k] = active
        elif n.remote_as != asn.get(peer_dev):
            states[k] = _bgp_state("Idle", notification="bad_as_sent")
        elif pn.remote_as != asn.get(dev):
            states[k] = _bgp_state("Idle", notification="bad_as_received")
        else:
            states[k] = established
    # Max-prefix: a surge from the peer beyond the limit tears the session down.
    for (dev, peer_ip), st in list(states.items()) if cond.peer_prefixes else ():
        surge = cond.peer_prefixes.get(key(dev, peer_ip))
        limit = configs[dev].bgp.neighbors[peer_ip].max_prefix  # type: ignore[union-attr]
        if st.state == "Established" and surge is not None and limit is not None and surge > limit:
            states[(dev, peer_ip)] = _bgp_state("Idle (PfxCt)", surge, "maxpfx")
    # A session is up only if it is up on both ends; a Cease from the peer leaves us Idle.
    for *_, k, rk, _, _ in wiring.session_keys:
        mine, theirs = states.get(k), states.get(rk)
        if mine is None or mine.state != "Established":
            continue
        if theirs is None or theirs.state != "Established":
            ceased = theirs is not None and theirs.state == "Idle (PfxCt)"
            states[k] = _bgp_state("Idle" if ceased else "Active")
    return _count_prefixes(wiring, states, originated, cond)


def _count_prefixes(
    wiring: _Wiring,
    states: dict[tuple[str, str], BgpState],
    originated: dict[str, list[str]],
    cond: Conditions,
) -> dict[tuple[str, str], BgpState]:
    """Prefixes received over a session: what the peer's side of the BGP graph originates."""
    peer_of = wiring.peer_of
    adj: dict[str, list[str]] = {d: [] for d in wiring.devices}
    for k, st in states.items():
        if st.state == "Established":
            dev, peer = k[0], peer_of[k]
            adj.setdefault(dev, []).append(peer)
            adj.setdefault(peer, []).append(dev)
    total: dict[str, int] = {}
    for start in adj:  # connected components of the Established sessions
        if start in total:
            continue
        comp, todo = [start], [start]
        total[start] = 0
        while todo:
            for w in adj[todo.pop()]:
                if w not in total:
                    total[w] = 0
                    comp.append(w)
                    todo.append(w)
        count = sum(len(originated.get(d, ())) for d in comp)
        for d in comp:
            total[d] = count
    out = {}
    surges = cond.peer_prefixes
    received: dict[str, BgpState] = {}  # per device, when no surge is added
    for k, st in states.items():
        if st.state != "Established":
            out[k] = st
            continue
        dev = k[0]
        extra = surges.get(key(*k), 0) if surges else 0
        if extra == 0 and type(extra) is int and dev in received:
            out[k] = received[dev]
            continue
        own = len(originated.get(dev, ()))
        out[k] = _bgp_state("Established", max(total[dev] - own, 0) + extra)
        if extra == 0 and type(extra) is int:
            received[dev] = out[k]
    return out
