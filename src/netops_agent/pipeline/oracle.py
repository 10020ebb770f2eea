"""The oracle intake: one incident per injected fault, for debugging only.

It reads the ground truth (where each fault is), so it lives on the control side
with the case pipeline, is never a default, and every result made with it is
labelled `"intake": "oracle"` (`"oracle_intake": true`) in the JSON and reports.
It words each incident by the symptom and where it was seen, never by the cause,
and gives it the catalog's severity for the fault type. The telemetry intake in
`netops_agent.intake` is the honest one.
"""

from __future__ import annotations

import random
from typing import Any

from netops_agent.catalog import fault_type
from netops_agent.lab.base import NetworkView
from netops_agent.models import Incident, InjectedFault

_TEXT: dict[str, list[tuple[str, str]]] = {
    "interface_admin_down": [
        (
            "Link down on {device} {interface}",
            "Link down alarm on {device} {interface} ({desc}); OSPF and BGP neighbours over it lost.",
        ),
        (
            "Interface {interface} down on {device}",
            "Monitoring reports {device} {interface} down; the eBGP session to {peer_device} dropped.",
        ),
    ],
    "link_failure": [
        (
            "Link down between {device} and {peer_device}",
            "{device} {interface} and {peer_device} {peer_interface} both report link down; "
            "BGP/OSPF over the link dropped and traffic moved to the remaining uplinks.",
        ),
        (
            "Uplink {interface} down on {device}",
            "Interface down alarm on {device} {interface}; neighbour {peer_device} lost.",
        ),
    ],
    "optic_degradation": [
        (
            "Input errors rising on {device} {interface}",
            "CRC/input error counters rising on {device} {interface}; probes through it see packet loss.",
        ),
    ],
    "duplex_mismatch": [
        (
            "Errors and poor throughput on {device} {interface}",
            "Interface errors and collisions on the {device}-{peer_device} link ({interface}); "
            "throughput far below normal, some packet loss.",
        ),
    ],
    "mtu_mismatch": [
        (
            "OSPF adjacency not full on {device} {interface}",
            "OSPF adjacency between {device} and {peer_device} over {interface} is not reaching FULL; "
            "large-packet probes across it fail.",
        ),
    ],
    "ospf_timer_mismatch": [
        (
            "OSPF neighbour lost on {device} {interface}",
            "OSPF neighbour {peer_device} missing on {device} {interface} while the link itself is up.",
        ),
    ],
    "bgp_neighbor_shutdown": [
        (
            "BGP peer {peer} down on {device}",
            "BGP session from {device} to {peer} ({peer_device}) is down; prefixes from that peer withdrawn.",
        ),
    ],
    "bgp_asn_mismatch": [
        (
            "BGP session to {peer} not establishing on {device}",
            "BGP session from {device} to {peer} ({peer_device}) does not come up after a change; "
            "notifications logged.",
        ),
    ],
    "bgp_max_prefix": [
        (
            "BGP session to {peer} torn down on {device}",
            "BGP session from {device} to {peer} dropped after a surge of received prefixes.",
        ),
    ],
    "route_missing": [
        (
            "Service prefix {prefix} unreachable",
            "Service prefix {prefix} is unreachable from the fabric; route monitoring shows it "
            "withdrawn at {device}.",
        ),
    ],
    "acl_blocking": [
        (
            "Customers in {prefix} unreachable behind {device}",
            "Hosts in {prefix} behind {device} {interface} stopped answering right after a change; "
            "other prefixes on the same device are fine.",
        ),
    ],
    "high_cpu_process": [
        ("High CPU on {device}", "CPU above 90% on {device}; SNMP polls timing out and CLI sluggish."),
    ],
    "memory_leak": [
        ("Memory climbing on {device}", "Memory utilisation on {device} has been climbing steadily."),
    ],
    "link_congestion": [
        (
            "Congestion on {device} {interface}",
            "Utilisation above 95% with output drops on {device} {interface}; "
            "latency up on paths through it.",
        ),
    ],
    "err_disabled_port": [
        (
            "Port {interface} down on {device}",
            "{device} {interface} went down after a protection event; its neighbour lost the link.",
        ),
    ],
    "device_unreachable": [
        (
            "{device} not responding",
            "{device} does not answer SNMP or ping; neighbours report their links towards it down.",
        ),
    ],
}


def incidents_for(lab: NetworkView, faults: list[InjectedFault], seed: int = 0) -> list[Incident]:
    """One incident per fault, worded by symptom, at the place monitoring sees it."""
    rng = random.Random(seed)
    out = []
    for n, fault in enumerate(faults, start=1):
        t = dict(fault.target)
        where = _reporting_end(lab, fault, t, rng)
        title, body = rng.choice(_TEXT[fault.type])
        fields: dict[str, Any] = {**where, "desc": "", "prefix": fault.params.get("prefix", "")}
        if where.get("interface"):
            itf = lab.inventory().interface(where["device"], where["interface"])
            fields["desc"] = itf.description if itf else ""
            if fault.type == "acl_blocking" and itf is not None:
                fields["prefix"] = f"{'.'.join((itf.ip or '').split('.')[:3])}.0/24"
        out.append(
            Incident(
                id=f"IM-{n:04d}",
                title=title.format_map(_Blank(fields)),
                summary=body.format_map(_Blank(fields)),
                severity=fault_type(fault.type).severity,
                device=where["device"],
                interface=where.get("interface"),
                peer=where.get("peer"),
                prefix=fields["prefix"] or None,
                opened_at=lab.now().isoformat(),
                alerts=1,
            )
        )
    return out


def _reporting_end(
    lab: NetworkView, fault: InjectedFault, t: dict[str, Any], rng: random.Random
) -> dict[str, Any]:
    """Monitoring reports a link fault from either end; a session from its configured side."""
    if fault.type in ("interface_admin_down", "link_failure", "err_disabled_port") and rng.random() < 0.5:
        return {
            "device": t["peer_device"],
            "interface": t["peer_interface"],
            "peer_device": t["device"],
            "peer_interface": t["interface"],
        }
    return t


class _Blank(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return ""
