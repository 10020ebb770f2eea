"""Shortcuts a detection pass takes give what the long way gives (issue 13).

- the pass's sample bounds: one statement for every detector, the same as a query each;
- anomaly scoring: median and MAD only for series that could fire, the same episodes as
  scoring every series;
- probe episodes kept from the last pass: the same as reading them again, and read again
  once the probe results or the window's probes change;
- syslog: a clear ends the run of raises before it (one GROUP BY);
- prefix -> interface: subnets worked out per device on first use, as the eager way did.
"""

from __future__ import annotations

import ipaddress
import math
import random
from datetime import datetime, timedelta

import pyarrow as pa
import pytest

from netops_agent.intake.config import AnomalyRule, DetectionConfig
from netops_agent.intake.correlate import Topology
from netops_agent.intake.detectors import AnomalyDetector, DetectContext, ProbeDetector, run_detectors
from netops_agent.lab.sim.lab import SimLab
from netops_agent.store import Store
from tests.intake.conftest import at, series
from tests.intake.test_detectors import _events, _probes, detect


def _count_statements(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    fetch = store._fetch

    def counting(sql: str, params: object = None) -> object:
        seen.append(sql)
        return fetch(sql, params)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "_fetch", counting)
    return seen


def test_sample_bounds_are_each_windows_first_and_last_sample_read_once_a_pass(
    store: Store, config: DetectionConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.append_arrow("telemetry", series("r1", "system", "cpu-utilization", [10.0] * 30))
    ctx = DetectContext(store, config, at(40), "t")
    windows = [(at(0), at(40)), (at(5), at(12)), (at(12), at(12)), (at(30), at(40)), (at(3), at(4))]
    seen = _count_statements(store, monkeypatch)
    got = ctx.sample_bounds(windows)
    assert len(seen) == 1  # every window in one statement
    for (after, until), bounds in zip(windows, got, strict=True):
        direct = store.query_one(
            "SELECT min(ts) AS a, max(ts) AS b FROM telemetry_samples WHERE ts > ? AND ts <= ?",
            [after, until],
        )
        assert bounds == (direct["a"], direct["b"])  # type: ignore[index]
    assert got[0] == (at(1), at(30)) and got[2] == (None, None) and got[3] == (None, None)
    seen.clear()
    assert ctx.sample_bounds([windows[1], windows[0]]) == [got[1], got[0]]
    assert seen == []  # known in this pass: no statement
    assert ctx.sample_bounds([(at(10), at(20))]) == [(at(11), at(20))] and len(seen) == 1
    # A new pass (a new context) reads the store again: samples appended since count.
    store.append_arrow("telemetry", series("r1", "system", "cpu-utilization", [10.0], start=at(30)))
    assert DetectContext(store, config, at(40), "t").sample_bounds([windows[0]]) == [(at(1), at(31))]


def _same(rows: list[dict]) -> list[dict]:
    """Rows with NaN spelled out (NaN is not equal to itself)."""
    return [{k: "NaN" if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()} for r in rows]


def _noisy_telemetry(rng: random.Random, n: int) -> pa.Table:
    """Series of every kind an anomaly rule meets: quiet, noisy, stepping up or down,
    spiking once, and stepping to just past or just short of what fires."""
    tables = []
    for k in range(24):
        metric = ("memory-utilization", "cpu-utilization", "in-utilization", "out-utilization")[k % 4]
        entity = "system" if metric in ("memory-utilization", "cpu-utilization") else f"Gi0/{k}"
        level, noise = rng.uniform(0, 60), rng.choice([0.0, 0.0, 0.5, 3.0, 10.0])
        values = [level + rng.gauss(0, noise) for _ in range(n)]
        shape = k % 6
        if shape == 1:
            values[-6:] = [level + rng.uniform(20, 60)] * 6
        elif shape == 2:
            values[-9:] = [max(0.0, level - rng.uniform(20, 40))] * 9
        elif shape == 3:
            values[rng.randrange(n)] += 80
        tables.append(series(f"r{k}", entity, metric, values))
    # At the edge of the shortcut: a flat baseline (MAD 0, median 0, so the scale is the
    # rule's floor) and a step just past / just short of z * min_scale: memory-anomaly
    # (z 6, min_scale 2) fires above 12; cpu-anomaly (z 6, min_scale 5) above 30.
    tables.append(series("edge-past", "system", "memory-utilization", [0.0] * (n - 6) + [12.01] * 6))
    tables.append(series("edge-short", "system", "memory-utilization", [0.0] * (n - 6) + [11.99] * 6))
    tables.append(series("edge-cpu", "system", "cpu-utilization", [0.0] * (n - 6) + [30.02] * 6))
    # Not numbers: NaN in the recent window and in the baseline.
    tables.append(series("nan-recent", "system", "memory-utilization", [40.0] * (n - 6) + [math.nan] * 6))
    tables.append(series("nan-base", "system", "cpu-utilization", [math.nan] * (n - 6) + [90.0] * 6))
    return pa.concat_tables(tables)


def test_anomaly_scores_only_series_that_could_fire_and_finds_what_scoring_all_finds(
    store: Store, config: DetectionConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = 120
    store.append_arrow("telemetry", _noisy_telemetry(random.Random(13), n))
    down = AnomalyRule(
        name="memory-drop", metrics=["memory-utilization"], z=4, direction="down", min_scale=1.0,
        baseline_s=600, recent_s=60, max_baseline_samples=20, severity="major",
    )  # fmt: skip
    cfg = config.model_copy(update={"anomalies": [*config.anomalies, down]})
    fired: set[tuple[str, str]] = set()
    for now in (at(n // 2), at(n - 3), at(n), at(n) + timedelta(seconds=45)):
        short = detect(store, cfg, now, "anomaly")
        monkeypatch.setattr(AnomalyDetector, "prefilter", False)
        every = detect(store, cfg, now, "anomaly")
        monkeypatch.setattr(AnomalyDetector, "prefilter", True)
        assert _same(short) == _same(every), now
        fired |= {(e["check_name"], e["device"]) for e in short}
    # The test would not notice a shortcut that drops series unless some fire, the
    # edge cases among them.
    assert ("memory-anomaly", "edge-past") in fired and ("cpu-anomaly", "edge-cpu") in fired
    assert ("memory-anomaly", "edge-short") not in fired
    assert any(check == "memory-drop" for check, _ in fired) and len(fired) >= 5


def _probe_episodes_uncached(store: Store, config: DetectionConfig, now: datetime) -> list[dict]:
    """The probe episodes read from a fresh store holding the same probe results."""
    fresh = Store(":memory:")
    fresh.append_arrow("probe_results", store.arrow("SELECT * FROM probe_results"))
    checks = [r for r in config.probe_checks if r.enabled]
    return ProbeDetector(config)._episodes(DetectContext(fresh, config, now, "t"), checks).to_pylist()


def test_probe_episodes_are_kept_only_while_the_window_holds_the_same_probes(
    store: Store, config: DetectionConfig
) -> None:
    store.append_arrow("probe_results", _probes([(2, "t", "ok", 100.0), (3, "t", "failed", 0.0)]))
    det = ProbeDetector(config)

    def probe_pass(now: datetime) -> pa.Table:
        return det.detect(DetectContext(store, config, now, "t"))

    first = probe_pass(at(5))
    assert first.to_pylist() == _probe_episodes_uncached(store, config, at(5))
    assert [(e["check_name"], e["n"], e["active"]) for e in first.to_pylist()] == [
        ("device-unreachable", 1, True)
    ]
    # A later pass over the same probes (the window moved, no probe was sent): kept.
    again = probe_pass(at(60))
    assert again is first
    assert again.to_pylist() == _probe_episodes_uncached(store, config, at(60))
    assert (
        run_detectors(DetectContext(store, config, at(60), "t"), ["probe"]).to_pylist() == first.to_pylist()
    )
    # A write that leaves the window's count, first and last probe alone (the target's
    # address, which the message names): read again all the same.
    store.execute("UPDATE probe_results SET target = '10.255.0.9' WHERE scope = 't'")
    renamed = probe_pass(at(60))
    assert renamed is not first and "10.255.0.9" in renamed.column("message")[0].as_py()
    assert renamed.to_pylist() == _probe_episodes_uncached(store, config, at(60))
    first = renamed
    # Another scope has its own probes.
    assert det.detect(DetectContext(store, config, at(60), "other")).num_rows == 0
    # A probe is written: read again (it failed once more: n 2).
    store.append_arrow("probe_results", _probes([(4, "t", "failed", 0.0)]))
    grown = probe_pass(at(60))
    assert grown is not first
    assert grown.to_pylist() == _probe_episodes_uncached(store, config, at(60))
    assert [e["n"] for e in grown.to_pylist()] == [2]
    assert probe_pass(at(70)) is grown
    # The window no longer holds the first failure (lookback 3600 s): read again.
    late = at(3) + timedelta(seconds=config.settings.lookback_s)
    trimmed = probe_pass(late)
    assert trimmed is not grown
    assert trimmed.to_pylist() == _probe_episodes_uncached(store, config, late)
    assert [(e["n"], e["start_ts"]) for e in trimmed.to_pylist()] == [(1, at(4))]
    # The target answers again: the episode is over.
    store.append_arrow("probe_results", _probes([(5, "t", "ok", 100.0)]))
    over = probe_pass(at(60))
    assert over.to_pylist() == _probe_episodes_uncached(store, config, at(60))
    assert [e["active"] for e in over.to_pylist()] == [False]


def test_a_clear_ends_the_raises_before_it_and_a_clear_alone_or_no_match_opens_nothing(
    store: Store, config: DetectionConfig
) -> None:
    down, up = "neighbor 10.0.0.{} Down Peer closed the session", "neighbor 10.0.0.{} Up"
    store.append_arrow(
        "events",
        _events(
            [
                (1, "r1", "BGP-5-ADJCHANGE", down.format(1)),
                (2, "r1", "BGP-5-ADJCHANGE", up.format(1)),
                (3, "r1", "BGP-5-ADJCHANGE", up.format(1)),  # a second clear: nothing to end
                (5, "r1", "BGP-5-ADJCHANGE", down.format(1)),
                (6, "r1", "BGP-5-ADJCHANGE", down.format(1)),
                (8, "r1", "BGP-5-ADJCHANGE", up.format(1)),
                (9, "r1", "BGP-5-ADJCHANGE", down.format(1)),  # still down
                (4, "r1", "BGP-5-ADJCHANGE", up.format(2)),  # a clear first
                (7, "r1", "BGP-5-ADJCHANGE", down.format(2)),
                (7, "r1", "BGP-5-ADJCHANGE", up.format(2)),  # the same second, logged after
                (8, "r2", "BGP-5-ADJCHANGE", down.format(1)),  # another device
                (8, "r2", "BGP-5-ADJCHANGE", "neighbor 10.0.0.3 Idle (Admin. shutdown)"),  # no match
                (8, "r2", "SYS-5-CONFIG_I", "Configuration archived"),  # the tag, not the pattern
            ]
        ),
    )
    got = [
        (e["device"], e["entity"], e["n"], e["start_ts"], e["end_ts"], e["active"])
        for e in detect(store, config, at(10), "syslog")
    ]
    assert got == [
        ("r1", "10.0.0.1", 1, at(1), at(2), False),
        ("r1", "10.0.0.1", 2, at(5), at(8), False),
        ("r1", "10.0.0.1", 1, at(9), at(10), True),
        ("r1", "10.0.0.2", 1, at(7), at(7), False),
        ("r2", "10.0.0.1", 1, at(8), at(10), True),
    ]


def test_prefix_interface_finds_what_every_interfaces_subnet_found() -> None:
    inv = SimLab.build("small", 42).inventory()
    topo = Topology(inv)
    eager = [
        (i.device, i.name, ipaddress.IPv4Interface(f"{i.ip}/{i.prefixlen}").network)
        for i in inv.interfaces
        if i.ip and i.prefixlen and i.kind != "loopback"
    ]

    def reference(device: str, prefix: str) -> str | None:
        net = ipaddress.IPv4Network(prefix, strict=False)
        return next((name for dev, name, sub in eager if dev == device and sub == net), None)

    asked = [(dev, p) for dev, prefixes in inv.prefixes.items() for p in prefixes]
    assert asked
    found = 0
    for dev, prefix in asked:
        for device in (dev, inv.devices[0].name):
            assert topo.prefix_interface(device, prefix) == reference(device, prefix)
            found += topo.prefix_interface(device, prefix) is not None
    assert found  # some prefix sits behind an interface of its device
    # A link's subnet, a host address in it, an unknown device, not a prefix at all.
    itf = next(i for i in inv.interfaces if i.ip and i.prefixlen and i.kind != "loopback")
    subnet = str(ipaddress.IPv4Interface(f"{itf.ip}/{itf.prefixlen}").network)
    assert topo.prefix_interface(itf.device, subnet) == reference(itf.device, subnet) == itf.name
    assert topo.prefix_interface(itf.device, f"{itf.ip}/{itf.prefixlen}") == itf.name
    assert topo.prefix_interface("no-such-device", subnet) is None
    assert topo.prefix_interface(itf.device, "not-a-prefix") is None
