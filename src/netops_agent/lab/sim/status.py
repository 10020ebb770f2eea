"""`lab status` rows for the twin: per device, reachability and interface, OSPF and BGP health."""

from __future__ import annotations

from typing import Any

from netops_agent.lab.sim.lab import SimLab


def device_status(lab: SimLab) -> list[dict[str, Any]]:
    d = lab.derived
    rows = []
    for dev in lab.inv.devices:
        ifs = [s for (n, _), s in d.iface.items() if n == dev.name]
        bgp = [s for (n, _), s in d.bgp.items() if n == dev.name]
        rows.append(
            {
                "device": dev.name,
                "role": dev.role,
                "reachable": lab.reachable(dev.name),
                "interfaces_up": sum(s.oper_up for s in ifs),
                "interfaces": len(ifs),
                "ospf_full": sum(1 for (n, _), s in d.ospf.items() if n == dev.name and s == "FULL"),
                "bgp_established": sum(s.state == "Established" for s in bgp),
                "bgp_sessions": len(bgp),
            }
        )
    return rows
