"""IOS system views of the twin: logging, processes, memory, ACLs, running-config, version.

CPU and memory figures come from the lab's gauges (so a runaway process or a leak
shows here and in telemetry alike); ACL hit counts follow the packet counters of the
interfaces the list is applied to, so a deny entry in the path of traffic keeps
climbing while the interface is up.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING

import numpy as np

from netops_agent.lab.sim import config as ios
from netops_agent.lab.sim.config import AclEntry
from netops_agent.lab.sim.render_common import (
    boot_time,
    device_events,
    ios_clock,
    is_physical,
    last_event,
    long_age,
    stable,
    uptime_seconds,
)
from netops_agent.lab.sim.telemetry import C

if TYPE_CHECKING:
    from netops_agent.lab.sim.lab import SimLab

LOG_BUFFER_BYTES = 64000
PIDS = {
    "Chunk Manager": 1,
    "Load Meter": 2,
    "ARP Input": 7,
    "Check heaps": 37,
    "Pool Manager": 6,
    "Net Background": 57,
    "IP Input": 98,
    "CDP Protocol": 120,
    "TCP Timer": 134,
    "Exec": 169,
    "IP SNMP": 234,
    "SNMP ENGINE": 236,
    "BGP I/O": 296,
    "BGP Router": 301,
    "OSPF-1 Hello": 312,
}
IDLE_PROCESSES = ("Chunk Manager", "Load Meter", "Pool Manager")
PROCESSOR_POOL = 1_883_551_744
IO_POOL = 67_108_864
IO_USED_FRACTION = 0.18


# --- show logging -------------------------------------------------------------------------


def show_logging(lab: SimLab, device: str) -> str:
    events = device_events(lab, device)
    lines, size = [], 0
    for e in reversed(events):  # the buffer keeps the newest messages that fit
        line = e.line()
        size += len(line) + 1
        if size > LOG_BUFFER_BYTES:
            break
        lines.append(line)
    n = len(events)
    head = [
        "Syslog logging: enabled (0 messages dropped, 0 messages rate-limited, 0 flushes, "
        "0 overruns, xml disabled, filtering disabled)",
        "",
        "No Active Message Discriminator.",
        "",
        "",
        "No Inactive Message Discriminator.",
        "",
        "",
        f"    Console logging: level debugging, {n} messages logged, xml disabled,",
        "                     filtering disabled",
        "    Monitor logging: level debugging, 0 messages logged, xml disabled,",
        "                     filtering disabled",
        f"    Buffer logging:  level debugging, {n} messages logged, xml disabled,",
        "                    filtering disabled",
        "    Exception Logging: size (4096 bytes)",
        "    Count and timestamp logging messages: disabled",
        "    Persistent logging: disabled",
        "",
        "No active filter modules.",
        "",
        f"    Trap logging: level informational, {n} message lines logged",
        "        Logging Source-Interface:       VRF Name:",
        "",
        f"Log Buffer ({LOG_BUFFER_BYTES} bytes):",
        "",
    ]
    return "\n".join(head + lines[::-1]) + "\n"


# --- show processes cpu -------------------------------------------------------------------


def _process_rows(lab: SimLab, device: str) -> list[tuple[int, str, float]]:
    procs = list(lab.cpu_processes(device))
    names = {n for n, _ in procs}
    procs += [(n, 0.0) for n in IDLE_PROCESSES if n not in names]
    return [(PIDS.get(n, 400 + stable(n) % 200), n, pct) for n, pct in procs]


def _cpu_table(lab: SimLab, device: str, rows: list[tuple[int, str, float]]) -> str:
    cpu, _ = lab.device_gauges(device)
    up_s = uptime_seconds(lab, device)
    total = round(cpu)
    interrupts = min(total, max(1, round(cpu * 0.05)))
    out = [
        f"CPU utilization for five seconds: {total}%/{interrupts}%; one minute: {total}%; "
        f"five minutes: {total}%",
        " PID Runtime(ms)     Invoked      uSecs   5Sec   1Min   5Min TTY Process",
    ]
    for pid, name, pct in rows:
        rate = 1 + stable(device, name) % 40  # invocations per second
        invoked = int(up_s * rate / 10)
        runtime = int(up_s * 1000 * pct / 100) + stable(name) % 500
        usecs = runtime * 1000 // max(invoked, 1)
        out.append(
            f"{pid:>4} {runtime:>11} {invoked:>11} {usecs:>10} {pct:>5.2f}% {pct:>5.2f}% "
            f"{pct:>5.2f}% {0:>3} {name}"
        )
    return "\n".join(out) + "\n"


def show_processes_cpu(lab: SimLab, device: str) -> str:
    return _cpu_table(lab, device, sorted(_process_rows(lab, device)))


def show_processes_cpu_sorted(lab: SimLab, device: str) -> str:
    rows = sorted(_process_rows(lab, device), key=lambda r: (-r[2], r[0]))
    return _cpu_table(lab, device, rows)


# --- show memory statistics ---------------------------------------------------------------


def show_memory_statistics(lab: SimLab, device: str) -> str:
    _, mem = lab.device_gauges(device)
    n = stable(device, "heap")
    out = ["                Head    Total(b)     Used(b)     Free(b)   Lowest(b)  Largest(b)"]
    for pool, head, total, used_frac in (
        ("Processor", f"{0x7F0A0000 + n % 0xFFFF0:X}", PROCESSOR_POOL, mem / 100),
        ("      I/O", f"{0xD000000 + (n >> 8) % 0xFFFF:X}", IO_POOL, IO_USED_FRACTION),
    ):
        used = int(total * used_frac)
        free = total - used
        lowest = int(free * 0.97)
        largest = int(lowest * 0.98)
        out.append(f"{pool} {head:>10} {total:>11} {used:>11} {free:>11} {lowest:>11} {largest:>11}")
    return "\n".join(out) + "\n"


# --- show access-lists --------------------------------------------------------------------


def _fraction(spec: str, net: ipaddress.IPv4Network) -> float:
    """Share of traffic to `net` that an ACL address spec matches."""
    if spec == "any":
        return 1.0
    try:
        if spec.startswith("host "):
            other = ipaddress.IPv4Network(f"{spec[5:]}/32")
        else:
            base, wildcard = spec.split()
            other = ipaddress.IPv4Network(f"{base}/{wildcard}", strict=False)
    except ValueError:
        return 0.0
    if net.subnet_of(other):
        return 1.0
    if other.subnet_of(net):
        return other.num_addresses / net.num_addresses
    return 0.0


def _destinations(lab: SimLab, device: str, ifname: str) -> list[ipaddress.IPv4Network]:
    """Where traffic through an interface is going: its own subnet for a host-facing port."""
    itf = lab.configs[device].interfaces[ifname]
    inv_if = lab.inv.interface(device, ifname)
    if itf.ip and inv_if is not None and inv_if.kind in ("svi", "uplink"):
        return [ipaddress.IPv4Interface(f"{itf.ip}/{itf.prefixlen}").network]
    nets = [ipaddress.IPv4Network(p) for ps in lab.derived.originated.values() for p in ps]
    return nets or [ipaddress.IPv4Network("0.0.0.0/0")]


def _split(entries: list[AclEntry], nets: list[ipaddress.IPv4Network]) -> dict[str, float]:
    """Share of an interface's traffic each entry (by text) matches first."""
    share: dict[str, float] = {}
    for net in nets:
        remaining = 1.0 / len(nets)
        for e in entries:
            src = 1.0 if e.src == "any" else 0.01  # sources are spread across the world
            take = remaining * src * _fraction(e.dst, net)
            remaining -= take
            share[e.text()] = share.get(e.text(), 0.0) + take
    return share


