"""Real faults in the FRR lab, and the ground truth behind them.

Each fault changes a cause the way it happens in a network: an operator's config
change (shutdown, remote-as, MTU, OSPF timers, a removed static route, an ACL
entry), a cut cable (the wire-side veths go down, outside every router), or
congestion (a token-bucket shaper plus a traffic load on one link). Symptoms follow
from real FRR and kernel behaviour. `fault_present` inspects the cause in the real
routers (running config, link state, qdiscs, nftables), never the symptoms. Only
the scenario loader, the lab CLI and the evaluation harness use this module.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

from netops_agent.catalog import fault_type
from netops_agent.errors import FaultTargetError, UnknownFaultError
from netops_agent.lab.frr import netns, observe
from netops_agent.lab.frr.lab import FrrLab
from netops_agent.lab.frr.topology import (
    CUSTOMER_ACL,
    CUSTOMER_IF,
    OSPF_DEAD,
    OSPF_HELLO,
    static_routes,
)
from netops_agent.models import FaultSpec, InjectedFault, Link
from netops_agent.tools.frr_parsers import config_section

ODD_MTU = 9000
BAD_HELLO, BAD_DEAD = 5, 20
ACL_SEQ = 50
SHAPED_RATE = "10mbit"  # equals the links' nominal speed (speed_mbps = 10)
SHIFT_COST = 1000
Target = dict[str, Any]


class FrrFaultInjector:
    """FaultInjector for an FrrLab; injected faults are kept in the lab's state file."""

    SUPPORTED = (
        "interface_admin_down", "link_failure", "mtu_mismatch", "ospf_timer_mismatch",
        "bgp_neighbor_shutdown", "bgp_asn_mismatch", "route_missing", "acl_blocking",
        "link_congestion",
    )  # fmt: skip

    def __init__(self, lab: FrrLab) -> None:
        self.lab = lab

    def injected(self) -> list[InjectedFault]:
        self.lab.reload_state()
        return list(self.lab.state.faults)

    def inject(self, spec: FaultSpec, seed: int = 0) -> InjectedFault:
        if spec.type not in self.SUPPORTED:
            raise UnknownFaultError(
                f"fault {spec.type!r} cannot be injected on the FRR backend; supported: "
                f"{', '.join(self.SUPPORTED)} (the twin backend supports the whole catalog)"
            )
        ft = fault_type(spec.type)
        self.lab.reload_state()
        state = self.lab.state
        rng = random.Random(f"{seed}-{spec.type}-{state.fault_seq}")
        target = (
            self._pick(ft.target, spec.type, rng)
            if spec.target == "auto"
            else self._check(ft.target, spec.type, dict(spec.target))
        )
        state.fault_seq += 1
        fault_id = f"F{state.fault_seq}"
        params = _INJECT[spec.type](self, target, fault_id) or {}
        fault = InjectedFault(
            id=fault_id, type=spec.type, target=target,
            severity=spec.severity or ft.severity, params=params,
        )  # fmt: skip
        state.faults.append(fault)
        self.lab.save()
        return fault

    def fault_present(self, fault: InjectedFault) -> bool:
        return _PRESENT[fault.type](self, fault.target, fault.params)

    def repair(self, fault: InjectedFault) -> None:
        """Undo a fault as a field engineer would (harness cleanup, escalated faults)."""
        _REPAIR[fault.type](self, fault.target, fault.params, fault.id)
        self.lab.reload_state()
        self.lab.state.faults = [f for f in self.lab.state.faults if f.id != fault.id]
        self.lab.save()

    def reference_fix(self, fault: InjectedFault) -> list[tuple[str, list[str]]]:
        """The catalog's correct remote action as (device, config lines); [] if none exists."""
        return _FIX[fault.type](self, fault.target, fault.params)

    # --- targets -------------------------------------------------------------------------
    def _busy(self) -> set[str]:
        role = {d.name: d.role for d in self.lab.inventory().devices}
        out: set[str] = set()
        for f in self.lab.state.faults:
            out.add(f.target["device"])
            peer = f.target.get("peer_device")
            if peer and role.get(peer) != "spine":
                out.add(peer)
        return out

    def _pick(self, kind: str, slug: str, rng: random.Random) -> Target:
        inv, busy = self.lab.inventory(), self._busy()
        free = [d for d in inv.devices if d.name not in busy and d.role != "spine"]
        if kind == "device":
            cands = [d.name for d in free if static_routes(inv, d.name)]
            if not cands:
                raise FaultTargetError(f"{slug}: no free device with a static route left")
            return {"device": rng.choice(sorted(cands))}
        if slug == "acl_blocking":
            cands = [d.name for d in free if inv.interface(d.name, CUSTOMER_IF) is not None]
            if not cands:
                raise FaultTargetError("acl_blocking: no free leaf left")
            return {"device": rng.choice(sorted(cands)), "interface": CUSTOMER_IF}
        role = {d.name: d.role for d in inv.devices}
        links = [
            link for link in inv.links
            if link.a_device not in busy and link.b_device not in busy
            and (role[link.a_device] == "spine") != (role[link.b_device] == "spine")
        ]  # fmt: skip
        if not links:
            raise FaultTargetError(f"{slug}: no free link left")
        link = rng.choice(links)
        device = link.b_device if role[link.a_device] == "spine" else link.a_device
        target = _link_target(link, device)
        return self._session_target(target) if kind == "bgp_session" else target

    def _session_target(self, t: Target) -> Target:
        s = next(
            s for s in self.lab.inventory().bgp_sessions
            if s.device == t["device"] and s.peer_device == t["peer_device"]
        )  # fmt: skip
        return {"device": s.device, "peer": s.peer_ip, "peer_device": s.peer_device,
                "interface": t["interface"]}  # fmt: skip

    def _check(self, kind: str, slug: str, target: Target) -> Target:
        """Validate an explicit target and fill in what follows from the inventory."""
        inv = self.lab.inventory()
        dev = target.get("device")
        if not dev:
            raise FaultTargetError(f"{slug}: target needs a 'device' (got {target})")
        inv.device(str(dev))
        if kind == "device":
            if not static_routes(inv, dev):
                raise FaultTargetError(f"{slug}: {dev} has no static route to remove (try an edge)")
            return {"device": dev}
        if kind == "bgp_session":
            s = inv.session(dev, str(target.get("peer")))
            if s is None:
                known = ", ".join(x.peer_ip for x in inv.bgp_sessions if x.device == dev)
                raise FaultTargetError(
                    f"{slug}: {dev} has no BGP neighbour {target.get('peer')}; its neighbours: {known}"
                )
            link = next(lk for lk in inv.links if lk.id == s.link_id)
            return self._session_target(_link_target(link, dev))
        itf = inv.interface(dev, str(target.get("interface")))
        if itf is None:
            known = ", ".join(i.name for i in inv.interfaces if i.device == dev)
            raise FaultTargetError(f"{slug}: {dev} has no interface {target.get('interface')}; interfaces: {known}")
        if slug == "acl_blocking":
            if itf.name != CUSTOMER_IF:
                raise FaultTargetError(f"acl_blocking needs a leaf's customer port {CUSTOMER_IF}, not {itf.name}")
            return {"device": dev, "interface": itf.name}
        link = inv.link_of(dev, itf.name)
        if link is None:
            raise FaultTargetError(f"{slug}: {dev} {itf.name} is not cabled to another device")
        return _link_target(link, dev)

    # --- helpers used by the fault tables -----------------------------------------------------
    def configure(self, device: str, lines: list[str]) -> None:
        out = self.lab.configure(device, lines)
        if not out.ok:
            raise FaultTargetError(f"could not change {device}: {out.error}")

    def running(self, device: str) -> str:
        return self.lab.execute(device, "show running-config").text

    def asn(self, device: str) -> int:
        return self.lab.inventory().device(device).asn

    def wire_ports(self, link_id: str) -> tuple[str, str]:
        link = self.lab.state.link(link_id)
        return link.a_port, link.b_port


