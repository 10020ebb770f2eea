"""Seeded topology generator: a NetBox-shaped inventory plus a golden config per device.

Each site is a two-tier Clos fabric (spines, leaves, edges; every leaf and edge
cabled to every spine). Sites are joined in a ring by their edges. The underlay is
OSPF area 0 over point-to-point /31s and loopbacks; the overlay is eBGP over every
cable (spines of a site share an AS, as RFC 7938 suggests). Leaves originate two
customer /24s on SVIs behind an outbound ACL; edges originate a service /24 from a
static route. The seed decides which spine port each leaf and edge is patched
into. Sizes per profile are documented in the README.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from netops_agent.errors import ConfigError
from netops_agent.lab.sim.config import (
    AclEntry,
    BgpConfig,
    BgpNeighborConfig,
    DeviceConfig,
    InterfaceConfig,
    OspfConfig,
    StaticRoute,
)
from netops_agent.lab.sim.state import _dotted
from netops_agent.models import BgpSession, Device, Interface, Inventory, Link, Site, Strict

M = TypeVar("M", bound=Strict)


@dataclass(frozen=True)
class Profile:
    sites: int
    spines: int
    leaves: int
    edges: int

    @property
    def devices(self) -> int:
        return self.sites * (self.spines + self.leaves + self.edges)


PROFILES: dict[str, Profile] = {
    "small": Profile(sites=1, spines=2, leaves=4, edges=2),
    "medium": Profile(sites=3, spines=2, leaves=12, edges=2),
    "large": Profile(sites=10, spines=4, leaves=44, edges=2),
}

FABRIC_MTU = 1500
CUSTOMER_ACL = "CUSTOMER-OUT"
REGIONS = ["eu-west", "eu-central", "us-east", "us-west", "ap-south"]


def profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(PROFILES)
        raise ConfigError(f"unknown topology profile {name!r}; choose one of: {known}") from None


def _row(model: type[M], **fields: Any) -> M:
    """An inventory record, validated in pydantic's core (several times faster than
    `model_construct`, which sets each field in Python; `model_validate` without its
    Python wrapper)."""
    return model.__pydantic_validator__.validate_python(fields)  # type: ignore[attr-defined,no-any-return]


class _Builder:
    """Accumulates inventory rows and golden configs while the fabric is wired."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.sites: list[Site] = []
        self.devices: list[Device] = []
        self.interfaces: list[Interface] = []
        self.links: list[Link] = []
        self.sessions: list[BgpSession] = []
        self.prefixes: dict[str, list[str]] = {}
        self.configs: dict[str, DeviceConfig] = {}
        self._next_port: dict[str, int] = {}
        self._ports: dict[str, list[int]] = {}  # device -> port numbers in the order cables take them
        self._p2p = int(ipaddress.IPv4Address("10.0.0.0"))  # the next /31, as an integer
        self._loop = int(ipaddress.IPv4Address("10.255.0.1"))
        self._asn = 65001

    def add_device(self, name: str, site: str, role: str, asn: int | None = None) -> Device:
        loopback = _dotted(self._loop + len(self.devices))
        if asn is None:
            asn, self._asn = self._asn, self._asn + 1
        dev = _row(
            Device,
            name=name,
            site=site,
            role=role,
            platform="cisco_ios",
            asn=asn,
            loopback=loopback,
            router_id=loopback,
        )
        self.devices.append(dev)
        cfg = DeviceConfig(hostname=name, ospf=OspfConfig(1, loopback), bgp=BgpConfig(asn, loopback))
        cfg.interfaces["Loopback0"] = InterfaceConfig("Loopback0", ip=loopback, prefixlen=32, ospf_area=0)
        self.configs[name] = cfg
        self.interfaces.append(
            _row(
                Interface,
                device=name,
                name="Loopback0",
                kind="loopback",
                ip=loopback,
                prefixlen=32,
                mtu=1500,
                description="router-id",
                speed_mbps=8000,
            )
        )
        self._next_port[name] = 0
        return dev

    def next_port(self, device: str) -> str:
        port = self._next_port[device]
        self._next_port[device] = port + 1
        order = self._ports.get(device)
        return f"GigabitEthernet0/{order[port] if order and port < len(order) else port}"

    def sort_ports(self) -> None:
        """List each device's interfaces in port order, as a router shows them."""
        rank = {d.name: n for n, d in enumerate(self.devices)}

        def port(name: str) -> tuple[int, str]:
            head, _, num = name.rpartition("/")
            return (int(num), head) if num.isdigit() and head else (-1, name)

        order = {id(i): n for n, i in enumerate(self.interfaces)}

        def key(i: Interface) -> tuple[int, int, tuple[int, str]]:
            if i.device not in self._ports:  # only patched devices are re-listed
                return (rank[i.device], order[id(i)], (0, ""))
            return (rank[i.device], i.kind != "loopback", port(i.name))

        self.interfaces.sort(key=key)
        for name in self._ports:
            cfg = self.configs[name]
            cfg.interfaces = dict(
                sorted(cfg.interfaces.items(), key=lambda kv: (kv[0] != "Loopback0", port(kv[0])))
            )

    def patch_order(self, device: str, ports: int) -> None:
        """The seed decides which of a device's first `ports` ports each cable lands on."""
        order = list(range(ports))
        self.rng.shuffle(order)
        self._ports[device] = order

    def cable(self, a: Device, b: Device) -> None:
        """Cable two devices: /31, OSPF p2p, and an eBGP session each way."""
        a_if, b_if = self.next_port(a.name), self.next_port(b.name)
        a_ip, b_ip = _dotted(self._p2p), _dotted(self._p2p + 1)
        net = f"{a_ip}/31"
        self._p2p += 2
        link_id = f"{a.name}:{a_if}--{b.name}:{b_if}"
        self.links.append(
            _row(
                Link,
                id=link_id,
                a_device=a.name,
                a_interface=a_if,
                b_device=b.name,
                b_interface=b_if,
                subnet=net,
            )
        )
        for dev, ifn, ip, peer, peer_if, peer_ip in (
            (a, a_if, a_ip, b, b_if, b_ip),
            (b, b_if, b_ip, a, a_if, a_ip),
        ):
            desc = f"to {peer.name} {peer_if}"
            self.interfaces.append(
                _row(
                    Interface,
                    device=dev.name,
                    name=ifn,
                    kind="p2p",
                    ip=ip,
                    prefixlen=31,
                    mtu=FABRIC_MTU,
                    description=desc,
                    speed_mbps=1000,
                )
            )
            self.configs[dev.name].interfaces[ifn] = InterfaceConfig(
                ifn,
                description=desc,
                ip=ip,
                prefixlen=31,
                mtu=FABRIC_MTU,
                ospf_area=0,
                ospf_p2p=True,
            )
            bgp = self.configs[dev.name].bgp
            assert bgp is not None
            bgp.neighbors[peer_ip] = BgpNeighborConfig(
                peer_ip,
                remote_as=peer.asn,
                description=peer.name,
                max_prefix=5000,
            )
            self.sessions.append(
                _row(
                    BgpSession,
                    device=dev.name,
                    peer_device=peer.name,
                    local_ip=ip,
                    peer_ip=peer_ip,
                    local_as=dev.asn,
                    remote_as=peer.asn,
                    link_id=link_id,
                )
            )

    def customer_svis(self, leaf: Device, index: int) -> None:
        cfg = self.configs[leaf.name]
        assert cfg.bgp is not None
        cfg.acls[CUSTOMER_ACL] = [AclEntry(100, "permit", "ip", "any", "any")]
        nets = []
        for k, vlan in enumerate((100, 200)):
            third = (index % 128) * 2 + k
            second = 100 + index // 128
            if second > 255:  # past 10.255/16: ipaddress says what is wrong
                ipaddress.IPv4Network(f"10.{second}.{third}.0/24")
            network, gw = f"10.{second}.{third}.0", f"10.{second}.{third}.1"  # a /24 and its .1
            name = f"Vlan{vlan}"
            cfg.interfaces[name] = InterfaceConfig(
                name,
                description=f"customer vlan {vlan}",
                ip=gw,
                prefixlen=24,
                acl_out=CUSTOMER_ACL,
            )
            self.interfaces.append(
                _row(
                    Interface,
                    device=leaf.name,
                    name=name,
                    kind="svi",
                    ip=gw,
                    prefixlen=24,
                    mtu=1500,
                    description=f"customer vlan {vlan}",
                    speed_mbps=1000,
                )
            )
            cfg.bgp.networks.append((network, 24))
            nets.append(f"{network}/24")
        self.prefixes[leaf.name] = nets

    def service_route(self, edge: Device, index: int) -> None:
        """An upstream handoff (a /31 to the provider) and a static route for a service /24."""
        cfg = self.configs[edge.name]
        assert cfg.bgp is not None
        handoff = ipaddress.IPv4Network(f"100.64.{index // 128}.{(index % 128) * 2}/31")
        local, provider = str(handoff.network_address), str(handoff.broadcast_address)
        name = self.next_port(edge.name)
        desc = "to provider (service handoff)"
        cfg.interfaces[name] = InterfaceConfig(name, description=desc, ip=local, prefixlen=31)
        self.interfaces.append(
            _row(
                Interface,
                device=edge.name,
                name=name,
                kind="uplink",
                ip=local,
                prefixlen=31,
                mtu=1500,
                description=desc,
                speed_mbps=1000,
            )
        )
        net = ipaddress.IPv4Network(f"198.18.{index}.0/24")
        cfg.statics.append(StaticRoute(str(net.network_address), 24, provider))
        cfg.bgp.networks.append((str(net.network_address), 24))
        self.prefixes[edge.name] = [str(net)]


