"""Pre/post snapshots of the devices a change touches, and their diff.

A snapshot is a flat map of facts observed through tools (device reachability,
interface up/down, BGP session state, OSPF adjacency state); counters, timers and
prefix counts are left out so the diff shows only what changed in kind. Anything
healthy before and broken after is collateral damage.
"""

from __future__ import annotations

from typing import Any

from netops_agent.tools.executor import ToolExecutor

Snapshot = dict[str, str]
HEALTHY = {"up", "Established", "FULL", "reachable"}


def take(ex: ToolExecutor, devices: list[str]) -> Snapshot:
    snap: Snapshot = {}
    for dev in devices:
        brief = ex.run("show_ip_interface_brief", dev)
        if not brief.ok:
            snap[f"device:{dev}"] = brief.status.value
            continue
        snap[f"device:{dev}"] = "reachable"
        for row in brief.parsed or []:
            snap[f"if:{dev}|{row['interface']}"] = "up" if row["proto"] == "up" else "down"
        bgp = ex.run("show_ip_bgp_summary", dev)
        for row in bgp.parsed or [] if bgp.ok else []:
            snap[f"bgp:{dev}|{row['neighbor']}"] = row["state"]
        ospf = ex.run("show_ip_ospf_neighbor", dev)
        for row in ospf.parsed or [] if ospf.ok else []:
            snap[f"ospf:{dev}|{row['interface']}"] = row["state"]
    return snap


def diff(before: Snapshot, after: Snapshot) -> list[dict[str, Any]]:
    """Entries that changed, appeared or disappeared."""
    out = []
    for k in sorted(set(before) | set(after)):
        a, b = before.get(k, "absent"), after.get(k, "absent")
        if a != b:
            out.append({"entity": k, "before": a, "after": b})
    return out


def broken(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Collateral damage: healthy before, not healthy (or gone) after."""
    return [c for c in changes if c["before"] in HEALTHY and c["after"] not in HEALTHY]


def same(before: Snapshot, after: Snapshot) -> bool:
    return not diff(before, after)
