"""FRR platform: the command each tool sends and the parser that normalises the answer.

FRR answers in JSON (`vtysh ... json`) and the kernel through iproute2 (`ip -j`).
Every parser here returns exactly the shape the Cisco parsers in `tools/ios.py`
return from ntc-templates, so the agent and the runbooks read one format whatever
the backend. Builders accept a dict or a validated `Params` model; parsers accept
`(output)` or `(output, params)`, so the pairs fit both `FRR_TOOLS` callers and the
tool registry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from netops_agent.errors import NetopsError
from netops_agent.lab.base import CommandOutput

PLATFORM = "frr"

Builder = Callable[[Any], str]
Parser = Callable[..., Any]


class FrrParseError(NetopsError):
    """FRR or iproute2 output did not have the expected structure."""


def _param(params: Any, name: str, default: Any = None) -> Any:
    if params is None:
        return default
    if isinstance(params, dict):
        return params.get(name, default)
    return getattr(params, name, default)


def _json(out: CommandOutput) -> Any:
    if not out.ok:
        raise FrrParseError(f"command failed: {out.error or out.text[:200]}")
    if out.data is not None:
        return out.data
    try:
        return json.loads(out.text or "null")
    except json.JSONDecodeError as exc:
        raise FrrParseError(f"expected JSON output, got: {out.text[:120]!r}") from exc


# --- interfaces ------------------------------------------------------------------------


def build_show_interfaces(params: Any = None) -> str:
    iface = _param(params, "interface")
    return f"ip -s -s -j link show dev {iface}" if iface else "ip -s -s -j link show"


def link_state(flags: list[str]) -> tuple[str, str]:
    """(link_status, protocol_status) from iproute2 flags, in Cisco words."""
    if "UP" not in flags:
        return "administratively down", "down"
    if "LOWER_UP" in flags:
        return "up", "up"
    return "down", "down"


def parse_show_interfaces(out: CommandOutput, params: Any = None) -> list[dict[str, Any]]:
    rates = out.meta.get("rates_bps", {})
    qdrops = out.meta.get("qdisc_drops", {})
    bandwidth = out.meta.get("bandwidth_kbps", {})
    rows = []
    for row in _json(out) or []:
        name = row["ifname"]
        link, proto = link_state(row.get("flags", []))
        stats = row.get("stats64", {})
        rx, tx = stats.get("rx", {}), stats.get("tx", {})
        in_bps, out_bps = rates.get(name, (0, 0))
        bw_kbps = int(bandwidth.get(name, 0))
        rows.append(
            {
                "interface": name,
                "link_status": link,
                "protocol_status": proto,
                "err_disabled": False,
                "description": row.get("ifalias", ""),
                "mtu": int(row.get("mtu", 0)),
                "duplex": "full",  # veth and loopback links are full duplex
                "input_errors": int(rx.get("errors", 0)),
                "crc": int(rx.get("crc_errors", 0)),
                "output_drops": int(tx.get("dropped", 0)) + int(qdrops.get(name, 0)),
                "input_rate_bps": int(in_bps),
                "output_rate_bps": int(out_bps),
                "bandwidth_kbps": bw_kbps,
                "output_util_pct": _util(out_bps, bw_kbps),
                "input_util_pct": _util(in_bps, bw_kbps),
                "late_collisions": int(tx.get("collisions", 0)),
            }
        )
    return rows


def _util(bps: float, bw_kbps: int) -> float:
    """Rate as a percentage of the nominal bandwidth (as `tools/ios.py` computes it)."""
    return round(100 * float(bps) / (bw_kbps * 1000), 1) if bw_kbps else 0.0


def build_show_ip_interface_brief(params: Any = None) -> str:
    return "ip -j addr show"


def parse_show_ip_interface_brief(out: CommandOutput, params: Any = None) -> list[dict[str, Any]]:
    rows = []
    for row in _json(out) or []:
        link, proto = link_state(row.get("flags", []))
        addrs = [
            a["local"]
            for a in row.get("addr_info", [])
            if a.get("family") == "inet" and not a.get("local", "").startswith("127.")
        ]
        rows.append(
            {
                "interface": row["ifname"],
                "ip_address": addrs[0] if addrs else "unassigned",
                "status": link,
                "proto": proto,
            }
        )
    return rows


# --- routing protocols -------------------------------------------------------------------

_BGP_STATES = {"Established", "Idle", "Active", "Connect", "OpenSent", "OpenConfirm"}


def build_show_ip_bgp_summary(params: Any = None) -> str:
    return "show bgp summary json"


def bgp_state(peer: dict[str, Any]) -> str:
    """FRR's state and peerState in Cisco words: admin shutdown is 'Idle (Admin)'."""
    state = str(peer.get("state", "Idle"))
    if state.startswith("Idle"):
        reason = str(peer.get("peerState", ""))
        if "(Admin)" in state or reason in ("Admin", "Policy"):
            return "Idle (Admin)"
        if "PfxCt" in state or reason == "PfxCt":
            return "Idle (PfxCt)"
        return "Idle"
    return state if state in _BGP_STATES else "Idle"


