"""IOS routing views of the twin: show ip bgp summary, show ip ospf neighbor, show ip route.

Sessions, adjacencies and routes come from derived state and `Routing`; ages come
from the syslog (the last adjacency change for a neighbour, the last topology change
for a route) or from the device's boot time when nothing changed since.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import TYPE_CHECKING

from netops_agent.lab.sim.render_common import (
    boot_time,
    device_events,
    if_sort_key,
    last_event,
    short_age,
    stable,
)
from netops_agent.lab.sim.routing import Route
from netops_agent.lab.sim.state import _MASKS, _dotted, _ip_int, _plain_plen

if TYPE_CHECKING:
    from datetime import datetime

    from netops_agent.lab.sim.lab import SimLab

ROUTE_CODES = """\
Codes: L - local, C - connected, S - static, R - RIP, M - mobile, B - BGP
       D - EIGRP, EX - EIGRP external, O - OSPF, IA - OSPF inter area
       N1 - OSPF NSSA external type 1, N2 - OSPF NSSA external type 2
       E1 - OSPF external type 1, E2 - OSPF external type 2
       i - IS-IS, su - IS-IS summary, L1 - IS-IS level-1, L2 - IS-IS level-2
       ia - IS-IS inter area, * - candidate default, U - per-user static route
       o - ODR, P - periodic downloaded static route, H - NHRP, l - LISP
       a - application route
       + - replicated route, % - next hop override, p - overrides from PfR

Gateway of last resort is not set