def _link_target(link: Link, device: str) -> Target:
    peer_device, peer_interface = link.peer_of(device)
    interface = link.a_interface if link.a_device == device else link.b_interface
    return {"device": device, "interface": interface, "peer_device": peer_device,
            "peer_interface": peer_interface, "link": link.id}  # fmt: skip


def _timers(config: str, ifname: str) -> tuple[int, int]:
    """(hello, dead) of an interface from a running config (FRR defaults 10/40)."""
    block = config_section(config, f"interface {ifname}")
    hello = re.search(r"ip ospf hello-interval (\d+)", block)
    dead = re.search(r"ip ospf dead-interval (\d+)", block)
    return (int(hello.group(1)) if hello else 10, int(dead.group(1)) if dead else 40)


def _bgp_block(fx: FrrFaultInjector, device: str) -> str:
    return config_section(fx.running(device), f"router bgp {fx.asn(device)}")


def _mtu(fx: FrrFaultInjector, device: str, ifname: str) -> int:
    row = observe.link(fx.lab.router(device).ns, ifname)
    return int(row["mtu"]) if row else 0


def _golden_mtu(fx: FrrFaultInjector, device: str, ifname: str) -> int:
    itf = fx.lab.inventory().interface(device, ifname)
    return itf.mtu if itf else 1500


