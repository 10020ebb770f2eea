"""Namespaces, veths and "cables": the physical layer of the FRR lab.

Each router lives in its own network namespace (`<prefix>-<router>`). Cables live
in one extra namespace (`<prefix>-wire`): every link is a Linux bridge there, with
one veth to each router. The router ends carry the inventory interface names
(`eth1`, ...). Because the wire side is outside every router, a cable can be cut
(`link_failure`) in a way no router command can undo, exactly like a broken fibre:
both ends lose carrier while staying administratively up.
"""

from __future__ import annotations

import json

from netops_agent.lab.frr.state import LabState, LinkState, RouterState
from netops_agent.lab.frr.system import (
    FRR_RUN,
    NETNS_DIR,
    run,
    valid_ifname,
    valid_name,
)
from netops_agent.models import Inventory

WIRE_MTU = 9216  # the cable never limits; router ends decide the MTU


def plan(inventory: Inventory, runtime_dir: str, prefix: str, created_at: str) -> LabState:
    """Name everything the lab will create, before creating anything."""
    valid_name(prefix, "lab prefix")
    routers: dict[str, RouterState] = {}
    for dev in inventory.devices:
        valid_name(dev.name, "router name")
        if dev.name == "wire":
            from netops_agent.errors import LabError

            raise LabError("a router may not be called 'wire': that name is the cable namespace")
        ns = f"{prefix}-{dev.name}"
        routers[dev.name] = RouterState(name=dev.name, ns=ns, dir=str(FRR_RUN / ns))
    for iface in inventory.interfaces:
        valid_ifname(iface.name)
    links = [
        LinkState(id=link.id, bridge=f"b{n}", a_port=f"l{n}a", b_port=f"l{n}b")
        for n, link in enumerate(inventory.links)
    ]
    svc_ports = {
        i.device: valid_ifname(f"svc-{i.device}")
        for i in inventory.interfaces
        if i.kind == "svi" and len(f"svc-{i.device}") <= 15
    }
    return LabState(
        prefix=prefix,
        runtime_dir=runtime_dir,
        created_at=created_at,
        inventory=inventory,
        wire_ns=f"{prefix}-wire",
        routers=routers,
        links=links,
        svc_ports=svc_ports,
    )


def ns_exists(ns: str) -> bool:
    return (NETNS_DIR / ns).exists()


def create_network(state: LabState) -> None:
    """Create namespaces, cables (bridges + veths) and customer ports; bring links up."""
    for ns in state.namespaces():
        run(["ip", "netns", "add", ns])
        run(["ip", "-n", ns, "link", "set", "lo", "up"])
    inv = state.inventory
    wire_cmds: list[str] = []
    for link_state, link in zip(state.links, inv.links, strict=True):
        wire_cmds.append(f"link add {link_state.bridge} type bridge mcast_snooping 0")
        for router, ifname, port in (
            (link.a_device, link.a_interface, link_state.a_port),
            (link.b_device, link.b_interface, link_state.b_port),
        ):
            _veth(state.routers[router].ns, ifname, state.wire_ns, port)
            wire_cmds.append(f"link set {port} master {link_state.bridge} mtu {WIRE_MTU} up")
        wire_cmds.append(f"link set {link_state.bridge} up")
    for device, port in state.svc_ports.items():
        _veth(state.routers[device].ns, "svc0", state.wire_ns, port)
        wire_cmds.append(f"link set {port} up")
    run(["ip", "-n", state.wire_ns, "-batch", "-"], input_text="\n".join(wire_cmds) + "\n")
    for name, router in state.routers.items():
        cmds = [
            f"link set {i.name} mtu {i.mtu} up"
            for i in inv.interfaces
            if i.device == name and i.kind in ("p2p", "svi")
        ]
        if cmds:
            run(["ip", "-n", router.ns, "-batch", "-"], input_text="\n".join(cmds) + "\n")


def _veth(router_ns: str, ifname: str, wire_ns: str, port: str) -> None:
    run(
        [
            "ip", "link", "add", ifname, "netns", router_ns, "type", "veth",
            "peer", "name", port, "netns", wire_ns,
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


def set_port_state(wire_ns: str, port: str, up: bool) -> None:
    """Cut or mend one side of a cable from outside the routers."""
    run(["ip", "-n", valid_name(wire_ns), "link", "set", valid_ifname(port), "up" if up else "down"])


def port_is_up(wire_ns: str, port: str) -> bool:
    proc = run(["ip", "-n", wire_ns, "-j", "link", "show", "dev", port], check=False)
    if proc.returncode != 0:
        return False
    rows = json.loads(proc.stdout or "[]")
    return bool(rows) and "UP" in rows[0].get("flags", [])
