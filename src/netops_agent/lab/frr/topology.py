"""The FRR lab's source of truth: a small leaf-spine inventory and its golden configs.

`frr_inventory()` builds the NetBox-shaped inventory (two spines, three to five
leaves, one edge; /31 point-to-point links, a /32 loopback per router, a /24
customer prefix per leaf, a static "service" route on the edge). OSPF area 0 is the
underlay on every link and loopback; eBGP runs over every link between interface
addresses and carries the leaf and service prefixes.

`render_frr_config()` turns one device of that inventory into FRR configuration
text laid out the way `show running-config` prints it, so a diff between the golden
config and the running config shows only real drift. Lines FRR cannot apply itself
(`mtu`) are included as a real device would show them; the lab applies them to the
kernel (see `translate.py`).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from netops_agent.errors import LabError
from netops_agent.models import BgpSession, Device, Interface, Inventory, Link, Site

PROFILES: dict[str, int] = {"small": 3, "medium": 4, "large": 5}  # leaves -> 6, 7, 8 routers
SPINE_ASN = 65000
LEAF_ASN_BASE = 65001
EDGE_ASN = 65100
SERVICE_PREFIX = "198.51.100.0/24"
P2P_MTU = 1500
LINK_SPEED_MBPS = 10  # nominal: the congestion fault shapes a link to this rate
OSPF_HELLO = 1  # lab timers: fast so faults show within seconds
OSPF_DEAD = 4
OSPF_RETRANSMIT = 1  # the default 5 s stalls LOADING at bring-up for 5 s
BGP_KEEPALIVE = 3
BGP_HOLD = 9
BGP_CONNECT_RETRY = 2
CUSTOMER_IF = "Vlan100"  # a veth to the leaf's customer host; named like the twin's SVIs
CUSTOMER_ACL = "CUSTOMER-OUT"  # bound outbound on the customer port, as in the twin
CUSTOMER_ACL_PERMIT_SEQ = 100
SITE = Site(name="FRR lab", slug="frr-lab", region="local")


def frr_inventory(seed: int = 0, profile: str = "small") -> Inventory:
    """Build the FRR lab inventory.

    `profile` picks the size (small: 3 leaves, medium: 4, large: 5; always two spines
    and one edge). The topology is deterministic: `seed` is accepted so every lab
    profile builder shares one signature, and does not change the result.
    """
    del seed  # deterministic by design; see docstring
    if profile not in PROFILES:
        raise LabError(
            f"unknown FRR profile {profile!r}; known profiles: {', '.join(PROFILES)} "
            "(sizes: 6, 7 and 8 routers)"
        )
    devices = _devices(PROFILES[profile])
    links = _links(devices)
    return Inventory(
        sites=[SITE],
        devices=devices,
        interfaces=_interfaces(devices, links),
        links=links,
        bgp_sessions=_sessions(devices, links),
        prefixes=_prefixes(devices),
    )


def _devices(leaves: int) -> list[Device]:
    devices: list[Device] = []
    for i in (1, 2):
        devices.append(_device(f"spine{i}", "spine", SPINE_ASN, f"10.255.0.{i}"))
    for i in range(1, leaves + 1):
        devices.append(_device(f"leaf{i}", "leaf", LEAF_ASN_BASE + i - 1, f"10.255.0.{10 + i}"))
    devices.append(_device("edge1", "edge", EDGE_ASN, "10.255.0.21"))
    return devices


def _device(name: str, role: Literal["spine", "leaf", "edge"], asn: int, loopback: str) -> Device:
    return Device(
        name=name,
        site=SITE.slug,
        role=role,
        platform="frr",
        asn=asn,
        loopback=loopback,
        router_id=loopback,
    )


def _links(devices: list[Device]) -> list[Link]:
    spines = [d for d in devices if d.role == "spine"]
    others = [d for d in devices if d.role != "spine"]
    links: list[Link] = []
    for s_idx, spine in enumerate(spines, start=1):
        for o_idx, other in enumerate(others, start=1):
            n = len(links)
            links.append(
                Link(
                    id=f"{spine.name}-{other.name}",
                    a_device=spine.name,
                    a_interface=f"eth{o_idx}",
                    b_device=other.name,
                    b_interface=f"eth{s_idx}",
                    subnet=f"10.1.0.{2 * n}/31",
                )
            )
    return links


def link_ips(link: Link) -> tuple[str, str]:
    """The a-end and b-end addresses of a /31 link."""
    base, _ = link.subnet.split("/")
    octets = base.split(".")
    last = int(octets[3])
    prefix = ".".join(octets[:3])
    return f"{prefix}.{last}", f"{prefix}.{last + 1}"


def _interfaces(devices: list[Device], links: list[Link]) -> list[Interface]:
    out: list[Interface] = []
    for link in links:
        a_ip, b_ip = link_ips(link)
        for (dev, ifname), ip, (peer, peer_if) in (
            ((link.a_device, link.a_interface), a_ip, (link.b_device, link.b_interface)),
            ((link.b_device, link.b_interface), b_ip, (link.a_device, link.a_interface)),
        ):
            out.append(
                Interface(
                    device=dev,
                    name=ifname,
                    kind="p2p",
                    ip=ip,
                    prefixlen=31,
                    mtu=P2P_MTU,
                    description=f"to {peer}:{peer_if}",
                    speed_mbps=LINK_SPEED_MBPS,
                )
            )
    for d in devices:
        out.append(Interface(device=d.name, name="lo", kind="loopback", ip=d.loopback, prefixlen=32))
        if d.role == "leaf":
            n = int(d.name.removeprefix("leaf"))
            out.append(
                Interface(
                    device=d.name,
                    name=CUSTOMER_IF,
                    kind="svi",
                    ip=f"10.100.{n}.1",
                    prefixlen=24,
                    description="customer vlan 100",
                    speed_mbps=LINK_SPEED_MBPS,
                )
            )
    return sorted(out, key=lambda i: (i.device, natural_key(i.name)))


def _sessions(devices: list[Device], links: list[Link]) -> list[BgpSession]:
    asn = {d.name: d.asn for d in devices}
    sessions: list[BgpSession] = []
    for link in links:
        a_ip, b_ip = link_ips(link)
        for dev, peer, local_ip, peer_ip in (
            (link.a_device, link.b_device, a_ip, b_ip),
            (link.b_device, link.a_device, b_ip, a_ip),
        ):
            sessions.append(
                BgpSession(
                    device=dev,
                    peer_device=peer,
                    local_ip=local_ip,
                    peer_ip=peer_ip,
                    local_as=asn[dev],
                    remote_as=asn[peer],
                    link_id=link.id,
                )
            )
    return sessions


def _prefixes(devices: list[Device]) -> dict[str, list[str]]:
    prefixes: dict[str, list[str]] = {}
    for d in devices:
        if d.role == "leaf":
            prefixes[d.name] = [f"10.100.{int(d.name.removeprefix('leaf'))}.0/24"]
        elif d.role == "edge":
            prefixes[d.name] = [SERVICE_PREFIX]
    return prefixes


def customer_host_ip(inventory: Inventory, device: str) -> str | None:
    """The address of the customer host behind a leaf's customer port (gateway + 9)."""
    iface = inventory.interface(device, CUSTOMER_IF)
    if iface is None or iface.ip is None:
        return None
    octets = iface.ip.split(".")
    return ".".join([*octets[:3], str(int(octets[3]) + 9)])