def _bgp(fx: FrrFaultInjector, t: Target, line: str) -> list[str]:
    return [f"router bgp {fx.asn(t['device'])}", f" neighbor {t['peer']} {line}"]


def _acl_prefix(fx: FrrFaultInjector, t: Target) -> str:
    itf = fx.lab.inventory().interface(t["device"], t["interface"])
    assert itf is not None and itf.ip is not None
    return f"{'.'.join(itf.ip.split('.')[:3])}.0/{itf.prefixlen}"


def _service_prefix(fx: FrrFaultInjector, t: Target) -> str:
    return static_routes(fx.lab.inventory(), t["device"])[0]


# --- injection ----------------------------------------------------------------------------


def _cut(fx: FrrFaultInjector, t: Target, fault_id: str) -> dict[str, Any]:
    ports = fx.wire_ports(t["link"])
    for port in ports:
        netns.set_port_state(fx.lab.state.wire_ns, port, up=False)
    return {"wire_ports": list(ports)}


def _congest(fx: FrrFaultInjector, t: Target, fault_id: str) -> dict[str, Any]:
    ns = fx.lab.router(t["device"]).ns
    dest = fx.lab.inventory().device(t["peer_device"]).loopback
    observe.run(["tc", "-n", ns, "qdisc", "replace", "dev", t["interface"], "root", "tbf",
                 "rate", SHAPED_RATE, "burst", "16kb", "latency", "50ms"])  # fmt: skip
    fx.lab.start_helper(t["device"], ["ping", "-q", "-i", "0.001", "-s", "1472", dest],
                        "link_congestion load", fault_id)  # fmt: skip
    return {"rate": SHAPED_RATE, "load_destination": dest}


_INJECT: dict[str, Callable[[FrrFaultInjector, Target, str], dict[str, Any] | None]] = {
    "interface_admin_down": lambda fx, t, i: fx.configure(t["device"], [f"interface {t['interface']}", " shutdown"]),
    "link_failure": _cut,
    "mtu_mismatch": lambda fx, t, i: (
        fx.configure(t["device"], [f"interface {t['interface']}", f" mtu {ODD_MTU}"])
        or {"mtu": ODD_MTU, "standard_mtu": _golden_mtu(fx, t["device"], t["interface"])}
    ),
    "ospf_timer_mismatch": lambda fx, t, i: fx.configure(t["device"], [
        f"interface {t['interface']}", f" ip ospf hello-interval {BAD_HELLO}",
        f" ip ospf dead-interval {BAD_DEAD}"]),
    "bgp_neighbor_shutdown": lambda fx, t, i: fx.configure(t["device"], _bgp(fx, t, "shutdown")),
    "bgp_asn_mismatch": lambda fx, t, i: (
        fx.configure(t["device"], _bgp(fx, t, f"remote-as {fx.asn(t['peer_device']) + 7}"))
        or {"configured_as": fx.asn(t["peer_device"]) + 7}
    ),
    "route_missing": lambda fx, t, i: (
        fx.configure(t["device"], [f"no ip route {_service_prefix(fx, t)} Null0"])
        or {"prefix": _service_prefix(fx, t), "nexthop": "Null0"}
    ),
    "acl_blocking": lambda fx, t, i: (
        fx.configure(t["device"], [f"access-list {CUSTOMER_ACL} seq {ACL_SEQ} deny {_acl_prefix(fx, t)}"])
        or {"acl": CUSTOMER_ACL, "seq": ACL_SEQ, "prefix": _acl_prefix(fx, t)}
    ),
    "link_congestion": _congest,
}

# --- ground truth -------------------------------------------------------------------------


def _congested(fx: FrrFaultInjector, t: Target, p: dict[str, Any]) -> bool:
    ns = fx.lab.router(t["device"]).ns
    shaped = any(q.get("dev") == t["interface"] and q.get("kind") == "tbf" for q in observe.qdiscs(ns))
    return shaped and observe.route_dev(ns, p["load_destination"]) == t["interface"]


def _remote_as(fx: FrrFaultInjector, t: Target) -> int | None:
    m = re.search(rf"neighbor {re.escape(t['peer'])} remote-as (\d+)", _bgp_block(fx, t["device"]))
    return int(m.group(1)) if m else None


