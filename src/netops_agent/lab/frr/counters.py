"""Interface counters for `show interfaces` on FRR: rates, queue drops, bandwidth.

iproute2 reports byte counters, not rates. `RateSampler` turns two reads into bit
rates: it reuses the previous read of the same router when it is recent (so an agent
polling every few seconds gets rates over its own polling interval) and otherwise
reads twice, half a second apart. Queue drops come from `tc -s` (a shaper's tail
drops are what Cisco calls output drops); bandwidth is the inventory's nominal speed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from netops_agent.lab.frr import observe
from netops_agent.models import Inventory

Rows = list[dict[str, Any]]


class RateSampler:
    """Per-router byte-counter samples, kept in memory for one `FrrLab` object."""

    def __init__(self, window_s: float = 30.0, gap_s: float = 0.5) -> None:
        self.window_s = window_s
        self.gap_s = gap_s
        self._last: dict[str, tuple[float, dict[str, tuple[int, int]]]] = {}

    def read(self, key: str, rows: Rows, fetch: Callable[[], Rows | None]) -> tuple[Rows, dict[str, Any]]:
        """Rates for `rows` (a fresh `ip -s -j link` read); may fetch a second read."""
        now = time.monotonic()
        previous = self._last.get(key)
        if previous is None or now - previous[0] > self.window_s:
            previous = (now, byte_counters(rows))
            time.sleep(self.gap_s)
            rows = fetch() or rows
            now = time.monotonic()
        current = byte_counters(rows)
        interval = max(now - previous[0], 1e-3)
        rates = {}
        for name, (rx, tx) in current.items():
            rx0, tx0 = previous[1].get(name, (rx, tx))
            rates[name] = (int(max(0, rx - rx0) * 8 / interval), int(max(0, tx - tx0) * 8 / interval))
        self._last[key] = (now, current)
        return rows, {"rates_bps": rates, "sample_interval_s": round(interval, 3)}


def byte_counters(rows: Rows) -> dict[str, tuple[int, int]]:
    out = {}
    for row in rows:
        stats = row.get("stats64", {})
        out[row["ifname"]] = (
            int(stats.get("rx", {}).get("bytes", 0)),
            int(stats.get("tx", {}).get("bytes", 0)),
        )
    return out


def qdisc_drops(ns: str) -> dict[str, int]:
    """Queue drops per interface, from its root qdisc (which counts its children's drops)."""
    drops: dict[str, int] = {}
    for q in observe.qdiscs(ns, stats=True):
        if q.get("root"):
            dev = str(q.get("dev", ""))
            drops[dev] = drops.get(dev, 0) + int(q.get("drops", 0))
    return drops


def bandwidth_kbps(inventory: Inventory, device: str) -> dict[str, int]:
    return {i.name: i.speed_mbps * 1000 for i in inventory.interfaces if i.device == device}
