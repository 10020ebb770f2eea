"""Generic re-observation of an incident's symptoms, as check results an agent can read.

Used by the workbench's `validate`: fresh reads of the incident's top suspects, with
the limits the default agent uses for "no fault found" (`detection.yaml` `healthy:`,
shared with monitoring): interfaces up with error and drop counters steady and
utilisation below the limit, BGP sessions Established, CPU and memory below their
limits, the incident's prefix reachable.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from netops_agent.intake.config import Healthy, load_detection
from netops_agent.models import Incident
from netops_agent.tools.executor import ToolExecutor

COUNTERS = ("crc", "input_errors", "output_drops", "late_collisions")


def _check(label: str, holds: bool, observed: Any, detail: str = "") -> dict[str, Any]:
    return {"check": label, "holds": bool(holds), "observed": observed, "detail": detail}


def symptoms(incident: Incident, ex: ToolExecutor, lim: Healthy | None = None) -> list[dict[str, Any]]:
    lim = lim or load_detection().healthy
    places = [(s.device, s.interface, s.peer) for s in incident.suspects[:3]] or [
        (incident.device, incident.interface, incident.peer)
    ]
    out: list[dict[str, Any]] = []
    for device, interface, peer in places:
        if interface:
            out.append(_interface(ex, device, interface, lim))
        else:
            out.append(_device(ex, device, lim))
        if peer:
            out.append(_session(ex, device, peer))
    if incident.prefix:
        host = str(ipaddress.IPv4Network(incident.prefix, strict=False).network_address + 10)
        res = ex.run("ping", incident.device, destination=host, count=lim.ping_count)
        pct = (res.parsed or {}).get("success_pct", 0) if res.ok else 0
        want = lim.min_ping_success_pct
        out.append(_check(f"ping {host} from {incident.device} >= {want:.0f}%", pct >= want, pct, res.error))
    return out


def _interface(ex: ToolExecutor, device: str, interface: str, lim: Healthy) -> dict[str, Any]:
    label = f"{device} {interface} up, counters steady, utilisation < {lim.max_utilisation_pct:.0f}%"
    reads = []
    for n in range(2):
        if n:
            ex.wait(lim.counter_interval_s)
        res = ex.run("show_interfaces", device, interface=interface)
        rows = [r for r in res.parsed or [] if r["interface"] == interface] if res.ok else []
        if not rows:
            return _check(label, False, res.status.value, res.error)
        reads.append(rows[0])
    first, last = reads
    growing = [k for k in COUNTERS if last.get(k, 0) > first.get(k, 0)]
    util = last.get("output_util_pct", 0) or 0
    observed = f"{last['protocol_status']}, util {util:.0f}%" + (
        f", {'/'.join(growing)} rising" if growing else ""
    )
    healthy = last["protocol_status"] == "up" and not growing and util < lim.max_utilisation_pct
    return _check(label, healthy, observed)


def _device(ex: ToolExecutor, device: str, lim: Healthy) -> dict[str, Any]:
    label = f"{device} CPU < {lim.max_cpu_pct:.0f}% and memory < {lim.max_memory_pct:.0f}%"
    cpu_res = ex.run("show_processes_cpu", device)
    cpu = (cpu_res.parsed or {}).get("cpu_5_sec") if cpu_res.ok else None
    mem_res = ex.run("show_memory_statistics", device)
    mem = (mem_res.parsed or {}).get("used_pct") if mem_res.ok else None
    if cpu is None:
        return _check(label, False, cpu_res.status.value, cpu_res.error)
    holds = cpu < lim.max_cpu_pct and (mem is None or mem < lim.max_memory_pct)
    return _check(label, holds, f"CPU {cpu:.0f}%" + (f", memory {mem:.0f}%" if mem is not None else ""))


def _session(ex: ToolExecutor, device: str, peer: str) -> dict[str, Any]:
    res = ex.run("show_ip_bgp_summary", device)
    rows = [r for r in res.parsed or [] if r["neighbor"] == peer] if res.ok else []
    state = rows[0]["state"] if rows else res.status.value
    return _check(f"{device} BGP {peer} Established", state == "Established", state)
