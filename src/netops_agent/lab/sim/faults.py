"""Fault injection into the twin, and the ground truth behind it.

Each fault changes a *cause* (configuration as an operator would have typed it, or
a physical condition); symptoms follow through `derive`. `fault_present` checks the
cause, not the symptoms, which is what the evaluation harness needs to catch a
ticket that claims success while the fault is still there. Only the scenario loader,
the lab CLI and the harness import this module.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from netops_agent.catalog import fault_type
from netops_agent.errors import FaultTargetError
from netops_agent.lab.sim.lab import SimLab
from netops_agent.lab.sim.state import derive, effective_duplex, key
from netops_agent.lab.sim.topology import CUSTOMER_ACL
from netops_agent.models import FaultSpec, InjectedFault, Link

ADMIN = "admin"
# What an explicit target may name, per target kind (the rest follows from the inventory).
TARGET_KEYS = {
    "device": {"device"},
    "interface": {"device", "interface", "peer_device", "peer_interface", "link"},
    "link": {"device", "interface", "peer_device", "peer_interface", "link"},
    "bgp_session": {"device", "peer", "peer_device", "interface"},
}
HOG_PROCESS = "SNMP ENGINE"
DEGRADED_DBM = -14.8


class SimFaults:
    """FaultInjector for a SimLab; injected faults are kept in `lab.ground_truth`."""

    def __init__(self, lab: SimLab) -> None:
        self.lab = lab

    @property
    def faults(self) -> list[InjectedFault]:
        return self.lab.ground_truth

    def injected(self) -> list[InjectedFault]:
        return list(self.faults)

    # --- injection ----------------------------------------------------------------------------
    def inject(self, spec: FaultSpec, seed: int = 0) -> InjectedFault:
        return self.inject_all([spec], seed)[0]

    def inject_all(self, specs: list[FaultSpec], seed: int = 0) -> list[InjectedFault]:
        """Inject a case's faults: targets are chosen in the case's order (ids F1.. follow
        it), the faults are applied with device isolation last, so that a fault on a device
        another fault of the case takes down can still be configured."""
        from netops_agent.lab.disturbance import injection_order

        planned: list[tuple[InjectedFault, random.Random]] = []
        for spec in specs:
            ft = fault_type(spec.type)
            rng = random.Random(f"{seed}-{spec.type}-{len(self.faults)}")
            target = (
                self._pick(ft.target, spec.type, rng)
                if spec.target == "auto"
                else self._check(ft.target, spec.type, dict(spec.target))
            )
            fault = InjectedFault(
                id=f"F{len(self.faults) + 1}",
                type=spec.type,
                target=target,
            )
            self.faults.append(fault)  # later picks avoid its devices
            planned.append((fault, rng))
        try:
            for n in injection_order([f.type for f, _ in planned]):
                fault, rng = planned[n]
                fault.params = apply_effect(self, fault, rng)
        except Exception:
            del self.faults[len(self.faults) - len(planned) :]
            raise
        return [f for f, _ in planned]

    def _busy(self) -> set[str]:
        """Devices already involved in a fault (and their cable peers) are not reused."""
        role = {d.name: d.role for d in self.lab.inv.devices}
        out: set[str] = set()
        for f in self.faults:
            out.add(f.target["device"])
            peer = f.target.get("peer_device")
            if peer and role[peer] != "spine":  # spines carry many links; only the link is used
                out.add(peer)
        return out

    def _pick(self, kind: str, slug: str, rng: random.Random) -> dict[str, Any]:
        inv, busy = self.lab.inv, self._busy()
        role = {d.name: d.role for d in inv.devices}
        free = [d for d in inv.devices if d.name not in busy and d.role != "spine"]
        if kind == "device":
            want = {"route_missing": "edge", "device_unreachable": "leaf"}.get(slug)
            cands = [
                d.name
                for d in free
                if (want is None or d.role == want)
                and (slug != "route_missing" or self.lab.configs[d.name].statics)
            ]
            if not cands:
                raise FaultTargetError(f"no free {want or ''} device left for {slug}")
            return {"device": rng.choice(sorted(cands))}
        if slug == "acl_blocking":
            cands = [d.name for d in free if d.role == "leaf"]
            if not cands:
                raise FaultTargetError("no free leaf left for acl_blocking")
            return {"device": rng.choice(sorted(cands)), "interface": "Vlan200"}
        # Fabric cables whose leaf/edge end is the named one; neither end already faulty.
        links = [
            link
            for link in inv.links
            if link.a_device not in busy
            and link.b_device not in busy
            and role[link.a_device] != "spine"
            and role[link.b_device] == "spine"
        ]
        if not links:
            raise FaultTargetError(f"no free link left for {slug}")
        link = rng.choice(links)
        target = _link_target(link)
        if kind == "bgp_session":
            s = inv.session(link.a_device, _peer_ip(self.lab, link))
            assert s is not None
            target = {
                "device": s.device,
                "peer": s.peer_ip,
                "peer_device": s.peer_device,
                "interface": link.a_interface,
            }
        return target

    def _check(self, kind: str, slug: str, target: dict[str, Any], *, taken: int = 0) -> dict[str, Any]:
        """Validate an explicit target and fill in what follows from the inventory.

        `taken` counts earlier faults of the same case (not injected yet) that use up
        the same resource, so a suite is rejected at load time, not mid-eval.
        """
        inv = self.lab.inv
        unknown = sorted(set(target) - TARGET_KEYS[kind])
        if unknown:
            raise FaultTargetError(
                f"{slug}: unknown key {unknown[0]!r} in the target; a {kind} target takes "
                + ", ".join(sorted(TARGET_KEYS[kind]))
            )
        dev = target.get("device")
        if not dev:
            raise FaultTargetError(f"{slug}: the target needs a 'device' (got {target})")
        inv.device(dev)
        if slug == "route_missing":
            return self._check_route_missing(dev, taken)
        if kind == "device":
            return {"device": dev}
        if kind == "bgp_session":
            peer = target.get("peer")
            if not peer:
                known = ", ".join(x.peer_ip for x in inv.bgp_sessions if x.device == dev)
                raise FaultTargetError(
                    f"{slug}: a BGP-session target needs 'peer', the neighbour address configured "
                    f"on {dev}: one of {known}"
                )
            s = inv.session(dev, str(peer))
            if s is None:
                known = ", ".join(x.peer_ip for x in inv.bgp_sessions if x.device == dev)
                raise FaultTargetError(f"{slug}: {dev} has no BGP neighbour {peer}; its neighbours: {known}")
            link = next(lk for lk in inv.links if lk.id == s.link_id)
            local_if = link.a_interface if link.a_device == dev else link.b_interface
            return {"device": dev, "peer": s.peer_ip, "peer_device": s.peer_device, "interface": local_if}
        ifname = target.get("interface")
        if not ifname:
            known = ", ".join(i.name for i in inv.interfaces if i.device == dev and i.kind != "loopback")
            raise FaultTargetError(f"{slug}: the target needs 'interface', a port of {dev}: one of {known}")
        itf = inv.interface(dev, str(ifname))
        if itf is None:
            known = ", ".join(i.name for i in inv.interfaces if i.device == dev)
            raise FaultTargetError(f"{slug}: {dev} has no interface {ifname}; interfaces: {known}")
        link = inv.link_of(dev, itf.name)
        if slug == "acl_blocking":
            if itf.kind != "svi":
                raise FaultTargetError(
                    f"acl_blocking needs a customer SVI (VlanNNN) on a leaf, not {itf.name}"
                )
            return {"device": dev, "interface": itf.name}
        if link is None:
            raise FaultTargetError(f"{slug}: {dev} {itf.name} is not cabled to another device")
        if link.a_device != dev:  # keep the named end as 'device'
            peer_dev, peer_if = link.peer_of(dev)
            return {
                "device": dev,
                "interface": itf.name,
                "peer_device": peer_dev,
                "peer_interface": peer_if,
                "link": link.id,
            }
        return _link_target(link)

    def _check_route_missing(self, dev: str, taken: int) -> dict[str, Any]:
        """route_missing removes one of the device's static routes: there must be one left."""
        left = len(self.lab.configs[dev].statics) - taken
        if left <= 0:
            with_statics = ", ".join(n for n, c in sorted(self.lab.configs.items()) if c.statics)
            raise FaultTargetError(
                f"route_missing: {dev} has no static route left to remove"
                + (" (each earlier route_missing on it removed one)" if taken else "")
                + f"; devices with static routes: {with_statics}"
            )
        return {"device": dev}

    # --- ground truth ---------------------------------------------------------------------------
    def fault_present(self, fault: InjectedFault) -> bool:
        return _PRESENT[fault.type](self.lab, fault.target, fault.params)


