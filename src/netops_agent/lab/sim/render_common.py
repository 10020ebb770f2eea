"""Shared helpers for the twin's IOS renderers: names, clocks, stable numbers, logs.

Everything here is deterministic: "random looking" numbers (MAC addresses, PIDs,
temperatures) come from a CRC of names, never from Python's salted `hash`, so the
same twin renders the same text in every process.
"""

from __future__ import annotations

import re
import zlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from netops_agent.lab.sim.syslog import LogEvent

if TYPE_CHECKING:
    from netops_agent.lab.sim.lab import SimLab

BOOT_REFERENCE = datetime(2026, 1, 5, 8, 0, 0)  # the twin's epoch; devices booted weeks before

IF_TYPES = (
    "FastEthernet",
    "GigabitEthernet",
    "TenGigabitEthernet",
    "Ethernet",
    "Loopback",
    "Port-channel",
    "Tunnel",
    "Vlan",
    "Null",
)
SHORT = {
    "FastEthernet": "Fa",
    "GigabitEthernet": "Gi",
    "TenGigabitEthernet": "Te",
    "Ethernet": "Et",
    "Loopback": "Lo",
    "Port-channel": "Po",
    "Tunnel": "Tu",
    "Vlan": "Vl",
    "Null": "Nu",
}
PHYSICAL = ("FastEthernet", "GigabitEthernet", "TenGigabitEthernet", "Ethernet")


class CliError(Exception):
    """Bad user input: rendered as IOS '% Invalid input' with a caret under `pos`."""

    def __init__(self, pos: int, message: str = "% Invalid input detected at '^' marker.") -> None:
        super().__init__(message)
        self.pos = pos
        self.message = message


class CliMessage(Exception):
    """A command that IOS answers with a one-line error and no caret."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def stable(*parts: object) -> int:
    """A process-independent 32-bit number for a tuple of names."""
    return zlib.crc32("|".join(str(p) for p in parts).encode())


# --- interfaces -------------------------------------------------------------------------


def split_ifname(name: str) -> tuple[str, str]:
    m = re.match(r"([A-Za-z-]+)\s*(.*)", name)
    return (m.group(1), m.group(2)) if m else ("", name)


def if_sort_key(name: str) -> tuple[int, tuple[int, ...], str]:
    kind, num = split_ifname(name)
    order = IF_TYPES.index(kind) if kind in IF_TYPES else len(IF_TYPES)
    nums = tuple(int(n) for n in re.findall(r"\d+", num))
    return order, nums, name


def short_ifname(name: str) -> str:
    kind, num = split_ifname(name)
    return SHORT.get(kind, kind) + num


def is_physical(name: str) -> bool:
    return split_ifname(name)[0] in PHYSICAL


def resolve_interface(lab: SimLab, device: str, text: str) -> str | None:
    """IOS-style interface argument ('Gi0/1', 'gig0/1', 'GigabitEthernet0/1') to its name."""
    kind, num = split_ifname(text.strip())
    if not kind or not num:
        return None
    types = [t for t in IF_TYPES if t.lower().startswith(kind.lower())]
    exact = [t for t in types if t.lower() == kind.lower()]
    if exact:
        types = exact
    elif len(types) != 1:
        return None
    name = f"{types[0]}{num}"
    return name if name in lab.configs[device].interfaces else None


def mac_of(device: str, ifname: str) -> str:
    """A stable locally administered MAC in Cisco dotted form."""
    n = stable(device, ifname)
    return f"5254.00{(n >> 24) & 0xFF:02x}.{n & 0xFFFF:04x}"


# --- time -------------------------------------------------------------------------------


def boot_time(lab: SimLab, device: str) -> datetime:
    """When the device last booted: a few weeks before the twin's epoch, per device."""
    n = stable(lab.seed, device, "boot")
    start = min(BOOT_REFERENCE, lab.clock)
    return start - timedelta(days=18 + n % 40, hours=(n >> 8) % 24, minutes=(n >> 16) % 60)


def uptime_seconds(lab: SimLab, device: str) -> float:
    return (lab.clock - boot_time(lab, device)).total_seconds()


def short_age(seconds: float) -> str:
    """IOS compact age used by show ip route / bgp: 00:12:34, 3d04h, 5w2d."""
    s = max(int(seconds), 0)
    if s < 86400:
        return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"
    if s < 7 * 86400:
        return f"{s // 86400}d{s % 86400 // 3600:02d}h"
    return f"{s // (7 * 86400)}w{s % (7 * 86400) // 86400}d"


def long_age(seconds: float) -> str:
    """show version style: '3 weeks, 2 days, 4 hours, 12 minutes'."""
    s = max(int(seconds), 0)
    parts = []
    for unit, size in (
        ("year", 365 * 86400),
        ("week", 7 * 86400),
        ("day", 86400),
        ("hour", 3600),
        ("minute", 60),
    ):
        value, s = divmod(s, size)
        if value or unit == "minute":
            parts.append(f"{value} {unit}{'s' if value != 1 else ''}")
    return ", ".join(parts)


def ios_clock(ts: datetime) -> str:
    """'08:00:02.000 UTC Mon Jan 5 2026' (show clock, last configuration change)."""
    return f"{ts:%H:%M:%S}.{ts.microsecond // 1000:03d} UTC {ts:%a %b} {ts.day} {ts:%Y}"


# --- logs -------------------------------------------------------------------------------


def device_events(lab: SimLab, device: str) -> list[LogEvent]:
    """The device's syslog messages, oldest first (stored history, then new events)."""
    evs = [e for e in lab.history if e.device == device]
    evs += [e for e in lab.events if e.device == device]
    return sorted(evs, key=lambda e: e.ts)


def last_event(events: list[LogEvent], mnemonic: str, needle: str) -> LogEvent | None:
    for e in reversed(events):
        if e.mnemonic == mnemonic and needle in e.message:
            return e
    return None