def generate(profile_name: str = "small", seed: int = 42) -> tuple[Inventory, dict[str, DeviceConfig]]:
    """Build the inventory and golden configs for a profile; same seed, same network."""
    prof = profile(profile_name)
    b = _Builder(seed)
    edges_by_site: list[list[Device]] = []
    leaf_index = edge_index = 0
    for s in range(prof.sites):
        site = f"site{s + 1}"
        b.sites.append(_row(Site, name=site, slug=site, region=REGIONS[s % len(REGIONS)]))
        spine_asn = 65000 + 100 * (s + 1)
        spines = [
            b.add_device(f"{site}-spine{i + 1}", site, "spine", asn=spine_asn) for i in range(prof.spines)
        ]
        leaves = [b.add_device(f"{site}-leaf{i + 1}", site, "leaf") for i in range(prof.leaves)]
        edges = [b.add_device(f"{site}-edge{i + 1}", site, "edge") for i in range(prof.edges)]
        for spine in spines:  # the seed patches leaves and edges into different spine ports
            b.patch_order(spine.name, len(leaves) + len(edges))
        for dev in leaves + edges:
            for spine in spines:
                b.cable(dev, spine)
        for leaf in leaves:
            b.customer_svis(leaf, leaf_index)
            leaf_index += 1
        for edge in edges:
            b.service_route(edge, edge_index)
            edge_index += 1
        edges_by_site.append(edges)
    if prof.sites > 1:
        for s in range(prof.sites):
            nxt = edges_by_site[(s + 1) % prof.sites]
            b.cable(edges_by_site[s][-1], nxt[0])
    if prof.devices > 65534 - 65001:
        raise ConfigError("profile too large for 2-byte private ASNs")
    b.sort_ports()
    inv = Inventory.model_construct(
        sites=b.sites,
        devices=b.devices,
        interfaces=b.interfaces,
        links=b.links,
        bgp_sessions=b.sessions,
        prefixes=b.prefixes,
    )
    return inv, b.configs