def _link_target(link: Link) -> dict[str, Any]:
    return {
        "device": link.a_device,
        "interface": link.a_interface,
        "peer_device": link.b_device,
        "peer_interface": link.b_interface,
        "link": link.id,
    }


def _peer_ip(lab: SimLab, link: Link) -> str:
    return lab.configs[link.b_device].interfaces[link.b_interface].ip or ""


def _link_id(lab: SimLab, t: dict[str, Any]) -> str:
    link = lab.inv.link_of(t["device"], t["interface"])
    assert link is not None
    return link.id


def _cfg(fx: SimFaults, device: str, lines: list[str]) -> None:
    out = fx.lab.configure(device, lines, author=ADMIN)
    if not out.ok:
        raise FaultTargetError(f"could not inject on {device}: {out.error}")


def _bgp_lines(fx: SimFaults, t: dict[str, Any], line: str) -> list[str]:
    bgp = fx.lab.configs[t["device"]].bgp
    assert bgp is not None
    return [f"router bgp {bgp.asn}", f" neighbor {t['peer']} {line}"]


def _svi_prefix(lab: SimLab, dev: str, ifname: str) -> tuple[str, str]:
    itf = lab.configs[dev].interfaces[ifname]
    octets = (itf.ip or "0.0.0.0").split(".")
    return ".".join([*octets[:3], "0"]), "0.0.0.255"