def _acl_hits(lab: SimLab, device: str, name: str, entries: list[AclEntry]) -> dict[int, int]:
    """Matches per entry: packets through the interfaces using the list, split by first match.

    Traffic up to the twin's start is split by the golden list (what was configured
    then); traffic since is split by the list as it is now. So golden entries keep
    their history, an entry added later starts small and climbs while traffic flows.
    """
    golden = sorted(lab.golden[device].acls.get(name, []), key=lambda e: e.seq)
    hits = dict.fromkeys((e.seq for e in entries), 0.0)
    initial: np.ndarray | None = None
    for ifname, itf in lab.configs[device].interfaces.items():
        for col, acl in ((C["in_packets"], itf.acl_in), (C["out_packets"], itf.acl_out)):
            p = lab.idx.pos.get((device, ifname))
            if acl != name or p is None:
                continue
            if initial is None:
                initial = lab._initial_counters()
            before = float(initial[p, col])
            recent = float(lab.counters[p, col]) - before
            nets = _destinations(lab, device, ifname)
            old, now = _split(golden, nets), _split(entries, nets)
            for e in entries:
                hits[e.seq] += before * old.get(e.text(), 0.0) + recent * now.get(e.text(), 0.0)
    return {seq: int(v) for seq, v in hits.items()}


