"""Namespaces, veths and "cables": the physical layer of the FRR lab.

Each router lives in its own network namespace (`<prefix>-<router>`). Cables live
in one extra namespace (`<prefix>-wire`): every link is a Linux bridge there, with
one veth to each router. The router ends carry the inventory interface names
(`eth1`, ...). Because the wire side is outside every router, a cable can be cut
(`link_failure`) in a way no router command can undo, exactly like a broken fibre:
both ends lose carrier while staying administratively up.

Each leaf also has a customer host (`<prefix>-h-<leaf>`) on its customer port, so
"the customer prefix is reachable" means a real host answers a ping.
"""

from __future__ import annotations

import json
import shlex

from netops_agent.errors import LabError
from netops_agent.lab.frr.state import HostState, LabState, LinkState, RouterState
from netops_agent.lab.frr.system import FRR_RUN, NETNS_DIR, run, valid_ifname, valid_name
from netops_agent.lab.frr.topology import CUSTOMER_IF, SERVICE_IF, customer_host_ip, service_host_ips
from netops_agent.models import Inventory

WIRE_MTU = 9216  # the cable never limits; router ends decide the MTU
HOST_IF = "eth0"


def plan(inventory: Inventory, runtime_dir: str, prefix: str, created_at: str) -> LabState:
    """Name everything the lab will create, before creating anything."""
    valid_name(prefix, "lab prefix")
    routers: dict[str, RouterState] = {}
    for dev in inventory.devices:
        valid_name(dev.name, "router name")
        if dev.name == "wire" or dev.name.startswith("h-"):
            raise LabError(
                f"router name {dev.name!r} is reserved: 'wire' and 'h-*' name the lab's "
                "cable and customer-host namespaces"
            )
        ns = f"{prefix}-{dev.name}"
        routers[dev.name] = RouterState(name=dev.name, ns=ns, dir=str(FRR_RUN / ns))
    for iface in inventory.interfaces:
        valid_ifname(iface.name)
    links = [
        LinkState(id=link.id, bridge=f"b{n}", a_port=f"l{n}a", b_port=f"l{n}b")
        for n, link in enumerate(inventory.links)
    ]
    hosts: dict[str, HostState] = {}
    for dev in inventory.devices:
        host_ip = customer_host_ip(inventory, dev.name)
        iface = inventory.interface(dev.name, CUSTOMER_IF)
        if host_ip and iface and iface.ip:
            hosts[dev.name] = HostState(ns=f"{prefix}-h-{dev.name}", ip=host_ip, gateway=iface.ip)
    return LabState(
        prefix=prefix,
        runtime_dir=runtime_dir,
        created_at=created_at,
        inventory=inventory,
        wire_ns=f"{prefix}-wire",
        routers=routers,
        links=links,
        hosts=hosts,
    )


def ns_exists(ns: str) -> bool:
    return (NETNS_DIR / ns).exists()


def create_network(state: LabState) -> None:
    """Create namespaces, cables (bridges + veths) and customer hosts; bring links up."""
    for ns in state.namespaces():
        run(["ip", "netns", "add", ns])
    inv = state.inventory
    wire_cmds = ["link set lo up"]
    for link_state, link in zip(state.links, inv.links, strict=True):
        wire_cmds.append(f"link add {link_state.bridge} type bridge mcast_snooping 0")
        for router, ifname, port in (
            (link.a_device, link.a_interface, link_state.a_port),
            (link.b_device, link.b_interface, link_state.b_port),
        ):
            _veth(state.routers[router].ns, ifname, state.wire_ns, port)
            wire_cmds.append(f"link set {port} master {link_state.bridge} mtu {WIRE_MTU} up")
        wire_cmds.append(f"link set {link_state.bridge} up")
    _batch(state.wire_ns, wire_cmds)
    for device, host in state.hosts.items():
        _veth(state.routers[device].ns, CUSTOMER_IF, host.ns, HOST_IF)
        _batch(
            host.ns,
            [
                "link set lo up",
                f"link set {HOST_IF} up",
                f"addr add {host.ip}/24 dev {HOST_IF}",
                f"route add default via {host.gateway}",
            ],
        )
    for name, router in state.routers.items():
        cmds = ["link set lo up"]
        for i in inv.interfaces:
            if i.device == name and i.kind in ("p2p", "svi"):
                cmds.append(f"link set {i.name} mtu {i.mtu} up")
                if i.description:
                    cmds.append(f"link set {i.name} alias {shlex.quote(i.description)}")
        service = service_host_ips(inv, name)
        if service:
            # a veth pair inside the router (the host's kernel may lack the dummy driver)
            cmds += [f"link add {SERVICE_IF} type veth peer name {SERVICE_IF}p",
                     f"link set {SERVICE_IF}p up", f"link set {SERVICE_IF} up"]  # fmt: skip
            cmds += [f"addr add {ip}/32 dev {SERVICE_IF}" for ip in service]
        _batch(router.ns, cmds)