def parse_show_ip_bgp_summary(out: CommandOutput, params: Any = None) -> list[dict[str, Any]]:
    data = _json(out) or {}
    af = data.get("ipv4Unicast", {})
    rows = []
    for neighbor, peer in af.get("peers", {}).items():
        state = bgp_state(peer)
        established = state == "Established"
        rows.append(
            {
                "neighbor": neighbor,
                "remote_as": int(peer.get("remoteAs", 0)),
                "state": state,
                "prefixes_received": int(peer.get("pfxRcd", 0)) if established else None,
                "up_down": str(peer.get("peerUptime", "never")),
                "local_as": int(peer.get("localAs", af.get("as", 0))),
            }
        )
    return sorted(rows, key=lambda r: tuple(int(o) for o in r["neighbor"].split(".")))


_OSPF_STATES = {"2-way": "2WAY", "exstart": "EXSTART", "exchange": "EXCHANGE"}


def build_show_ip_ospf_neighbor(params: Any = None) -> str:
    return "show ip ospf neighbor json"


def ospf_state(state: str) -> str:
    """'Full/-' -> 'FULL', 'ExStart/DROther' -> 'EXSTART', '2-Way/DROther' -> '2WAY'."""
    base = state.split("/")[0].strip().lower()
    return _OSPF_STATES.get(base, base.upper())


def parse_show_ip_ospf_neighbor(out: CommandOutput, params: Any = None) -> list[dict[str, Any]]:
    data = _json(out) or {}
    rows = []
    for neighbor_id, entries in data.get("neighbors", {}).items():
        for entry in entries if isinstance(entries, list) else [entries]:
            rows.append(
                {
                    "neighbor_id": neighbor_id,
                    "state": ospf_state(str(entry.get("nbrState", entry.get("state", "")))),
                    "address": entry.get("ifaceAddress", entry.get("address", "")),
                    "interface": str(entry.get("ifaceName", "")).split(":")[0],
                }
            )
    return rows


_PROTOCOLS = {"connected": "C", "local": "L", "ospf": "O", "bgp": "B", "static": "S"}


def build_show_ip_route(params: Any = None) -> str:
    prefix = _param(params, "prefix")
    return f"show ip route {prefix} json" if prefix else "show ip route json"


def parse_show_ip_route(out: CommandOutput, params: Any = None) -> list[dict[str, Any]]:
    """Installed (selected) routes, one row per active next hop, like `show ip route`."""
    rows = []
    for prefix, entries in (_json(out) or {}).items():
        for entry in entries:
            code = _PROTOCOLS.get(entry.get("protocol", ""))
            if code is None or not entry.get("selected"):
                continue
            network, length = prefix.split("/")
            for nh in entry.get("nexthops", []):
                if not nh.get("active", False):
                    continue
                rows.append(
                    {
                        "protocol": code,
                        "network": network,
                        "prefixlen": int(length),
                        "nexthop_ip": nh.get("ip", ""),
                        "nexthop_if": nh.get("interfaceName")
                        or ("Null0" if nh.get("blackhole") or nh.get("unreachable") else ""),
                    }
                )
    return rows


# --- config, reachability, logs -------------------------------------------------------------


def build_show_running_config(params: Any = None) -> str:
    return "show running-config"


def parse_show_running_config(out: CommandOutput, params: Any = None) -> dict[str, Any]:
    """The running config, or one section of it when params name one."""
    section = _param(params, "section")
    if not section:
        return {"text": out.text}
    return {"text": config_section(out.text, section)}


