"""The fault catalog v1 as data: slugs, target kinds, expected outcomes, descriptions.

Stable names: scenario files, runbooks, reports and tests use these slugs.
"""

from __future__ import annotations

from dataclasses import dataclass

from netops_agent.models import Severity


@dataclass(frozen=True)
class FaultType:
    slug: str
    target: str  # interface | link | bgp_session | device
    outcome: str  # resolved | escalated
    severity: Severity
    description: str


CATALOG: dict[str, FaultType] = {
    f.slug: f
    for f in [
        FaultType(
            "interface_admin_down",
            "interface",
            "resolved",
            Severity.medium,
            "Interface administratively shut; fix with `no shutdown`.",
        ),
        FaultType(
            "link_failure",
            "link",
            "escalated",
            Severity.high,
            "Cable or medium failed: both ends down while admin up; needs field dispatch.",
        ),
        FaultType(
            "optic_degradation",
            "interface",
            "escalated",
            Severity.medium,
            "Optic receiving low light: CRC errors and loss; replace the optic.",
        ),
        FaultType(
            "duplex_mismatch",
            "link",
            "resolved",
            Severity.medium,
            "One end hard-coded, the other auto (half): late collisions and errors.",
        ),
        FaultType(
            "mtu_mismatch",
            "link",
            "resolved",
            Severity.medium,
            "MTU differs across a cable: OSPF stuck in EXSTART, large pings fail.",
        ),
        FaultType(
            "ospf_timer_mismatch",
            "link",
            "resolved",
            Severity.medium,
            "OSPF hello/dead intervals differ across a cable: no adjacency.",
        ),
        FaultType(
            "bgp_neighbor_shutdown",
            "bgp_session",
            "resolved",
            Severity.medium,
            "BGP neighbour administratively shut: Idle (Admin).",
        ),
        FaultType(
            "bgp_asn_mismatch",
            "bgp_session",
            "resolved",
            Severity.medium,
            "Configured remote-as differs from the peer's AS: session never establishes.",
        ),
        FaultType(
            "bgp_max_prefix",
            "bgp_session",
            "escalated",
            Severity.medium,
            "Peer sent more prefixes than maximum-prefix: Idle (PfxCt); raising needs approval.",
        ),
        FaultType(
            "route_missing",
            "device",
            "resolved",
            Severity.medium,
            "A static route was removed: its service prefix is unreachable.",
        ),
        FaultType(
            "acl_blocking",
            "interface",
            "resolved",
            Severity.medium,
            "An ACL entry denies one prefix after a change; roll back to the golden ACL.",
        ),
        FaultType(
            "high_cpu_process",
            "device",
            "resolved",
            Severity.medium,
            "One process (a polling storm) dominates the CPU; restart it.",
        ),
        FaultType(
            "memory_leak",
            "device",
            "escalated",
            Severity.medium,
            "Memory climbing steadily; reload only in a maintenance window.",
        ),
        FaultType(
            "link_congestion",
            "interface",
            "resolved",
            Severity.medium,
            "Utilisation above 95% with output drops; shift traffic with OSPF cost.",
        ),
        FaultType(
            "err_disabled_port",
            "interface",
            "resolved",
            Severity.low,
            "Port err-disabled after a protection event; shut/no shut once the cause cleared.",
        ),
        FaultType(
            "device_unreachable",
            "device",
            "escalated",
            Severity.high,
            "Device stopped answering; every neighbour sees its facing link down.",
        ),
    ]
}


def catalog_rows() -> list[dict[str, str]]:
    """The catalog as `faults --json` and the API show it."""
    return [
        {
            "slug": f.slug,
            "target": f.target,
            "outcome": f.outcome,
            "severity": f.severity.value,
            "description": f.description,
        }
        for f in CATALOG.values()
    ]


def fault_type(slug: str) -> FaultType:
    from netops_agent.errors import UnknownFaultError

    try:
        return CATALOG[slug]
    except KeyError:
        raise UnknownFaultError(
            f"unknown fault type {slug!r}; known types: {', '.join(CATALOG)} (see `netops-agent faults`)"
        ) from None