def _batch(ns: str, commands: list[str]) -> None:
    run(["ip", "-n", ns, "-batch", "-"], input_text="\n".join(commands) + "\n")


def _veth(router_ns: str, ifname: str, other_ns: str, port: str) -> None:
    run(
        [
            "ip", "link", "add", ifname, "netns", router_ns, "type", "veth",
            "peer", "name", port, "netns", other_ns,
        ]
    )  # fmt: skip


def delete_namespaces(names: list[str]) -> list[str]:
    """Delete the namespaces that exist (their veths go with them); return those deleted."""
    deleted: list[str] = []
    for ns in names:
        if ns_exists(ns):
            run(["ip", "netns", "del", ns], check=False)
            deleted.append(ns)
    return deleted


def namespace_pids(ns: str) -> list[int]:
    """Processes running inside a namespace (only ones the lab started can be there)."""
    if not ns_exists(ns):
        return []
    proc = run(["ip", "netns", "pids", ns], check=False)
    return [int(x) for x in proc.stdout.split() if x.isdigit()]


def sync_carrier(state: LabState, link_ids: list[str] | None = None) -> None:
    """Make each cable carry "light" the way a fibre does.

    The far end of a cable has carrier only while the cable is intact and the near
    end is administratively up: shutting one end takes the other end down (down,
    line protocol down), and a cut cable takes both down whatever the routers do.
    The wire-side port facing a router is up exactly when light reaches it.
    """
    wanted = set(link_ids) if link_ids is not None else {link.id for link in state.inventory.links}
    for link, ports in zip(state.inventory.links, state.links, strict=True):
        if link.id not in wanted:
            continue
        intact = link.id not in state.cut_links
        a_up = _admin_up(state.routers[link.a_device].ns, link.a_interface)
        b_up = _admin_up(state.routers[link.b_device].ns, link.b_interface)
        _set_port(state.wire_ns, ports.b_port, intact and a_up)  # light from a reaches b
        _set_port(state.wire_ns, ports.a_port, intact and b_up)


def _admin_up(ns: str, ifname: str) -> bool:
    proc = run(["ip", "-n", ns, "-j", "link", "show", "dev", ifname], check=False)
    rows = json.loads(proc.stdout or "[]") if proc.returncode == 0 else []
    return bool(rows) and "UP" in rows[0].get("flags", [])


def _set_port(wire_ns: str, port: str, up: bool) -> None:
    if port_is_up(wire_ns, port) != up:
        set_port_state(wire_ns, port, up)


def set_port_state(wire_ns: str, port: str, up: bool) -> None:
    """Cut or mend one side of a cable from outside the routers."""
    run(["ip", "-n", valid_name(wire_ns), "link", "set", valid_ifname(port), "up" if up else "down"])


def port_is_up(wire_ns: str, port: str) -> bool:
    proc = run(["ip", "-n", wire_ns, "-j", "link", "show", "dev", port], check=False)
    if proc.returncode != 0:
        return False
    rows = json.loads(proc.stdout or "[]")
    return bool(rows) and "UP" in rows[0].get("flags", [])