"""
TOPOLOGY_MNEMONICS = ("UPDOWN", "CHANGED", "ADJCHG", "ADJCHANGE")


# --- show ip bgp summary --------------------------------------------------------------------


def _since(lab: SimLab, device: str, ip: str) -> datetime | None:
    ev = last_event(device_events(lab, device), "ADJCHANGE", f"neighbor {ip} ")
    return ev.ts if ev else None


def show_ip_bgp_summary(lab: SimLab, device: str) -> str:
    bgp = lab.configs[device].bgp
    if bgp is None:
        return "% BGP not active\n"
    rows, received = [], 0
    boot = boot_time(lab, device)
    n_events = sum(1 for e in device_events(lab, device) if e.facility == "BGP")
    originated = len(lab.derived.originated.get(device, []))
    table_version = 1 + 2 * (originated + n_events) + lab.routing.route_count(device)
    for ip in sorted(bgp.neighbors, key=_ip_int):  # as IPv4Address orders them
        n = bgp.neighbors[ip]
        if n.remote_as is None:
            continue
        st = lab.derived.bgp.get((device, ip))
        state = st.state if st is not None else "Idle"
        changed = _since(lab, device, ip)
        up_since = changed or boot
        alive_s = (up_since - boot).total_seconds() if state != "Established" else None
        if state == "Established":
            assert st is not None
            received += st.prefixes
            age = short_age((lab.clock - up_since).total_seconds() + (0 if changed else -60))
            msgs = int((lab.clock - boot).total_seconds() / 60) + st.prefixes + 4
            col = f"{age:<8} {st.prefixes:>12}"
            tbl = table_version
        else:
            age = short_age((lab.clock - changed).total_seconds()) if changed else "never"
            msgs = int((alive_s or 0) / 60) + (4 if changed else 0)
            col = f"{age:<8} {state}"
            tbl = 1
        sent = max(msgs - stable(device, ip) % 3, 0)
        rows.append(f"{ip:<15} 4 {n.remote_as:>10} {msgs:>7} {sent:>7} {tbl:>8}    0    0 {col}")
    entries = originated + received
    head = [
        f"BGP router identifier {bgp.router_id}, local AS number {bgp.asn}",
        f"BGP table version is {table_version}, main routing table version {table_version}",
        f"{entries} network entries using {entries * 136} bytes of memory",
        f"{entries} path entries using {entries * 84} bytes of memory",
        f"{max(entries, 1)}/{max(entries, 1)} BGP path/bestpath attribute entries using "
        f"{max(entries, 1) * 152} bytes of memory",
        f"{len(rows)} BGP AS-PATH entries using {len(rows) * 24} bytes of memory",
        "0 BGP route-map cache entries using 0 bytes of memory",
        "0 BGP filter-list cache entries using 0 bytes of memory",
        f"BGP using {entries * 372 + len(rows) * 24 + 152} total bytes of memory",
        f"BGP activity {entries + n_events}/{n_events} prefixes, "
        f"{entries + n_events}/{n_events} paths, scan interval 60 secs",
        "",
        "Neighbor        V           AS MsgRcvd MsgSent   TblVer  InQ OutQ Up/Down  State/PfxRcd",
    ]
    return "\n".join(head + rows) + "\n"


# --- show ip ospf neighbor -----------------------------------------------------------------


def show_ip_ospf_neighbor(lab: SimLab, device: str) -> str:
    cfg = lab.configs[device]
    if cfg.ospf is None:
        return ""
    out = ["", "Neighbor ID     Pri   State           Dead Time   Address         Interface"]
    rid = {d.name: d.router_id for d in lab.inv.devices}
    for name in sorted(cfg.interfaces, key=if_sort_key):
        state = lab.derived.ospf.get((device, name))
        link = lab.inv.link_of(device, name)
        if state is None or link is None:
            continue
        peer_dev, peer_if = link.peer_of(device)
        peer_cfg = lab.configs[peer_dev]
        nbr_id = (peer_cfg.ospf.router_id if peer_cfg.ospf else "") or rid[peer_dev]
        addr = peer_cfg.interfaces[peer_if].ip or "0.0.0.0"
        itf = cfg.interfaces[name]
        if itf.ospf_p2p:
            pri, role = 0, "  -"
        else:
            mine = cfg.ospf.router_id or rid[device]
            pri = 1
            role = "DR" if _ip_int(nbr_id) > _ip_int(mine) else "BDR"
        elapsed = int(lab.clock.timestamp() + stable(device, name)) % max(itf.ospf_hello, 1)
        dead = max(itf.ospf_dead - elapsed, 0)
        out.append(
            f"{nbr_id:<15} {pri:>3}   {state + '/' + role:<15} "
            f"{dead // 3600:02d}:{dead % 3600 // 60:02d}:{dead % 60:02d}    {addr:<15} {name}"
        )
    return "\n".join(out) + "\n"


# --- show ip route ----------------------------------------------------------------------------


def _best_routes(lab: SimLab, device: str) -> list[Route]:
    """One route per prefix, the lowest administrative distance winning, in IOS order
    (by address as `int(IPv4Address(network))`, then prefix length)."""
    best: dict[tuple[str, int], Route] = {}
    for r in lab.routing.routes(device):
        k = (r.network, r.prefixlen)
        if k not in best or r.distance < best[k].distance:
            best[k] = r
    return sorted(best.values(), key=lambda r: (_ip_int(r.network), r.prefixlen))


def _route_age(lab: SimLab, device: str) -> str:
    """Routes age from the last topology change the device logged (or from boot)."""
    since = boot_time(lab, device)
    for e in reversed(device_events(lab, device)):
        if e.mnemonic in TOPOLOGY_MNEMONICS:
            since = e.ts
            break
    return short_age((lab.clock - since).total_seconds())


def _classful(network: str) -> tuple[int, int]:
    """The classful major network of an address as (network, prefix length): what
    `IPv4Network(f"{network}/{plen}", strict=False)` holds, as integers."""
    first = int(network.split(".")[0])
    plen = 8 if first < 128 else 16 if first < 192 else 24
    return _ip_int(network) & _MASKS[plen], plen


def _route_line(r: Route, age: str, with_mask: bool, indent: int) -> str:
    code = r.protocol.ljust(indent)
    net = f"{r.network}/{r.prefixlen}" if with_mask else r.network
    if r.protocol in ("C", "L") or (r.protocol == "S" and not r.nexthop_ip):
        return f"{code}{net} is directly connected, {r.nexthop_if}"
    via = f"{code}{net} [{r.distance}/{r.metric}] via {r.nexthop_ip}"
    if r.protocol == "S":
        return via
    if r.protocol == "B":
        return f"{via}, {age}"
    return f"{via}, {age}, {r.nexthop_if}"


def _table(lab: SimLab, device: str, keep: Callable[[Route], bool]) -> str:
    routes = [r for r in _best_routes(lab, device) if keep(r)]
    age = _route_age(lab, device)
    groups: dict[tuple[int, int], list[Route]] = {}
    for r in routes:
        groups.setdefault(_classful(r.network), []).append(r)
    out = [ROUTE_CODES.rstrip("\n"), ""]
    for major in sorted(groups, key=lambda n: n[0]):
        members = groups[major]
        net, plen = major
        if len(members) == 1 and members[0].prefixlen == plen:
            out.append(_route_line(members[0], age, True, 6))
            continue
        masks = sorted({r.prefixlen for r in members})
        if len(masks) == 1:
            out.append(f"      {_dotted(net)}/{masks[0]} is subnetted, {len(members)} subnets")
        else:
            out.append(
                f"      {_dotted(net)}/{plen} is variably subnetted, {len(members)} subnets, "
                f"{len(masks)} masks"
            )
        out += [_route_line(r, age, len(masks) > 1, 9) for r in members]
    return "\n".join(out) + "\n"


def show_ip_route(lab: SimLab, device: str) -> str:
    return _table(lab, device, lambda r: True)


def show_ip_route_connected(lab: SimLab, device: str) -> str:
    return _table(lab, device, lambda r: r.protocol in ("C", "L"))


def show_ip_route_static(lab: SimLab, device: str) -> str:
    return _table(lab, device, lambda r: r.protocol == "S")


def show_ip_route_ospf(lab: SimLab, device: str) -> str:
    return _table(lab, device, lambda r: r.protocol == "O")


def show_ip_route_bgp(lab: SimLab, device: str) -> str:
    return _table(lab, device, lambda r: r.protocol == "B")


def _covers(r: Route, addr: int, ip: str) -> bool:
    """`IPv4Address(ip) in IPv4Network(f"{r.network}/{r.prefixlen}")` by integers; a route
    that is no plain network (host bits set, an odd length) goes to `ipaddress` itself (and
    its error)."""
    plen = r.prefixlen
    if _plain_plen(plen):
        net, mask = _ip_int(r.network), _MASKS[plen]
        if net & mask == net:
            return addr & mask == net
    return ipaddress.IPv4Address(ip) in ipaddress.IPv4Network(f"{r.network}/{r.prefixlen}")


def show_ip_route_entry(lab: SimLab, device: str, ip: str) -> str:
    """`show ip route A.B.C.D`: the longest matching route in detail."""
    addr = _ip_int(ip)
    hits = [r for r in _best_routes(lab, device) if _covers(r, addr, ip)]
    if not hits:
        return "% Network not in table\n"
    r = max(hits, key=lambda r: r.prefixlen)
    age = _route_age(lab, device)
    out = [f"Routing entry for {r.network}/{r.prefixlen}"]
    if r.protocol in ("C", "L"):
        out += [
            '  Known via "connected", distance 0, metric 0 (connected, via interface)',
            "  Routing Descriptor Blocks:",
            f"  * directly connected, via {r.nexthop_if}",
        ]
    elif r.protocol == "S":
        out += [
            '  Known via "static", distance 1, metric 0',
            "  Routing Descriptor Blocks:",
            f"  * {r.nexthop_ip or 'directly connected, via ' + r.nexthop_if}",
        ]
    elif r.protocol == "O":
        out += [
            f'  Known via "ospf 1", distance 110, metric {r.metric}, type intra area',
            f"  Last update from {r.nexthop_ip} on {r.nexthop_if}, {age} ago",
            "  Routing Descriptor Blocks:",
            f"  * {r.nexthop_ip}, from {r.nexthop_ip}, {age} ago, via {r.nexthop_if}",
        ]
    else:
        bgp = lab.configs[device].bgp
        nbr = bgp.neighbors.get(r.nexthop_ip) if bgp else None
        tag = nbr.remote_as if nbr and nbr.remote_as else 0
        out += [
            f'  Known via "bgp {bgp.asn if bgp else 0}", distance 20, metric 0',
            f"  Tag {tag}, type external",
            f"  Last update from {r.nexthop_ip} {age} ago",
            "  Routing Descriptor Blocks:",
            f"  * {r.nexthop_ip}, from {r.nexthop_ip}, {age} ago",
        ]
    out.append(f"      Route metric is {r.metric}, traffic share count is 1")
    return "\n".join(out) + "\n"