def config_section(text: str, section: str) -> str:
    """Lines of one section: 'interface eth1', 'router bgp 65001', 'router ospf [N]',
    'ip route', 'access-list NAME' or 'ip access-list extended NAME' (FRR keeps ACL
    entries as top-level `access-list NAME seq ...` lines)."""
    lines = text.splitlines()
    if section.startswith("ip access-list "):  # IOS named ACL -> FRR's top-level access-list lines
        section = f"access-list {section.split()[-1]} "
    if section in ("ip route", "access-list") or section.startswith("access-list "):
        return "\n".join(line for line in lines if line.startswith(section))
    out: list[str] = []
    inside = False
    for line in lines:
        if not line.startswith(" ") and line not in ("exit", "!"):
            inside = line == section or (section.startswith("router ospf") and line == "router ospf")
        if inside:
            out.append(line)
            if line == "exit":
                inside = False
    return "\n".join(out)


def build_ping(params: Any) -> str:
    """iputils ping; `size` is the IP datagram size as on IOS (payload = size - 28)."""
    dest = _param(params, "destination")
    if not dest:
        raise FrrParseError("ping needs a destination")
    argv = ["ping", "-c", str(int(_param(params, "count", 5))), "-W", "1", "-i", "0.2"]
    size = _param(params, "size")
    if size:
        argv += ["-s", str(max(int(size) - 28, 8))]
    argv += ["-M", "do" if _param(params, "df", False) else "dont"]
    source = _param(params, "source")
    if source:
        argv += ["-I", str(source)]
    return " ".join([*argv, str(dest)])


_PING_SUMMARY = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received")
_PING_RTT = re.compile(r"rtt min/avg/max/mdev = [\d.]+/([\d.]+)/")
_PING_SEQ = re.compile(r"icmp_seq=(\d+)")


def parse_ping(out: CommandOutput, params: Any = None) -> dict[str, Any]:
    summary = _PING_SUMMARY.search(out.text)
    requested = int(out.meta.get("count", _param(params, "count", 0)) or 0)
    if summary is None:  # e.g. "connect: Network is unreachable": nothing was answered
        return {
            "sent": requested,
            "received": 0,
            "success_pct": 0.0,
            "rtt_avg_ms": None,
            "stream": "." * requested,
        }
    sent, received = int(summary.group(1)), int(summary.group(2))
    rtt = _PING_RTT.search(out.text)
    answered = {int(s) for s in _PING_SEQ.findall(out.text)}
    return {
        "sent": sent,
        "received": received,
        "success_pct": round(100.0 * received / sent, 1) if sent else 0.0,
        "rtt_avg_ms": float(rtt.group(1)) if rtt else None,
        "stream": "".join("!" if i in answered else "." for i in range(1, sent + 1)),
    }


def build_show_logging(params: Any = None) -> str:
    return "show logging"


# FRR log line: "2026/11/25 17:37:21 BGP: [PXVXG-TFNNT] %ADJCHANGE: neighbor ..."
_LOG_LINE = re.compile(
    r"^(\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2})(?:\.\d+)? (\w+): "
    r"(?:\[[A-Z0-9]{5}-[A-Z0-9]{5}\])?(?:\[EC (\d+)\])? ?(.*)$"
)
# (facility, text marker) -> (severity, mnemonic): Cisco names for the events the
# agent and runbooks look for; anything else keeps FRR's daemon as facility.
_MNEMONICS: list[tuple[str, str, int, str]] = [
    ("BGP", "%ADJCHANGE", 5, "ADJCHANGE"),
    ("BGP", "%NOTIFICATION", 3, "NOTIFICATION"),
    ("BGP", "%MAXPFXEXCEED", 3, "MAXPFXEXCEED"),
    ("BGP", "%MAXPFX", 4, "MAXPFX"),
    ("OSPF", "AdjChg", 5, "ADJCHG"),
    ("OSPF", "mismatch", 4, "CONFIG_MISMATCH"),
    ("SYS", "%CONFIG_I", 5, "CONFIG_I"),
    ("LINK", "%UPDOWN", 3, "UPDOWN"),
    ("LINEPROTO", "%UPDOWN", 5, "UPDOWN"),
    ("LINK", "%CHANGED", 5, "CHANGED"),
]