def show_access_lists(lab: SimLab, device: str, name: str | None = None) -> str:
    acls = lab.configs[device].acls
    names = [name] if name is not None else sorted(acls)
    out = []
    for acl in names:
        if acl not in acls:
            continue
        entries = sorted(acls[acl], key=lambda e: e.seq)
        hits = _acl_hits(lab, device, acl, entries)
        out.append(f"Extended IP access list {acl}")
        for e in entries:
            suffix = f" ({hits[e.seq]} matches)" if hits[e.seq] else ""
            out.append(f"    {e.text()}{suffix}")
    return "\n".join(out) + ("\n" if out else "")


# --- show running-config ------------------------------------------------------------------


def _banner(lab: SimLab, device: str, body: str) -> str:
    size = len(body.encode())
    return f"Building configuration...\n\nCurrent configuration : {size} bytes\n{body}"


def show_running_config(lab: SimLab, device: str) -> str:
    body = "!\n"
    ev = last_event(device_events(lab, device), "CONFIG_I", "Configured from")
    if ev is not None:
        m = re.search(r"by (\S+)", ev.message)
        who = m.group(1) if m else "console"
        body += f"! Last configuration change at {ios_clock(ev.ts)} by {who}\n!\n"
    return _banner(lab, device, body + ios.render(lab.configs[device]))


def show_running_config_interface(lab: SimLab, device: str, ifname: str) -> str:
    lines = ios.render(lab.configs[device]).splitlines()
    start = lines.index(f"interface {ifname}")
    block = [lines[start]]
    for ln in lines[start + 1 :]:
        if not ln.startswith(" "):
            break
        block.append(ln)
    return _banner(lab, device, "!\n" + "\n".join(block) + "\nend\n")


# --- show version / clock ------------------------------------------------------------------


def show_version(lab: SimLab, device: str) -> str:
    cfg = lab.configs[device]
    n_gi = sum(1 for name in cfg.interfaces if is_physical(name))
    serial = f"9{stable(device, 'serial') % 10**10:010d}"
    boot = boot_time(lab, device)
    return "\n".join(
        [
            "Cisco IOS Software, IOSv Software (VIOS-ADVENTERPRISEK9-M), Version 15.9(3)M4, "
            "RELEASE SOFTWARE (fc3)",
            "Technical Support: http://www.cisco.com/techsupport",
            "Copyright (c) 1986-2021 by Cisco Systems, Inc.",
            "Compiled Thu 28-Jan-21 15:25 by prod_rel_team",
            "",
            "",
            "ROM: Bootstrap program is IOSv",
            "",
            f"{cfg.hostname} uptime is {long_age(uptime_seconds(lab, device))}",
            "System returned to ROM by reload",
            f"System restarted at {ios_clock(boot)}",
            'System image file is "flash0:/vios-adventerprisek9-m"',
            "Last reload reason: Unknown reason",
            "",
            "",
            "Cisco IOSv (revision 1.0) with  with 1839417K/74752K bytes of memory.",
            f"Processor board ID {serial}",
            f"{n_gi} Gigabit Ethernet interfaces",
            "DRAM configuration is 72 bits wide with parity disabled.",
            "256K bytes of non-volatile configuration memory.",
            "2097152K bytes of ATA System CompactFlash 0 (Read/Write)",
            "",
            "Configuration register is 0x0",
            "",
        ]
    )


def show_clock(lab: SimLab, device: str) -> str:
    return f"*{ios_clock(lab.clock)}\n"
