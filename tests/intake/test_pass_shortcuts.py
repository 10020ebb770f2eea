"""Shortcuts of a detection pass and of correlation give what the long way gives (issue 13).

- the threshold query's sample filter keeps, of tests with the same one-sided comparison,
  only the loosest: the same episodes as testing every rule's limit;
- a silent device (every neighbour sees its facing port down) is looked for only among
  the devices facing a port that is down: the same devices as looking at every device.
"""

from __future__ import annotations

import math
import random

import pytest

from netops_agent.intake import detectors
from netops_agent.intake.config import DetectionConfig
from netops_agent.intake.correlate import Correlator
from netops_agent.intake.detectors import _loosest
from netops_agent.lab.sim.lab import SimLab
from netops_agent.store import Store
from tests.intake.conftest import series
from tests.intake.test_detectors import detect


def test_loosest_keeps_each_test_once_and_the_loosest_of_one_sided_ones() -> None:
    limits = [(">=", 95.0), ("=", 2.0), ("<", 1.0), (">=", 85.0), ("<", 0.5), (">", 3.0), ("=", 2.0)]
    assert _loosest(limits) == [("=", 2.0), ("<", 1.0), (">=", 85.0), (">", 3.0)]
    assert _loosest([("<=", 1.0), ("<=", 4.0), ("<>", 1.0), ("<>", 2.0)]) == [
        ("<=", 4.0),
        ("<>", 1.0),
        ("<>", 2.0),
    ]
    # A NaN limit: which test is looser is not a plain min/max, so every test is kept.
    assert len(_loosest([(">=", math.nan), (">=", 85.0)])) == 2


def _more_gauge_rules(config: DetectionConfig) -> DetectionConfig:
    """The shipped rules and more gauge rules on the same comparisons at other limits."""
    by_name = {r.name: r for r in config.thresholds}
    extra = [
        by_name["cpu-high"].model_copy(update={"name": "cpu-warm", "value": 60.0}),
        by_name["memory-high"].model_copy(update={"name": "memory-full", "value": 97.0}),
        by_name["bgp-session-down"].model_copy(update={"name": "bgp-below-half", "value": 0.5}),
        by_name["cpu-high"].model_copy(update={"name": "cpu-over", "op": "gt", "value": 70.0}),
        by_name["cpu-high"].model_copy(update={"name": "cpu-very", "op": "gt", "value": 90.0}),
    ]
    return config.model_copy(update={"thresholds": [*config.thresholds, *extra]})


def test_threshold_episodes_with_the_loosest_filter_are_those_of_every_limit(
    store: Store, config: DetectionConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(13)
    metrics = ("cpu-utilization", "memory-utilization", "in-utilization", "bgp-session-established")
    specials = [math.nan, math.inf, -math.inf, 0.0, 0.5, 1.0, 2.0, 60.0, 70.0, 85.0, 90.0, 95.0, 97.0]
    for k in range(16):
        metric = metrics[k % len(metrics)]
        values = []
        level = rng.uniform(0, 100)
        for _ in range(40):
            if rng.random() < 0.1:
                level = rng.choice([rng.uniform(0, 100), *specials])
            values.append(level if rng.random() < 0.9 else rng.choice(specials))
        store.append_arrow("telemetry", series(f"r{k}", "system" if k % 2 else f"Gi0/{k}", metric, values))
    cfg = _more_gauge_rules(config)
    now = series("r0", "x", "cpu-utilization", [0.0] * 40)["ts"][-1].as_py()
    merged = detect(store, cfg, now, "threshold")
    monkeypatch.setattr(detectors, "_loosest", lambda limits: list(dict.fromkeys(limits)))
    every = detect(store, cfg, now, "threshold")

    def spelled(rows: list[dict]) -> list[dict]:
        return [
            {k: "NaN" if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()} for r in rows
        ]

    assert spelled(merged) == spelled(every)
    fired = {e["check_name"] for e in merged}
    assert {"cpu-warm", "cpu-over", "memory-high", "bgp-session-down"} <= fired  # the data reach them


def _reference_silent(corr: Correlator, alerts: list[dict]) -> set[str]:
    """`Correlator._silent` as it was: every device of the topology looked at."""
    down = {a["device"] for a in alerts if a["check_name"] in corr.corr.device_down_checks}
    port_down = {
        (a["device"], a["entity"])
        for a in alerts
        if a["kind"] == "interface" and a["check_name"] in corr.corr.port_down_checks
    }
    for dev, links in corr.topo.links_of.items():
        if len(links) >= 2 and all(lk.peer_of(dev) in port_down for lk in links):
            down.add(dev)
    return down


def test_silent_devices_looked_for_among_those_facing_a_down_port_are_all_of_them(
    config: DetectionConfig,
) -> None:
    inv = SimLab.build("small", 42).inventory()
    corr = Correlator(inv, config)
    rng = random.Random(8)
    checks = [*config.correlation.port_down_checks, "input-errors"]
    ends = [end for lk in inv.links for end in lk.ends()]

    def alert(device: str, entity: str, check: str, kind: str = "interface") -> dict:
        return {"device": device, "entity": entity, "check_name": check, "kind": kind}

    found = 0
    for trial in range(300):
        picked = rng.sample(ends, rng.randint(0, min(len(ends), 12)))
        alerts = [
            alert(d, e, rng.choice(checks), rng.choice(["interface", "interface", "ospf"])) for d, e in picked
        ]
        if trial % 3 == 0:  # every neighbour of one device sees its facing port down
            victim = rng.choice(sorted(corr.topo.links_of))
            alerts += [alert(*lk.peer_of(victim), "interface-down") for lk in corr.topo.links_of[victim]]
        got = corr._silent(alerts)
        assert got == _reference_silent(corr, alerts)
        found += bool(got)
    assert found >= 50  # silent devices were found, not only empty sets
