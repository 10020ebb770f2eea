"""Cisco IOS: commands and parsers. Text goes through ntc-templates, as with real gear.

Each parser returns the normalised shape shared with the FRR backend (see
`tools/frr_parsers.py`). Where ntc-templates has no template (`show memory
statistics`) or a template omits a field (late collisions), a small regex fills in.
"""

from __future__ import annotations

import re
from typing import Any

from netops_agent.lab.base import CommandOutput
from netops_agent.tools.ntc import parse

PLATFORM = "cisco_ios"


def ntc(command: str, text: str) -> list[dict[str, Any]]:
    return parse(PLATFORM, command, text)  # compiled templates cached per process


_ABBREV = {
    "Gi": "GigabitEthernet",
    "Te": "TenGigabitEthernet",
    "Fa": "FastEthernet",
    "Lo": "Loopback",
    "Vl": "Vlan",
    "Po": "Port-channel",
    "Et": "Ethernet",
}
_SHORT = re.compile(r"^([A-Za-z]{2})([A-Za-z-]*)([0-9].*)$")


def canonical(name: str) -> str:
    """Expand IOS short interface names (Gi0/1 -> GigabitEthernet0/1)."""
    m = _SHORT.match(name or "")
    if not m:
        return name
    full = _ABBREV.get(m.group(1))
    if full and full.lower().startswith((m.group(1) + m.group(2)).lower()):
        return full + m.group(3)
    return name


def _int(v: Any, default: int = 0) -> int:
    try:
        return int(str(v).replace(",", ""))
    except (TypeError, ValueError):
        return default


def _float(v: Any) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


_LATE = re.compile(r"^(\S+) is .*?$|(\d+) late collision", re.M)


def show_interfaces(out: CommandOutput, p: Any) -> list[dict[str, Any]]:
    late: dict[str, int] = {}
    current = ""
    for m in _LATE.finditer(out.text):
        if m.group(1):
            current = m.group(1)
        elif current:
            late[current] = int(m.group(2))
    rows = []
    for r in ntc("show interfaces", out.text):
        bw_kbps = _int(str(r.get("bandwidth", "0")).split()[0])
        rows.append(
            {
                "interface": canonical(r["interface"]),
                "link_status": r["link_status"],
                "protocol_status": r["protocol_status"].split()[0] if r["protocol_status"] else "",
                "err_disabled": "err-disabled" in (r["protocol_status"] or ""),
                "description": r.get("description", ""),
                "mtu": _int(r.get("mtu")),
                "duplex": (r.get("duplex") or "").lower().replace("-duplex", ""),
                "input_errors": _int(r.get("input_errors")),
                "crc": _int(r.get("crc")),
                "output_drops": _int(r.get("queue_output_drops")),
                "input_rate_bps": _int(r.get("input_rate")),
                "output_rate_bps": _int(r.get("output_rate")),
                "bandwidth_kbps": bw_kbps,
                "output_util_pct": round(100 * _int(r.get("output_rate")) / (bw_kbps * 1000), 1)
                if bw_kbps
                else 0.0,
                "input_util_pct": round(100 * _int(r.get("input_rate")) / (bw_kbps * 1000), 1)
                if bw_kbps
                else 0.0,
                "late_collisions": late.get(r["interface"], 0),
            }
        )
    return rows


def show_interfaces_status(out: CommandOutput, p: Any) -> list[dict[str, Any]]:
    return [
        {
            "interface": canonical(r["port"]),
            "status": r["status"],
            "duplex": r.get("duplex", ""),
            "speed": r.get("speed", ""),
        }
        for r in ntc("show interfaces status", out.text)
    ]


def show_ip_interface_brief(out: CommandOutput, p: Any) -> list[dict[str, Any]]:
    return [
        {
            "interface": canonical(r["interface"]),
            "ip_address": r["ip_address"],
            "status": r["status"],
            "proto": r["proto"],
        }
        for r in ntc("show ip interface brief", out.text)
    ]


def show_ip_bgp_summary(out: CommandOutput, p: Any) -> list[dict[str, Any]]:
    rows = []
    for r in ntc("show ip bgp summary", out.text):
        sp = r["state_or_prefixes_received"]
        established = sp.isdigit()
        rows.append(
            {
                "neighbor": r["bgp_neighbor"],
                "remote_as": _int(r["neighbor_as"]),
                "state": "Established" if established else sp,
                "prefixes_received": int(sp) if established else None,
                "up_down": r.get("up_down", ""),
                "local_as": _int(r.get("local_as")),
            }
        )
    return rows


def show_ip_ospf_neighbor(out: CommandOutput, p: Any) -> list[dict[str, Any]]:
    return [
        {
            "neighbor_id": r["neighbor_id"],
            "state": r["state"].split("/")[0],
            "address": r["ip_address"],
            "interface": canonical(r["interface"]),
        }
        for r in ntc("show ip ospf neighbor", out.text)
    ]


