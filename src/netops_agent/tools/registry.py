"""The tools the agent may use, with their risk classes, for every platform.

Show tools are read-only (risk `read`). Exec and config tools change the network
and carry a risk class that the policy gate reads before anything is sent.

Platforms: `cisco_ios` (the twin, parsed with ntc-templates) and `frr` (the FRR lab:
show tools from `frr_parsers.FRR_TOOLS`; config tools send the same IOS-style lines,
which FRR's vtysh accepts and the lab translates where the kernel owns the setting:
MTU, access-groups). A tool with no FRR meaning (CPU and memory of a router process
table, IOS ACL counters, traceroute, duplex on a veth, restarting an IOS process) has
no `frr` entry, and the executor answers it with a clear error `ToolResult`.
"""

from __future__ import annotations

from typing import Any

from netops_agent.tools import ios
from netops_agent.tools import params as P
from netops_agent.tools.base import Kind, Registry, Risk, Tool
from netops_agent.tools.frr_parsers import FRR_TOOLS

TOOLS = Registry()

# Change tools whose IOS-style lines (or exec command) mean the same on FRR.
FRR_CHANGES = {
    "clear_bgp_session",
    "interface_no_shutdown",
    "interface_shutdown",
    "bounce_interface",
    "set_mtu",
    "set_ospf_cost",
    "bgp_neighbor_no_shutdown",
    "set_bgp_max_prefix",
    "restore_golden_section",
    "rollback_config",
}


def _show(name: str, params: type[P.Params], ios_cmd: Any, parser: Any, description: str) -> Tool:
    build, parse = {"cisco_ios": ios_cmd}, {"cisco_ios": parser}
    if name in FRR_TOOLS:
        build["frr"], parse["frr"] = FRR_TOOLS[name]
    return TOOLS.register(Tool(name, Kind.show, Risk.read, params, description, build=build, parse=parse))


def _change(
    name: str, kind: Kind, risk: Risk, params: type[P.Params], ios_build: Any, description: str
) -> Tool:
    build, parse = {"cisco_ios": ios_build}, {"cisco_ios": ios.config_ack}
    if name in FRR_CHANGES:
        build["frr"], parse["frr"] = ios_build, ios.config_ack
    return TOOLS.register(Tool(name, kind, risk, params, description, build=build, parse=parse))


def _opt(prefix: str, value: str | None) -> str:
    return f"{prefix} {value}" if value else prefix


_show(
    "show_interfaces",
    P.OptionalInterface,
    lambda p: _opt("show interfaces", p.interface),
    ios.show_interfaces,
    "Interface status, MTU, duplex, rates and error counters.",
)
_show(
    "show_interfaces_status",
    P.NoParams,
    lambda p: "show interfaces status",
    ios.show_interfaces_status,
    "One line per port: connected, notconnect, disabled, err-disabled.",
)
_show(
    "show_ip_interface_brief",
    P.NoParams,
    lambda p: "show ip interface brief",
    ios.show_ip_interface_brief,
    "Addresses and up/down state of every interface.",
)
_show(
    "show_ip_bgp_summary",
    P.NoParams,
    lambda p: "show ip bgp summary",
    ios.show_ip_bgp_summary,
    "BGP neighbours, their AS, state or prefixes received.",
)
_show(
    "show_ip_ospf_neighbor",
    P.NoParams,
    lambda p: "show ip ospf neighbor",
    ios.show_ip_ospf_neighbor,
    "OSPF adjacencies and their state.",
)
_show(
    "show_ip_route",
    P.RouteParams,
    lambda p: _opt("show ip route", p.prefix),
    ios.show_ip_route,
    "The routing table, or the route to one address.",
)
_show("show_logging", P.NoParams, lambda p: "show logging", ios.show_logging, "The device's syslog buffer.")
_show(
    "show_processes_cpu",
    P.NoParams,
    lambda p: "show processes cpu sorted",
    ios.show_processes_cpu,
    "CPU utilisation and the busiest processes.",
)
_show(
    "show_memory_statistics",
    P.NoParams,
    lambda p: "show memory statistics",
    ios.show_memory_statistics,
    "Processor memory pool: total, used, free.",
)
_show(
    "show_access_lists",
    P.AclParams,
    lambda p: _opt("show access-lists", p.name),
    ios.show_access_lists,
    "ACL entries with hit counts.",
)
_show(
    "show_running_config",
    P.RunningParams,
    lambda p: f"show running-config | section {p.section}" if p.section else "show running-config",
    ios.show_running_config,
    "The running configuration, or one section of it.",
)
TOOLS.register(
    Tool(
        "show_config_drift",
        Kind.show,
        Risk.read,
        P.NoParams,
        "Differences between the running config and the golden config (rows: section, op, line).",
        build={"cisco_ios": lambda p: "show running-config", "frr": lambda p: "show running-config"},
        parse={"cisco_ios": ios.show_running_config, "frr": ios.show_running_config},
        compare_golden=True,
    )
)
_show(
    "show_transceiver",
    P.OptionalInterface,
    lambda p: f"show interfaces {p.interface} transceiver" if p.interface else "show interfaces transceiver",
    ios.transceiver,
    "Optical transmit/receive power per interface (dBm).",
)
_show(
    "ping",
    P.PingParams,
    lambda p: f"ping {p.destination} size {p.size} repeat {p.count}" + (" df-bit" if p.df else ""),
    ios.ping,
    "ICMP echo from the device; size and DF bit test the path MTU.",
)
_show(
    "traceroute",
    P.TraceParams,
    lambda p: f"traceroute {p.destination}",
    ios.traceroute,
    "Hop-by-hop path to an address.",
)