_PRESENT: dict[str, Callable[[FrrFaultInjector, Target, dict[str, Any]], bool]] = {
    "interface_admin_down": lambda fx, t, p: "UP" not in (
        observe.link(fx.lab.router(t["device"]).ns, t["interface"]) or {}).get("flags", []),
    "link_failure": lambda fx, t, p: not all(
        netns.port_is_up(fx.lab.state.wire_ns, port) for port in p["wire_ports"]),
    "mtu_mismatch": lambda fx, t, p: _mtu(fx, t["device"], t["interface"])
    != _mtu(fx, t["peer_device"], t["peer_interface"]),
    "ospf_timer_mismatch": lambda fx, t, p: _timers(fx.running(t["device"]), t["interface"])
    != _timers(fx.running(t["peer_device"]), t["peer_interface"]),
    "bgp_neighbor_shutdown": lambda fx, t, p: _remote_as(fx, t) is None
    or f"neighbor {t['peer']} shutdown" in _bgp_block(fx, t["device"]),
    "bgp_asn_mismatch": lambda fx, t, p: _remote_as(fx, t) != fx.asn(t["peer_device"]),
    "route_missing": lambda fx, t, p: f"ip route {p['prefix']} Null0" not in fx.running(t["device"]),
    "acl_blocking": lambda fx, t, p: observe.nft_drops(
        fx.lab.router(t["device"]).ns, t["interface"], p["prefix"]),
    "link_congestion": _congested,
}

# --- correct remote fixes (catalog) and field repairs -----------------------------------

Fix = Callable[[FrrFaultInjector, Target, dict[str, Any]], list[tuple[str, list[str]]]]
_FIX: dict[str, Fix] = {
    "interface_admin_down": lambda fx, t, p: [(t["device"], [f"interface {t['interface']}", " no shutdown"])],
    "link_failure": lambda fx, t, p: [],  # a cut cable needs a field engineer
    "mtu_mismatch": lambda fx, t, p: [(t["device"], [f"interface {t['interface']}", f" mtu {p['standard_mtu']}"])],
    "ospf_timer_mismatch": lambda fx, t, p: [(t["device"], [
        f"interface {t['interface']}", f" ip ospf hello-interval {OSPF_HELLO}",
        f" ip ospf dead-interval {OSPF_DEAD}"])],
    "bgp_neighbor_shutdown": lambda fx, t, p: [(t["device"], _bgp(fx, t, "shutdown")[:1]
                                                + [f" no neighbor {t['peer']} shutdown"])],
    "bgp_asn_mismatch": lambda fx, t, p: [(t["device"], _bgp(fx, t, f"remote-as {fx.asn(t['peer_device'])}"))],
    "route_missing": lambda fx, t, p: [(t["device"], [f"ip route {p['prefix']} {p['nexthop']}"])],
    "acl_blocking": lambda fx, t, p: [(t["device"], [f"no access-list {p['acl']} seq {p['seq']} deny {p['prefix']}"])],
    "link_congestion": lambda fx, t, p: [(t["device"], [f"interface {t['interface']}", f" ip ospf cost {SHIFT_COST}"])],
}  # fmt: skip


def _repair_config(fx: FrrFaultInjector, t: Target, p: dict[str, Any], fault_id: str, slug: str) -> None:
    for device, lines in _FIX[slug](fx, t, p):
        fx.configure(device, lines)


def _mend(fx: FrrFaultInjector, t: Target, p: dict[str, Any], fault_id: str) -> None:
    for port in p["wire_ports"]:
        netns.set_port_state(fx.lab.state.wire_ns, port, up=True)


def _decongest(fx: FrrFaultInjector, t: Target, p: dict[str, Any], fault_id: str) -> None:
    fx.lab.stop_helpers(fault_id)
    ns = fx.lab.router(t["device"]).ns
    observe.run(["tc", "-n", ns, "qdisc", "del", "dev", t["interface"], "root"], check=False)
    fx.configure(t["device"], [f"interface {t['interface']}", " no ip ospf cost"])


def _repair_timers(fx: FrrFaultInjector, t: Target, p: dict[str, Any], fault_id: str) -> None:
    for device, ifname in ((t["device"], t["interface"]), (t["peer_device"], t["peer_interface"])):
        fx.configure(device, [f"interface {ifname}", f" ip ospf hello-interval {OSPF_HELLO}",
                              f" ip ospf dead-interval {OSPF_DEAD}"])  # fmt: skip


Repair = Callable[[FrrFaultInjector, Target, dict[str, Any], str], None]
_REPAIR: dict[str, Repair] = {
    slug: (lambda fx, t, p, i, slug=slug: _repair_config(fx, t, p, i, slug))
    for slug in ("interface_admin_down", "mtu_mismatch", "bgp_neighbor_shutdown",
                 "bgp_asn_mismatch", "route_missing", "acl_blocking")
}  # fmt: skip
_REPAIR.update({"link_failure": _mend, "link_congestion": _decongest, "ospf_timer_mismatch": _repair_timers})