def show_ip_route(out: CommandOutput, p: Any) -> list[dict[str, Any]]:
    rows = []
    for r in ntc("show ip route", out.text):
        nh_ip = r.get("nexthop_ip") or ""
        nh_if = r.get("nexthop_if") or ""
        rows.append(
            {
                "protocol": r["protocol"],
                "network": r["network"],
                "prefixlen": _int(r["prefix_length"]),
                "nexthop_ip": nh_ip[0] if isinstance(nh_ip, list) and nh_ip else nh_ip or "",
                "nexthop_if": canonical(nh_if[0] if isinstance(nh_if, list) and nh_if else nh_if or ""),
            }
        )
    return rows


def show_logging(out: CommandOutput, p: Any) -> list[dict[str, Any]]:
    rows = []
    for r in ntc("show logging", out.text):
        msg = r["message"]
        rows.append(
            {
                "timestamp": f"{r['month']} {r['day']} {r['time']}",
                "facility": r["facility"],
                "severity": _int(r["severity"]),
                "mnemonic": f"{r['facility']}-{r['severity']}-{r['mnemonic']}",
                "message": " ".join(msg) if isinstance(msg, list) else msg,
            }
        )
    return rows


def show_processes_cpu(out: CommandOutput, p: Any) -> dict[str, Any]:
    """One ntc row per process, each carrying the filled-down CPU header values."""
    rows = ntc("show processes cpu", out.text)
    if not rows:
        return {
            "cpu_5_sec": None,
            "cpu_1_min": None,
            "cpu_5_min": None,
            "processes": [],
            "top_process": None,
            "top_process_cpu": None,
        }
    procs = [
        {
            "process": r["process_name"],
            "pid": _int(r["process_pid"]),
            "cpu_5_sec": _float(str(r["process_cpu_usage_5_sec"]).rstrip("%")) or 0.0,
        }
        for r in rows
        if r.get("process_name")
    ]
    procs.sort(key=lambda x: -x["cpu_5_sec"])
    head = rows[0]
    return {
        "cpu_5_sec": _float(head["cpu_usage_5_sec"]),
        "cpu_1_min": _float(head["cpu_usage_1_min"]),
        "cpu_5_min": _float(head["cpu_usage_5_min"]),
        "processes": procs,
        "top_process": procs[0]["process"] if procs else None,
        "top_process_cpu": procs[0]["cpu_5_sec"] if procs else None,
    }


_MEM = re.compile(r"^\s*Processor\s+\S+\s+(\d+)\s+(\d+)\s+(\d+)", re.M)


def show_memory_statistics(out: CommandOutput, p: Any) -> dict[str, Any]:
    """No ntc template exists for this command: parse the Processor pool line."""
    m = _MEM.search(out.text)
    if not m:
        return {"total": None, "used": None, "free": None, "used_pct": None}
    total, used, free = (int(x) for x in m.groups())
    return {"total": total, "used": used, "free": free, "used_pct": round(100 * used / total, 1)}


def show_access_lists(out: CommandOutput, p: Any) -> list[dict[str, Any]]:
    rows = []
    for r in ntc("show access-list", out.text):
        if not r.get("action"):
            continue
        rows.append(
            {
                "acl": r["name"],
                "seq": _int(r["sn"]),
                "action": r["action"],
                "protocol": r.get("protocol", ""),
                "source": r.get("source_host")
                or r.get("source_network")
                or r.get("source_any", "")
                or _first(r, "src"),
                "destination": _dst(r),
                "matches": _int(r.get("matches")),
            }
        )
    return rows


def _first(r: dict[str, Any], prefix: str) -> str:
    for k, v in r.items():
        if k.startswith(prefix) and v:
            return str(v)
    return ""


def _dst(r: dict[str, Any]) -> str:
    for k in ("destination_host", "destination_network", "destination_any"):
        if r.get(k):
            wild = r.get("destination_wildcard") or ""
            return f"{r[k]} {wild}".strip()
    return _first(r, "dst") or _first(r, "destination")


def show_running_config(out: CommandOutput, p: Any) -> dict[str, Any]:
    return {"text": out.text}


def ping(out: CommandOutput, p: Any) -> dict[str, Any]:
    rows = ntc("ping", out.text)
    if not rows:
        return {"sent": 0, "received": 0, "success_pct": 0.0, "rtt_avg_ms": None, "stream": ""}
    r = rows[0]
    return {
        "sent": _int(r["sent_qty"]),
        "received": _int(r["success_qty"]),
        "success_pct": float(_int(r["success_pct"])),
        "rtt_avg_ms": _float(r.get("rtt_avg")),
        "stream": r.get("response_stream", ""),
    }


def traceroute(out: CommandOutput, p: Any) -> list[dict[str, Any]]:
    return [
        {"hop": _int(r["hop_num"]), "address": r.get("ip_address") or "*"}
        for r in ntc("traceroute", out.text)
    ]


def transceiver(out: CommandOutput, p: Any) -> list[dict[str, Any]]:
    return [
        {"interface": canonical(r["interface"]), "rx_dbm": _float(r["rx_pwr"]), "tx_dbm": _float(r["tx_pwr"])}
        for r in ntc("show interface transceiver", out.text)
    ]


def config_ack(out: CommandOutput, p: Any) -> dict[str, Any]:
    return {"accepted": out.ok, "text": out.text}