_change(
    "clear_bgp_session",
    Kind.exec,
    Risk.low,
    P.PeerParam,
    lambda p: f"clear ip bgp {p.peer}",
    "Reset one BGP session.",
)
_change(
    "restart_process",
    Kind.exec,
    Risk.medium,
    P.ProcessParams,
    lambda p: f"restart process {p.process}",
    "Restart one runaway process.",
)
_change(
    "interface_no_shutdown",
    Kind.config,
    Risk.low,
    P.InterfaceParam,
    lambda p: [f"interface {p.interface}", " no shutdown"],
    "Administratively enable an interface.",
)
_change(
    "interface_shutdown",
    Kind.config,
    Risk.high,
    P.InterfaceParam,
    lambda p: [f"interface {p.interface}", " shutdown"],
    "Administratively disable an interface.",
)
_change(
    "bounce_interface",
    Kind.config,
    Risk.medium,
    P.InterfaceParam,
    lambda p: [f"interface {p.interface}", " shutdown", " no shutdown"],
    "shutdown then no shutdown (recovers err-disabled ports).",
)
_change(
    "set_mtu",
    Kind.config,
    Risk.medium,
    P.MtuParams,
    lambda p: [f"interface {p.interface}", f" mtu {p.mtu}"],
    "Set an interface MTU.",
)
_change(
    "set_duplex",
    Kind.config,
    Risk.medium,
    P.DuplexParams,
    lambda p: [f"interface {p.interface}", f" duplex {p.duplex}" if p.duplex != "auto" else " no duplex"],
    "Set interface duplex (full, half or auto).",
)
_change(
    "set_ospf_cost",
    Kind.config,
    Risk.medium,
    P.CostParams,
    lambda p: [f"interface {p.interface}", f" ip ospf cost {p.cost}"],
    "Set the OSPF cost of an interface (steers traffic away from it).",
)
_change(
    "bgp_neighbor_no_shutdown",
    Kind.config,
    Risk.low,
    P.PeerParam,
    lambda p: {"bgp": f"no neighbor {p.peer} shutdown"},
    "Re-enable a shut BGP neighbour.",
)
_change(
    "set_bgp_max_prefix",
    Kind.config,
    Risk.high,
    P.MaxPrefixParams,
    lambda p: {"bgp": f"neighbor {p.peer} maximum-prefix {p.limit}"},
    "Change a neighbour's maximum-prefix limit.",
)
_change(
    "restore_golden_section",
    Kind.config,
    Risk.medium,
    P.SectionParams,
    lambda p: {"golden": p.section},
    "Restore one config section from the golden config.",
)
_change(
    "rollback_config",
    Kind.config,
    Risk.medium,
    P.RollbackParams,
    lambda p: {"rollback": p.snapshot},
    "Return the device to a captured configuration.",
)