@lru_cache(maxsize=4)
def generated(profile_name: str, seed: int) -> tuple[Inventory, dict[str, DeviceConfig]]:
    """`generate`, once per process for each (profile, seed): a run checks a suite's targets
    on one twin and works each case on another, an evaluation builds one per case, all of
    the same network. Shared, so never changed: twins copy the golden configs into running
    ones, and take the inventory through `own_inventory`, which keeps the lookups made
    here: the wiring `derive` reads and the interface index (built once for all)."""
    from netops_agent.lab.sim.state import _Wiring
    from netops_agent.lab.sim.telemetry import InterfaceIndex

    inv, configs = generate(profile_name, seed)
    _Wiring.of(inv)
    InterfaceIndex.of(inv)
    return inv, configs


def own_inventory(inv: Inventory) -> Inventory:
    """A twin's own copy of a shared inventory: the only records ever changed on a lab's
    inventory, the devices' and sites' criticality, are copied; the rest is shared (as
    `pipeline.case.snapshot_inventory` does). Lookup indexes stashed on the original point
    at its records and are left behind, except the twin's wiring and interface index (they
    check their lists)."""
    sites, devices = [s.model_copy() for s in inv.sites], [d.model_copy() for d in inv.devices]
    own = inv.model_copy(update={"sites": sites, "devices": devices})
    for cached in set(own.__dict__) - set(Inventory.model_fields) - {"_sim_wiring", "_sim_index"}:
        del own.__dict__[cached]
    return own