def _inject_acl(fx: SimFaults, t: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    net, wild = _svi_prefix(fx.lab, t["device"], t["interface"])
    _cfg(fx, t["device"], [f"ip access-list extended {CUSTOMER_ACL}", f" 50 deny ip any {net} {wild}"])
    return {"acl": CUSTOMER_ACL, "seq": 50, "prefix": f"{net}/24"}


def _inject_route_missing(fx: SimFaults, t: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    r = fx.lab.configs[t["device"]].statics[0]
    from netops_agent.lab.sim.config import mask_of

    _cfg(fx, t["device"], [f"no ip route {r.prefix} {mask_of(r.prefixlen)} {r.nexthop}"])
    return {"prefix": f"{r.prefix}/{r.prefixlen}", "nexthop": r.nexthop}


def _inject_err_disabled(fx: SimFaults, t: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    k = key(t["device"], t["interface"])
    cause = rng.choice(["bpduguard", "link-flap", "udld"])
    fx.lab.cond.err_disabled[k] = {"cause": cause, "persistent": False}
    fx.lab.log(
        t["device"],
        "%PM-4-ERR_DISABLE",
        f"{cause} error detected on {t['interface']}, putting {t['interface']} in err-disable state",
    )
    return {"cause": cause}


def _inject_mem_leak(fx: SimFaults, t: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    since = fx.lab.clock - timedelta(minutes=25)
    fx.lab.cond.mem_leak[t["device"]] = {"rate": 1.6, "since": since.isoformat()}
    fx.lab.log(
        t["device"],
        "%SYS-2-MALLOCFAIL",
        "Memory allocation of 65536 bytes failed from 0x6089A3C4, alignment 32 "
        "Pool: Processor  Free: 412876  Cause: Memory fragmentation",
    )
    return {"process": "BGP Router", "rate_pct_per_min": 1.6}


def _inject_congestion(fx: SimFaults, t: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A traffic surge out of the named end: offered load a little above the alert threshold."""
    link_id = _link_id(fx.lab, t)
    base = float(fx.lab.idx.base_util[fx.lab.idx.pos[(t["device"], t["interface"])]])
    extra = round(max(0.85, congestion_threshold() + 0.02 - base), 3)
    fx.lab.cond.extra_load[link_id] = extra
    fx.lab.cond.load_sender[link_id] = t["device"]
    return {"extra_load": extra}


def congestion_threshold() -> float:
    """The utilisation (0..1) at which monitoring calls an interface congested.

    Read from the detection rules (`output-utilisation-high`, $NETOPS_DETECTION
    applies), so the harness's "fault present" agrees with what the detector alerts on.
    """
    from netops_agent.intake.config import load_detection

    rule = load_detection().rule("output-utilisation-high")
    value = getattr(rule, "value", None) if rule is not None and getattr(rule, "enabled", True) else None
    return float(value) / 100.0 if value is not None else 0.95


_INJECT: dict[str, Callable[[SimFaults, dict[str, Any], random.Random], dict[str, Any] | None]] = {
    "interface_admin_down": lambda fx, t, r: _cfg(
        fx, t["device"], [f"interface {t['interface']}", " shutdown"]
    ),
    "link_failure": lambda fx, t, r: fx.lab.cond.cut_links.append(t["link"]),
    "optic_degradation": lambda fx, t, r: fx.lab.cond.optic_rx_dbm.__setitem__(
        key(t["device"], t["interface"]), DEGRADED_DBM
    ),
    "duplex_mismatch": lambda fx, t, r: _cfg(
        fx, t["device"], [f"interface {t['interface']}", " duplex full"]
    ),
    "mtu_mismatch": lambda fx, t, r: _cfg(fx, t["device"], [f"interface {t['interface']}", " mtu 9000"]),
    "ospf_timer_mismatch": lambda fx, t, r: _cfg(
        fx,
        t["device"],
        [f"interface {t['interface']}", " ip ospf hello-interval 5", " ip ospf dead-interval 20"],
    ),
    "bgp_neighbor_shutdown": lambda fx, t, r: _cfg(fx, t["device"], _bgp_lines(fx, t, "shutdown")),
    "bgp_asn_mismatch": lambda fx, t, r: _cfg(
        fx, t["device"], _bgp_lines(fx, t, f"remote-as {fx.lab.inv.device(t['peer_device']).asn + 7}")
    ),
    "bgp_max_prefix": lambda fx, t, r: fx.lab.cond.peer_prefixes.__setitem__(
        key(t["device"], t["peer"]), 6200
    ),
    "route_missing": _inject_route_missing,
    "acl_blocking": _inject_acl,
    "high_cpu_process": lambda fx, t, r: fx.lab.cond.cpu_hogs.__setitem__(t["device"], {HOG_PROCESS: 81.0}),
    "memory_leak": _inject_mem_leak,
    "link_congestion": _inject_congestion,
    "err_disabled_port": _inject_err_disabled,
    "device_unreachable": lambda fx, t, r: fx.lab.cond.down_devices.append(t["device"]),
}


# faults whose whole effect is one `configure` on the twin (which commits it)
_CONFIGURED = frozenset(
    {
        "interface_admin_down",
        "duplex_mismatch",
        "mtu_mismatch",
        "ospf_timer_mismatch",
        "bgp_neighbor_shutdown",
        "bgp_asn_mismatch",
        "route_missing",
        "acl_blocking",
    }
)


def apply_effect(fx: SimFaults, fault: InjectedFault, rng: random.Random) -> dict[str, Any]:
    """Change the cause in the twin for one fault (its target already resolved); returns the
    fault's parameters. Recorded parameters that pin a choice (the static route removed,
    the err-disable cause) are reused, so a replay of a recorded fault is the same fault."""
    t, p = fault.target, fault.params
    configured = fault.type in _CONFIGURED
    if fault.type == "route_missing" and p.get("prefix") and p.get("nexthop"):
        from netops_agent.lab.sim.config import mask_of

        net, plen = str(p["prefix"]).split("/")
        _cfg(fx, t["device"], [f"no ip route {net} {mask_of(int(plen))} {p['nexthop']}"])
        params: dict[str, Any] | None = dict(p)
    elif fault.type == "err_disabled_port" and p.get("cause"):
        k = key(t["device"], t["interface"])
        fx.lab.cond.err_disabled[k] = {"cause": p["cause"], "persistent": False}
        params = dict(p)
    else:
        params = _INJECT[fault.type](fx, t, rng)
    if not configured:  # `configure` committed the change: a second commit derives the same
        fx.lab.commit()
    return params or {}


def _itf(lab: SimLab, t: dict[str, Any], end: str = "") -> Any:
    dev = t["peer_device"] if end == "peer" else t["device"]
    name = t["peer_interface"] if end == "peer" else t["interface"]
    return lab.configs[dev].interfaces[name]


def _duplex_differs(lab: SimLab, t: dict[str, Any], p: dict[str, Any]) -> bool:
    a, b = effective_duplex(_itf(lab, t).duplex, _itf(lab, t, "peer").duplex)
    return a != b


def _congested(lab: SimLab, t: dict[str, Any], p: dict[str, Any]) -> bool:
    link_id = _link_id(lab, t)
    if link_id not in lab.cond.extra_load:
        return False
    pos = lab.idx.pos[(t["device"], t["interface"])]
    return bool(lab.rates.out_util[pos] >= congestion_threshold())


def _acl_present(lab: SimLab, t: dict[str, Any], p: dict[str, Any]) -> bool:
    entries = lab.configs[t["device"]].acls.get(p["acl"], [])
    net = p["prefix"].split("/")[0]
    return any(e.action == "deny" and e.dst.startswith(net) for e in entries)


def _session_cfg(lab: SimLab, t: dict[str, Any]) -> Any:
    bgp = lab.configs[t["device"]].bgp
    return bgp.neighbors.get(t["peer"]) if bgp else None


def _max_prefix_present(lab: SimLab, t: dict[str, Any], p: dict[str, Any]) -> bool:
    n = _session_cfg(lab, t)
    surge = lab.cond.peer_prefixes.get(key(t["device"], t["peer"]), 0)
    return n is None or n.max_prefix is None or surge > n.max_prefix


_PRESENT: dict[str, Callable[[SimLab, dict[str, Any], dict[str, Any]], bool]] = {
    "interface_admin_down": lambda lab, t, p: _itf(lab, t).shutdown,
    "link_failure": lambda lab, t, p: t["link"] in lab.cond.cut_links,
    "optic_degradation": lambda lab, t, p: (
        lab.cond.optic_rx_dbm.get(key(t["device"], t["interface"]), 0) <= -12
    ),
    "duplex_mismatch": _duplex_differs,
    "mtu_mismatch": lambda lab, t, p: _itf(lab, t).mtu != _itf(lab, t, "peer").mtu,
    "ospf_timer_mismatch": lambda lab, t, p: (
        (_itf(lab, t).ospf_hello, _itf(lab, t).ospf_dead)
        != (_itf(lab, t, "peer").ospf_hello, _itf(lab, t, "peer").ospf_dead)
    ),
    "bgp_neighbor_shutdown": lambda lab, t, p: _session_cfg(lab, t) is None or _session_cfg(lab, t).shutdown,
    "bgp_asn_mismatch": lambda lab, t, p: (
        _session_cfg(lab, t) is None or _session_cfg(lab, t).remote_as != lab.inv.device(t["peer_device"]).asn
    ),
    "bgp_max_prefix": _max_prefix_present,
    "route_missing": lambda lab, t, p: (
        p["prefix"] not in {f"{r.prefix}/{r.prefixlen}" for r in lab.configs[t["device"]].statics}
    ),
    "acl_blocking": _acl_present,
    "high_cpu_process": lambda lab, t, p: HOG_PROCESS in lab.cond.cpu_hogs.get(t["device"], {}),
    "memory_leak": lambda lab, t, p: t["device"] in lab.cond.mem_leak,
    "link_congestion": _congested,
    "err_disabled_port": lambda lab, t, p: key(t["device"], t["interface"]) in lab.cond.err_disabled,
    "device_unreachable": lambda lab, t, p: t["device"] in lab.cond.down_devices,
}


def healthy_entities(lab: SimLab) -> set[str]:
    """Names of entities that are working now (for collateral-damage checks by the harness)."""
    d = derive(lab.inv, lab.configs, lab.cond)
    up = {f"if:{dev}|{n}" for (dev, n), s in d.iface.items() if s.oper_up}
    up |= {f"bgp:{dev}|{ip}" for (dev, ip), s in d.bgp.items() if s.state == "Established"}
    up |= {f"ospf:{dev}|{n}" for (dev, n), s in d.ospf.items() if s == "FULL"}
    return up
