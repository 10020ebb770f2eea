"""Intake detectors over one hour of large-profile telemetry at 10 s steps.

    python benchmarks/bench_intake.py [--profile large] [--seconds 3600] [--repeat 3]

Builds the twin, lets half the window pass healthy, injects a handful of faults and
benign transient spikes, lets the rest pass, and stores telemetry and syslog in a
DuckDB file, and runs one reachability probe sweep (setup, not in the totals; its
wall and twin seconds are printed). Then times each detector (threshold, anomaly,
syslog, probe) over the whole window, the alert merge, and the correlation into
incidents: the best of `--repeat` runs, each on freshly cleared alert tables.
Aim: detectors under 2 s.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from netops_agent.intake import DETECTORS, load_detection
from netops_agent.intake.alerts import record_alerts
from netops_agent.intake.detectors import DetectContext
from netops_agent.intake.pipeline import correlate
from netops_agent.intake.probes import run_probes
from netops_agent.lab.base import NetworkView
from netops_agent.lab.sim import noise, persist
from netops_agent.lab.sim.control import sim_view
from netops_agent.lab.sim.faults import SimFaults
from netops_agent.lab.sim.lab import SimLab
from netops_agent.models import FaultSpec
from netops_agent.store import Store

FAULTS = [
    "link_failure",
    "optic_degradation",
    "high_cpu_process",
    "memory_leak",
    "device_unreachable",
    "link_congestion",
    "bgp_neighbor_shutdown",
    "mtu_mismatch",
]


def build(profile: str, seconds: float, spikes: int) -> SimLab:
    lab = SimLab.build(profile, 42, jitter=0.02)
    lab.advance(seconds / 2)
    fx = SimFaults(lab)
    for n, slug in enumerate(FAULTS):
        fx.inject(FaultSpec(type=slug), seed=n)
    lab.advance(seconds / 2)
    noise.add_transient_spikes(lab, spikes, seed=7)
    lab.telemetry = [pa.concat_tables(lab.telemetry).combine_chunks()]
    return lab


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="large")
    ap.add_argument("--seconds", type=float, default=3600.0)
    ap.add_argument("--spikes", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cfg = load_detection(use_env=False)
    t0 = time.perf_counter()
    lab = build(args.profile, args.seconds, args.spikes)
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "bench.duckdb") as store:
        persist.save(lab, store, fresh=True)
        hour_end = lab.now()
        sweep_t = time.perf_counter()
        sweep = run_probes(sim_view(lab), store, cfg.probes, scope="bench")  # the probe detector's input
        sweep_s = time.perf_counter() - sweep_t
        sweep_twin_s = (lab.now() - hour_end).total_seconds()
        # A real poller pings in parallel: stamp the sweep at the end of the hour, and keep
        # the telemetry the twin sampled while it pinged one by one out of the store.
        store.execute("UPDATE probe_results SET ts = ?", [hour_end])
        lab.telemetry = []
        setup = time.perf_counter() - t0
        rows = store.scalar("SELECT count(*) FROM telemetry")
        events = store.scalar("SELECT count(*) FROM events")
        print(
            f"profile {args.profile}: {len(lab.inv.devices)} devices, {len(lab.idx.keys)} "
            f"interfaces; {rows:,} telemetry rows and {events:,} syslog events over "
            f"{args.seconds:.0f} s of twin time; {len(FAULTS)} faults, {args.spikes} spikes "
            f"(setup {setup:.1f} s, not timed)"
        )
        ctx = DetectContext(store, cfg, hour_end, "bench")
        total, episodes = 0.0, []
        for name in ("threshold", "anomaly", "syslog", "probe"):
            detector = DETECTORS.create(name, cfg)
            secs, table = timed(lambda d=detector: d.detect(ctx), args.repeat)
            total += secs
            episodes.append(table)
            print(f"  {name:10s} {secs * 1000:8.1f} ms  {table.num_rows:5d} episodes")
        print(f"  {'detectors':10s} {total * 1000:8.1f} ms  (aim: under 2000 ms)")
        eps = pa.concat_tables(episodes)

        def merge() -> Any:
            store.execute("DELETE FROM alerts")
            return record_alerts(store, eps, cfg, scope="bench", now=hour_end)

        merge_s, stats = timed(merge, args.repeat)
        print(f"  {'alerts':10s} {merge_s * 1000:8.1f} ms  {stats.new} alerts ({stats.active} active)")
        corr_s, (incidents, _) = timed(lambda: _correlate(store, sim_view(lab), cfg), args.repeat)
        print(
            f"  {'correlate':10s} {corr_s * 1000:8.1f} ms  {len(incidents)} incidents "
            f"({stats.active / max(len(incidents), 1):.1f} alerts per incident)"
        )
        print(
            f"  {'end to end':10s} {(total + merge_s + corr_s) * 1000:8.1f} ms  "
            "(detectors + alerts + correlation)"
        )
        print(
            f"  {'probes':10s} {sweep_s * 1000:8.1f} ms  one sweep (setup, not in the totals): "
            f"{len(sweep.rows)} targets, {len(sweep.failed)} failed, {sweep_twin_s:.0f} s of "
            "twin time"
        )


def _correlate(store: Store, lab: NetworkView, cfg: Any) -> Any:
    store.execute("UPDATE alerts SET incident_id = NULL")
    return correlate(store, lab, cfg, scope="bench", first_number=1)


if __name__ == "__main__":
    main()