def parse_show_logging(out: CommandOutput, params: Any = None) -> list[dict[str, Any]]:
    rows = []
    for line in out.text.splitlines():
        m = _LOG_LINE.match(line)
        if not m:
            continue
        stamp, facility, error_code, message = m.groups()
        severity, mnemonic = _classify(facility, message, error_code)
        message = re.sub(r"^%[A-Z_]+: ", "", message)
        rows.append(
            {
                "timestamp": _cisco_time(stamp),
                "facility": facility,
                "severity": severity,
                "mnemonic": f"{facility}-{severity}-{mnemonic}",
                "message": message,
            }
        )
    return rows


def _classify(facility: str, message: str, error_code: str | None) -> tuple[int, str]:
    for fac, marker, severity, mnemonic in _MNEMONICS:
        if fac == facility and marker in message:
            return severity, mnemonic
    if error_code:
        return 3, f"EC{error_code}"
    return 6, "INFO"


def _cisco_time(stamp: str) -> str:
    """'2026/11/25 17:37:21' -> 'Nov 25 17:37:21' (the twin's `show logging` format)."""
    try:
        ts = datetime.strptime(stamp, "%Y/%m/%d %H:%M:%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return stamp
    return ts.strftime("%b %d %H:%M:%S")


def build_show_interfaces_status(params: Any = None) -> str:
    return "ip -j link show"


def parse_show_interfaces_status(out: CommandOutput, params: Any = None) -> list[dict[str, Any]]:
    words = {"up": "connected", "down": "notconnect", "administratively down": "disabled"}
    return [
        {
            "interface": row["ifname"],
            "status": words[link_state(row.get("flags", []))[0]],
            "duplex": "full",
            "speed": "",
        }
        for row in _json(out) or []
    ]


# --- optics: veth links have none ---------------------------------------------------------
#
# A veth has no transceiver and no digital optical monitoring. The lab's cables do
# behave like fibre, though (`lab/frr/netns.py`): an interface has carrier exactly when
# light from an administratively-up far end reaches it over an intact cable. So the
# FRR backend reports receive power from carrier, honestly coarse: carrier -> a nominal
# -2.5 dBm, no carrier -> -40.0 dBm (no light). Transmit power follows the interface's
# own admin state (-2.0 dBm up, -40.0 dBm laser off). On an administratively down
# interface the kernel drops carrier whatever arrives, so its receive power is unknown
# (None). There is no degraded-optic level: CRC errors cannot be produced on a veth.
NOMINAL_RX_DBM = -2.5
NOMINAL_TX_DBM = -2.0
NO_LIGHT_DBM = -40.0


def build_show_transceiver(params: Any = None) -> str:
    iface = _param(params, "interface")
    return f"ip -j link show dev {iface}" if iface else "ip -j link show"


def parse_show_transceiver(out: CommandOutput, params: Any = None) -> list[dict[str, Any]]:
    rows = []
    for row in _json(out) or []:
        name = row["ifname"]
        if name == "lo" or row.get("link_type") == "loopback":
            continue
        flags = row.get("flags", [])
        admin_up = "UP" in flags
        rx = (NOMINAL_RX_DBM if "LOWER_UP" in flags else NO_LIGHT_DBM) if admin_up else None
        rows.append({"interface": name, "rx_dbm": rx, "tx_dbm": NOMINAL_TX_DBM if admin_up else NO_LIGHT_DBM})
    return rows


FRR_TOOLS: dict[str, tuple[Builder, Parser]] = {
    "show_interfaces": (build_show_interfaces, parse_show_interfaces),
    "show_interfaces_status": (build_show_interfaces_status, parse_show_interfaces_status),
    "show_ip_interface_brief": (build_show_ip_interface_brief, parse_show_ip_interface_brief),
    "show_ip_bgp_summary": (build_show_ip_bgp_summary, parse_show_ip_bgp_summary),
    "show_ip_ospf_neighbor": (build_show_ip_ospf_neighbor, parse_show_ip_ospf_neighbor),
    "show_ip_route": (build_show_ip_route, parse_show_ip_route),
    "show_running_config": (build_show_running_config, parse_show_running_config),
    "ping": (build_ping, parse_ping),
    "show_logging": (build_show_logging, parse_show_logging),
    "show_transceiver": (build_show_transceiver, parse_show_transceiver),
}
