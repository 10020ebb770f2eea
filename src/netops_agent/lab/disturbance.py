"""Entities a fault disturbs, approximated from its target and the topology (any backend).

The twin computes this exactly by diffing its derived state (`lab.sim.disturbance`).
Real routers cannot be rebuilt without each fault in the time of a case, so for the
FRR backend the disturbed entities follow from the fault's kind of target and the
inventory, with the same keys (see `lab.sim.disturbance`):

- a fault on a cable end (link, interface, OSPF, congestion, duplex, optic): both
  interface ends of that cable, the OSPF adjacency on both ends, and the BGP sessions
  carried on that cable, both sides. Congestion, duplex and optic faults leave
  adjacencies and sessions up; they are listed anyway (over-approximation: an
  incident about that cable still overlaps the fault, which is what matching needs);
- a BGP-session fault: both sides of that session;
- an ACL on a customer interface: that interface and the prefix behind it;
- `route_missing`: the device and the prefix it no longer originates (from the
  fault's parameters);
- a device isolation: the device, every interface, adjacency and session on or facing
  it, and the prefixes it owns;
- any other device fault (CPU, memory): the device.

It over-approximates where the twin's diff would be exact (a session that survived
a degraded optic), never leaves out the fault's own target.
"""

from __future__ import annotations

import ipaddress

from netops_agent.catalog import CATALOG
from netops_agent.models import InjectedFault, Inventory, Link

# The isolation faults: applied last, so that every other fault of a case can still
# be configured on the device (a down device refuses configuration).
ISOLATING = frozenset({"device_unreachable"})


def injection_order(types: list[str]) -> list[int]:
    """Positions of a case's faults in the order they are applied: isolation last (stable)."""
    return sorted(range(len(types)), key=lambda n: types[n] in ISOLATING)


def _cable(inv: Inventory, link: Link) -> set[str]:
    out: set[str] = set()
    for dev, name in link.ends():
        out |= {f"if:{dev}|{name}", f"ospf:{dev}|{name}"}
    out |= {f"bgp:{s.device}|{s.peer_ip}" for s in inv.bgp_sessions if s.link_id == link.id}
    return out


def _prefix_key(owner: str, prefix: str) -> str:
    return f"pfx:{owner}|{ipaddress.IPv4Network(prefix, strict=False)}"


def approx_disturbed(inv: Inventory, fault: InjectedFault) -> list[str]:
    t = fault.target
    dev = t["device"]
    kind = CATALOG[fault.type].target if fault.type in CATALOG else "device"
    keys: set[str] = set()
    if kind == "bgp_session":
        keys.add(f"bgp:{dev}|{t['peer']}")
        s = inv.session(dev, t["peer"])
        if s is not None:
            keys.add(f"bgp:{s.peer_device}|{s.local_ip}")
    elif kind != "device" and t.get("interface"):
        link = inv.link_of(dev, t["interface"])
        if link is not None:
            keys |= _cable(inv, link)
        else:
            keys.add(f"if:{dev}|{t['interface']}")
            itf = inv.interface(dev, t["interface"])
            if itf is not None and itf.ip and itf.prefixlen:
                net = ipaddress.IPv4Interface(f"{itf.ip}/{itf.prefixlen}").network
                keys |= {_prefix_key(dev, p) for p in inv.prefixes.get(dev, []) if
                         ipaddress.IPv4Network(p, strict=False) == net}  # fmt: skip
        if fault.params.get("prefix"):
            keys.add(_prefix_key(dev, str(fault.params["prefix"])))
    else:
        keys.add(f"dev:{dev}")
        if fault.params.get("prefix"):
            keys.add(_prefix_key(dev, str(fault.params["prefix"])))
        if fault.type in ISOLATING:
            keys |= {f"if:{i.device}|{i.name}" for i in inv.interfaces if i.device == dev}
            for link in inv.links:
                if dev in (link.a_device, link.b_device):
                    keys |= _cable(inv, link)
            keys |= {_prefix_key(dev, p) for p in inv.prefixes.get(dev, [])}
    return sorted(keys)