SERVICE_IF = "svc0"  # an interface on the edge holding the service's address
SERVICE_HOST_OFFSET = 10  # the service answers at <prefix>+10, as a customer host at gateway+9


def service_host_ips(inventory: Inventory, device: str) -> list[str]:
    """Addresses in an edge's service prefixes that answer (a service behind the edge).

    The edge routes its service prefix to Null0 (the aggregate it announces); the one
    service address is held on an interface outside OSPF, so reachability monitoring has a
    host to ping, and losing the aggregate (a missing static route) makes it unreachable.
    """
    return [
        str(ipaddress.IPv4Network(prefix).network_address + SERVICE_HOST_OFFSET)
        for prefix in static_routes(inventory, device)
    ]


def static_routes(inventory: Inventory, device: str) -> list[str]:
    """Static routes a device holds in its golden config (the edge's service route)."""
    if inventory.device(device).role == "edge":
        return [prefix for prefix in inventory.prefixes.get(device, [])]
    return []


def natural_key(name: str) -> list[object]:
    """Sort eth2 before eth10, the way FRR orders interfaces."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


# --- golden config rendering -----------------------------------------------------


def render_frr_config(inventory: Inventory, device: str | Device, frr_version: str | None = None) -> str:
    """The device's intended configuration, in `show running-config` layout.

    `frr_version` (e.g. "8.4.4") adds the `frr version` line FRR prints, so a diff
    against a running config shows only real drift.
    """
    dev = inventory.device(device.name if isinstance(device, Device) else device)
    lines = [f"frr version {frr_version}"] if frr_version else []
    lines += ["frr defaults traditional", f"hostname {dev.name}", "!"]
    statics = static_routes(inventory, dev.name)
    if statics:
        lines += [f"ip route {prefix} Null0" for prefix in statics] + ["!"]
    for iface in sorted(
        (i for i in inventory.interfaces if i.device == dev.name), key=lambda i: natural_key(i.name)
    ):
        lines += [*_render_interface(iface), "!"]
    lines += [*_render_bgp(inventory, dev), "!"]
    lines += [
        "router ospf",
        f" ospf router-id {dev.router_id}",
        " log-adjacency-changes",
        "exit",
        "!",
    ]
    if inventory.interface(dev.name, CUSTOMER_IF) is not None:
        lines += [f"access-list {CUSTOMER_ACL} seq {CUSTOMER_ACL_PERMIT_SEQ} permit any", "!"]
    lines.append("end")
    return "\n".join(lines) + "\n"


def _render_interface(iface: Interface) -> list[str]:
    lines = [f"interface {iface.name}"]
    if iface.kind in ("p2p", "svi") and iface.description:
        lines.append(f" description {iface.description}")
    if iface.ip:
        lines.append(f" ip address {iface.ip}/{iface.prefixlen}")
    if iface.kind == "p2p":
        lines += [
            " ip ospf area 0",
            f" ip ospf dead-interval {OSPF_DEAD}",
            f" ip ospf hello-interval {OSPF_HELLO}",
            " ip ospf network point-to-point",
            f" ip ospf retransmit-interval {OSPF_RETRANSMIT}",
            f" mtu {iface.mtu}",
        ]
    elif iface.kind == "loopback":
        lines += [" ip ospf area 0", " ip ospf passive"]
    elif iface.name == CUSTOMER_IF:
        lines.append(f" ip access-group {CUSTOMER_ACL} out")
    lines.append("exit")
    return lines


def _render_bgp(inventory: Inventory, dev: Device) -> list[str]:
    lines = [
        f"router bgp {dev.asn}",
        f" bgp router-id {dev.router_id}",
        " bgp log-neighbor-changes",
        " no bgp ebgp-requires-policy",
        f" timers bgp {BGP_KEEPALIVE} {BGP_HOLD}",
    ]
    sessions = sorted(
        (s for s in inventory.bgp_sessions if s.device == dev.name),
        key=lambda s: tuple(int(o) for o in s.peer_ip.split(".")),
    )
    for s in sessions:
        lines += [
            f" neighbor {s.peer_ip} remote-as {s.remote_as}",
            f" neighbor {s.peer_ip} description {s.peer_device}",
            f" neighbor {s.peer_ip} timers connect {BGP_CONNECT_RETRY}",
        ]
    networks = inventory.prefixes.get(dev.name, [])
    if networks:
        lines += [" !", " address-family ipv4 unicast"]
        lines += [f"  network {p}" for p in networks]
        lines.append(" exit-address-family")
    lines.append("exit")
    return lines
