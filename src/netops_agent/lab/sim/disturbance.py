"""Which observable entities an injected fault disturbs in the twin (control side only).

The harness scores an incident against the faults whose symptoms it shows. For the
twin this is computed, not guessed: the twin's observable state is a pure function
of configuration and physical condition (`state.derive`, the rates built on it, the
routing view), so the entities a fault disturbs are the keys whose observable state
differs because of that fault. Two counterfactuals are compared, and the union kept:

- *alone*: the fault-free twin vs the twin with only this fault (what it disturbs on
  its own, even where another fault of the case masks it, e.g. a cut cable to a
  device that is also down);
- *leave one out*: the twin with every fault of the case vs the twin with every fault
  but this one (what it adds on top of the others, e.g. a second fault on one box).

Every twin is rebuilt from golden with the faults re-applied at their recorded
targets, never from the agent's twin: what the agent did afterwards cannot change
which incident a fault is matched to. Only the harness (through the lab's control
face) calls this; the agent never sees it.

Entity keys (shared with `evaluation.metrics`):
- ``dev:D``: down or not, loopback reachability from the vantages, CPU hog, memory leak;
- ``if:D|I``: admin/oper/err-disabled state, effective duplex, CRC errors, late
  collisions, congestion, loss, utilisation in 10% bands;
- ``ospf:D|I``: adjacency state;
- ``bgp:D|PEER``: session state (prefix counts are left out: they change on every
  session of the fabric whenever any prefix comes or goes);
- ``pfx:D|P``: an inventory prefix owned by D, reachable or not from the vantages;
- ``proc:D|NAME``: a process using abnormal CPU.
"""

from __future__ import annotations

import ipaddress
import random
from functools import lru_cache
from typing import Any

from netops_agent.lab.disturbance import injection_order
from netops_agent.lab.sim.routing import Routing
from netops_agent.lab.sim.state import _ip_int
from netops_agent.models import InjectedFault, Inventory


def observable(lab: Any) -> dict[str, tuple[Any, ...]]:
    """Every observable entity of a twin and its state, as comparable tuples."""
    inv: Inventory = lab.inv
    d = lab.derived  # derived at the twin's last commit (every change commits)
    rates = lab.rates
    out: dict[str, tuple[Any, ...]] = {}
    for n, (dev, name) in enumerate(lab.idx.keys):
        s = d.iface[(dev, name)]
        per_s = rates.per_s[n]
        out[f"if:{dev}|{name}"] = (
            s.admin_up,
            s.oper_up,
            s.err_disabled,
            d.duplex.get((dev, name), ""),
            bool(per_s[5] > 0),  # in_crc: a bad optic or the full-duplex end of a mismatch
            bool(per_s[8] > 0),  # late collisions: the half-duplex end
            bool(rates.out_util[n] >= 0.95 or per_s[7] > 0),  # congested / discarding
            bool(rates.loss[n] > 0),
            round(float(rates.in_util[n]), 1),  # utilisation in 10% bands: a traffic shift
            round(float(rates.out_util[n]), 1),
        )
    for (dev, name), st in d.ospf.items():
        out[f"ospf:{dev}|{name}"] = (st,)
    for link in inv.links:  # an adjacency that is gone is a state too
        for dev, name in link.ends():
            out.setdefault(f"ospf:{dev}|{name}", ("none",))
    for (dev, peer), st in d.bgp.items():
        out[f"bgp:{dev}|{peer}"] = (st.state,)
    routing: Routing = lab.routing  # of `d`
    vantages = inv.vantages()
    down = set(lab.cond.down_devices)
    for dev in inv.devices:
        hogs = tuple(sorted(lab.cond.cpu_hogs.get(dev.name, {})))
        reach = tuple(_reach(routing, v, dev.loopback) for v in vantages if v != dev.name)
        out[f"dev:{dev.name}"] = (dev.name in down, reach, bool(hogs), dev.name in lab.cond.mem_leak)
        for proc in hogs:
            out[f"proc:{dev.name}|{proc}"] = ("hog",)
    for owner, prefixes in inv.prefixes.items():
        for prefix in prefixes:
            net = ipaddress.IPv4Network(prefix, strict=False)
            host = str(net.network_address + min(10, max(net.num_addresses - 2, 0)))
            out[f"pfx:{owner}|{net}"] = tuple(_reach(routing, v, host) for v in vantages if v != owner)
    return out


def _reach(routing: Routing, src: str, dst_ip: str) -> str:
    """ok | no-route | filtered, without the random loss a real ping would add."""
    found = routing.path(src, dst_ip)
    if found is None:
        return "no-route"
    hops, last = found
    for h in hops:
        if not routing._acl_permits(h.device, h.out_if, "out", dst_ip) or not routing._acl_permits(
            h.next_device, h.next_in_if, "in", dst_ip
        ):
            return "filtered"
    ip = _ip_int(dst_ip)
    for net, mask, name in routing._connected_of.get(last, ()):  # a host behind an SVI: the
        blocked = ip & mask == net and dst_ip not in routing.addr  # SVI's outbound ACL
        if blocked and not routing._acl_permits(last, name, "out", dst_ip):
            return "filtered"
    return "ok"


def replay(profile: str, seed: int, faults: list[InjectedFault]) -> Any:
    """A fresh twin (golden config, no condition) with `faults` re-applied where they were
    injected. Targets and parameters come from the record, so nothing is picked again."""
    from netops_agent.lab.sim.faults import SimFaults, apply_effect
    from netops_agent.lab.sim.lab import SimLab

    inv, golden = _generated(profile, seed)
    lab = SimLab(inv, golden, profile=profile, seed=seed)  # running configs are copies
    fx = SimFaults(lab)
    order = injection_order([f.type for f in faults])
    for n in order:
        apply_effect(fx, faults[n], random.Random(0))
    return lab


def _generated(profile: str, seed: int) -> tuple[Inventory, dict[str, Any]]:
    """Inventory and golden configs of a topology (never mutated: twins copy them), shared
    with the twins `SimLab.build` makes (`topology.generated`)."""
    from netops_agent.lab.sim.topology import generated

    return generated(profile, seed)


@lru_cache(maxsize=4)
def _clean(profile: str, seed: int) -> dict[str, tuple[Any, ...]]:
    return observable(replay(profile, seed, []))


def _diff(a: dict[str, tuple[Any, ...]], b: dict[str, tuple[Any, ...]]) -> set[str]:
    return {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}


def disturbed(profile: str, seed: int, faults: list[InjectedFault]) -> dict[str, list[str]]:
    """Per fault id, the sorted entity keys it disturbs (alone, or leave-one-out, see above)."""
    clean = _clean(profile, seed)
    everything = observable(replay(profile, seed, faults)) if len(faults) > 1 else None
    out: dict[str, list[str]] = {}
    for f in faults:
        keys = _diff(clean, observable(replay(profile, seed, [f])))
        if everything is not None:
            rest = [g for g in faults if g.id != f.id]
            keys |= _diff(everything, observable(replay(profile, seed, rest)))
        out[f.id] = sorted(keys)
    return out
