"""Telemetry from the FRR lab's real counters, in the twin's long format.

`FrrTelemetry.sample()` reads every router at once (`ip -s -j link` for interface
counters and state, `tc -s -j qdisc` for queue drops, `vtysh show bgp summary json`
for sessions) and returns one Arrow table with the columns and metric names of the
twin's telemetry (`lab/sim/telemetry.py`: `IF_METRICS` per interface,
`bgp-session-established` per configured BGP neighbour). `record()` appends it to the
store's `telemetry` table in one bulk insert.

Utilisation needs two reads: the collector keeps the previous read of each interface
and computes the rate over the time between them; its first sample reads twice,
`gap_s` apart. Routers have no CPU or memory gauges here (the twin's device metrics):
FRR daemons are ordinary Linux processes sharing the host.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

import pyarrow as pa

from netops_agent.lab.frr import counters, observe
from netops_agent.lab.frr.state import LabState, RouterState
from netops_agent.lab.frr.system import run
from netops_agent.lab.sim.telemetry import IF_METRICS
from netops_agent.models import Inventory

BGP_METRIC = "bgp-session-established"


class _Store(Protocol):
    def append_arrow(self, table: str, data: pa.Table) -> int: ...


class _HasState(Protocol):
    @property
    def state(self) -> LabState: ...


@dataclass
class RouterRead:
    """One router's raw counters at one moment."""

    device: str
    at: float  # time.monotonic()
    links: list[dict[str, Any]]
    qdisc_drops: dict[str, int]
    bgp: dict[str, str]  # neighbour -> normalised state


@dataclass
class FrrTelemetry:
    """Samples a running `FrrLab`; keeps the previous read for rates."""

    lab: _HasState
    gap_s: float = 0.5
    _previous: dict[str, RouterRead] = field(default_factory=dict)

    def sample(self) -> pa.Table:
        """One tick for the whole lab as a long-format Arrow table."""
        state = self.lab.state
        routers = list(state.routers.values())
        if not self._previous:
            self._previous = {r.device: r for r in self._read_all(routers)}
            time.sleep(self.gap_s)
        reads = self._read_all(routers)
        stamp = datetime.now(timezone.utc).replace(tzinfo=None)
        rows: list[tuple[str, str, str, float]] = []
        for read in reads:
            rows += interface_rows(state.inventory, read, self._previous.get(read.device))
            rows += bgp_rows(state.inventory, read)
        self._previous = {r.device: r for r in reads}
        return to_table(rows, stamp)

    @property
    def sampled(self) -> bool:
        """Has this collector read the lab before (so rates need no extra read)?"""
        return bool(self._previous)

    def record(self, store: _Store) -> int:
        """Sample and append to the store's `telemetry` table (one Arrow insert)."""
        return store.append_arrow("telemetry", self.sample())

    def _read_all(self, routers: list[RouterState]) -> list[RouterRead]:
        with ThreadPoolExecutor(max_workers=max(1, min(8, len(routers)))) as pool:
            return list(pool.map(read_router, routers))


def read_router(router: RouterState) -> RouterRead:
    proc = run(["ip", "-n", router.ns, "-s", "-j", "link", "show"], check=False)
    links = json.loads(proc.stdout or "[]") if proc.returncode == 0 else []
    bgp = {row["neighbor"]: row["state"] for row in observe.bgp_rows(router)}
    return RouterRead(router.name, time.monotonic(), links, counters.qdisc_drops(router.ns), bgp)


def interface_rows(
    inv: Inventory, read: RouterRead, previous: RouterRead | None
) -> list[tuple[str, str, str, float]]:
    """(device, interface, metric, value) for each inventory interface of this router."""
    speed = {i.name: i.speed_mbps for i in inv.interfaces if i.device == read.device}
    before = {row["ifname"]: row for row in previous.links} if previous else {}
    interval = (read.at - previous.at) if previous else 0.0
    out: list[tuple[str, str, str, float]] = []
    for row in read.links:
        name = row.get("ifname", "")
        if name not in speed:
            continue
        stats = row.get("stats64", {})
        rx, tx = stats.get("rx", {}), stats.get("tx", {})
        flags = row.get("flags", [])
        values = {
            "in-octets": rx.get("bytes", 0),
            "out-octets": tx.get("bytes", 0),
            "in-errors": rx.get("errors", 0),
            "in-fcs-errors": rx.get("crc_errors", 0),
            "in-discards": rx.get("dropped", 0),
            "out-discards": int(tx.get("dropped", 0)) + read.qdisc_drops.get(name, 0),
            "late-collisions": tx.get("collisions", 0),
            "oper-status": 1.0 if "UP" in flags and "LOWER_UP" in flags else 2.0,
            "admin-status": 1.0 if "UP" in flags else 2.0,
        }
        old = before.get(name)
        if old is not None and interval > 0 and speed[name]:
            line_bps = speed[name] * 1e6
            old_stats = old.get("stats64", {})
            for metric, direction in (("in-utilization", "rx"), ("out-utilization", "tx")):
                delta = int(stats.get(direction, {}).get("bytes", 0)) - int(
                    old_stats.get(direction, {}).get("bytes", 0)
                )
                values[metric] = min(100.0, max(0.0, delta * 8 / interval / line_bps * 100))
        out += [
            (read.device, name, metric, float(values[metric])) for metric in IF_METRICS if metric in values
        ]
    return out


def bgp_rows(inv: Inventory, read: RouterRead) -> list[tuple[str, str, str, float]]:
    """1.0 per configured neighbour whose session is Established, else 0.0."""
    return [
        (read.device, s.peer_ip, BGP_METRIC, 1.0 if read.bgp.get(s.peer_ip) == "Established" else 0.0)
        for s in inv.bgp_sessions
        if s.device == read.device
    ]


def to_table(rows: list[tuple[str, str, str, float]], stamp: datetime) -> pa.Table:
    device, entity, metric, value = (
        (list(col) for col in zip(*rows, strict=True)) if rows else ([], [], [], [])
    )
    return pa.table(
        {
            "ts": pa.array([stamp] * len(rows), pa.timestamp("us")),
            "device": pa.array(device, pa.string()).dictionary_encode(),
            "entity": pa.array(entity, pa.string()).dictionary_encode(),
            "metric": pa.array(metric, pa.string()).dictionary_encode(),
            "value": pa.array(value, pa.float64()),
        }
    )
