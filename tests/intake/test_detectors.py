"""Detectors over synthetic telemetry, syslog and probe rows in a store."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa

from netops_agent.intake.config import AnomalyRule, DetectionConfig
from netops_agent.intake.detectors import (
    EPISODE_SCHEMA,
    DetectContext,
    run_detectors,
)
from netops_agent.store import Store
from tests.intake.conftest import at, series


def detect(store: Store, config: DetectionConfig, now: datetime, *names: str) -> list[dict]:
    table = run_detectors(DetectContext(store, config, now, "t"), list(names))
    assert table.schema == EPISODE_SCHEMA
    return sorted(table.to_pylist(), key=lambda r: (r["check_name"], r["device"], r["entity"], r["start_ts"]))


def test_threshold_needs_the_condition_to_hold_for_for_s(store: Store, config: DetectionConfig) -> None:
    # cpu-high fires at >= 85 held 30 s (3 samples): a 2-sample blip does not, 4 samples do.
    cpu = [20.0] * 5 + [95.0, 96.0] + [20.0] * 5 + [97.0] * 4
    store.append_arrow("telemetry", series("r1", "system", "cpu-utilization", cpu))
    eps = detect(store, config, at(len(cpu)), "threshold")
    assert [(e["check_name"], e["n"], e["active"]) for e in eps] == [("cpu-high", 1, True)]
    assert eps[0]["start_ts"] == at(15)  # fired when it had held for 30 s, not when it began
    assert eps[0]["end_ts"] == at(16) and eps[0]["kind"] == "device"


def test_rate_rules_use_counter_deltas_and_ignore_resets(store: Store, config: DetectionConfig) -> None:
    # 25 errors/s from sample 4 on; a counter reset (drop) at sample 10 is no burst.
    counter = [100.0] * 3 + [100.0 + 250.0 * k for k in range(1, 7)] + [0.0, 0.0, 0.0]
    store.append_arrow("telemetry", series("r1", "Gi0/0", "in-errors", counter))
    store.append_arrow("telemetry", series("r1", "Gi0/1", "in-errors", [5.0] * 12))
    eps = detect(store, config, at(12), "threshold")
    assert len(eps) == 1
    e = eps[0]
    assert (e["check_name"], e["entity"], e["kind"]) == ("input-errors", "Gi0/0", "interface")
    assert e["value"] == 25.0 and e["active"] is False and e["end_ts"] == at(9)


def test_state_rules_fire_on_a_single_sample_of_down(store: Store, config: DetectionConfig) -> None:
    store.append_arrow("telemetry", series("r1", "Gi0/2", "oper-status", [1.0] * 4 + [2.0] * 3))
    store.append_arrow("telemetry", series("r1", "10.0.0.1", "bgp-session-established", [1.0] * 6 + [0.0]))
    eps = detect(store, config, at(7), "threshold")
    got = {(e["check_name"], e["entity"], e["kind"], e["start_ts"]) for e in eps}
    assert got == {
        ("interface-down", "Gi0/2", "interface", at(5)),
        ("bgp-session-down", "10.0.0.1", "bgp", at(7)),
    }


def test_anomaly_uses_a_robust_baseline(store: Store, config: DetectionConfig) -> None:
    # Memory flat at 40 with one spike in the baseline, then a step to 75 for the recent window.
    mem = [40.0] * 10 + [95.0] + [40.0] * 9 + [75.0] * 12
    store.append_arrow("telemetry", series("r1", "system", "memory-utilization", mem))
    # CPU: a lone 2-sample spike in the recent window is no anomaly.
    cpu = [15.0] * 28 + [90.0, 90.0] + [15.0] * 2
    store.append_arrow("telemetry", series("r2", "system", "cpu-utilization", cpu))
    eps = detect(store, config, at(len(mem)), "anomaly")
    assert [(e["check_name"], e["device"], e["active"]) for e in eps] == [("memory-anomaly", "r1", True)]
    assert eps[0]["kind"] == "device" and eps[0]["value"] == 75.0


def test_anomaly_skips_series_without_enough_baseline(store: Store, config: DetectionConfig) -> None:
    store.append_arrow(
        "telemetry", series("r1", "system", "memory-utilization", [40.0, 80.0, 80.0] + [80.0] * 12)
    )
    assert detect(store, config, at(15), "anomaly") == []


def test_anomaly_rules_in_one_query_find_what_each_rule_finds_alone(
    store: Store, config: DetectionConfig
) -> None:
    # The detector scores every rule in one query: rules with their own windows, strides,
    # directions and floors, two of them on one metric, must not mix. A long baseline
    # (400 samples) makes each rule thin it with a different stride.
    wave = [40.0 + (i % 7) - 3 for i in range(400)]
    store.append_arrow("telemetry", series("r1", "system", "memory-utilization", wave + [75.0] * 12))
    store.append_arrow("telemetry", series("r2", "system", "memory-utilization", [50.0] * 404 + [10.0] * 8))
    store.append_arrow("telemetry", series("r3", "Gi0/0", "in-utilization", [10.0] * 406 + [100.0] * 6))
    store.append_arrow("telemetry", series("r3", "Gi0/0", "out-utilization", [20.0] * 412))
    drop = AnomalyRule(
        name="memory-drop", metrics=["memory-utilization"], z=4, direction="down", min_scale=1.0,
        baseline_s=1800, recent_s=60, max_baseline_samples=20, severity="major",
    )  # fmt: skip
    rules = [*config.anomalies, drop]
    both = config.model_copy(update={"anomalies": rules})
    together = detect(store, both, at(412), "anomaly")
    alone = []
    for rule in rules:
        only = [r.model_copy(update={"enabled": r.name == rule.name}) for r in rules]
        alone += detect(store, config.model_copy(update={"anomalies": only}), at(412), "anomaly")
    alone.sort(key=lambda r: (r["check_name"], r["device"], r["entity"], r["start_ts"]))
    assert together == alone
    fired = {(e["check_name"], e["device"], e["entity"]) for e in together}
    assert fired == {
        ("memory-anomaly", "r1", "system"),
        ("memory-drop", "r2", "system"),
        ("utilisation-anomaly", "r3", "Gi0/0"),
    }
    assert {e["check_name"]: e["severity"] for e in together}["memory-drop"] == "major"


def _events(rows: list[tuple[int, str, str, str]]) -> pa.Table:
    return pa.table(
        {
            "ts": pa.array([at(i) for i, *_ in rows], pa.timestamp("us")),
            "device": [d for _, d, _, _ in rows],
            "facility": [t.split("-")[0] for _, _, t, _ in rows],
            "severity": pa.array([int(t.split("-")[1]) for _, _, t, _ in rows], pa.int32()),
            "mnemonic": [t.split("-", 2)[2] for _, _, t, _ in rows],
            "message": [m for *_, m in rows],
        }
    )


def test_syslog_rules_raise_clear_and_keep_one_shot_events(store: Store, config: DetectionConfig) -> None:
    store.append_arrow(
        "events",
        _events(
            [
                (1, "r1", "BGP-5-ADJCHANGE", "neighbor 10.0.0.1 Down Interface flap"),
                (2, "r1", "BGP-5-ADJCHANGE", "neighbor 10.0.0.1 Down Interface flap"),
                (4, "r1", "BGP-5-ADJCHANGE", "neighbor 10.0.0.1 Up"),
                (6, "r1", "BGP-5-ADJCHANGE", "neighbor 10.0.0.1 Down BGP Notification received"),
                (
                    6,
                    "r1",
                    "OSPF-5-ADJCHG",
                    "Process 1, Nbr 10.255.0.2 on Gi0/1 from FULL to EXSTART, "
                    "Neighbor Down: Too many retransmissions",
                ),
                (7, "r2", "SYS-5-CONFIG_I", "Configured from console by admin on vty0 (10.0.0.254)"),
                (8, "r2", "LINK-3-UPDOWN", "Interface Gi0/3, changed state to up"),  # clear, never raised
            ]
        ),
    )
    eps = detect(store, config, at(10), "syslog")
    got = [
        (e["check_name"], e["device"], e["entity"], e["n"], e["start_ts"], e["end_ts"], e["active"])
        for e in eps
    ]
    assert got == [
        ("bgp-adjacency-down", "r1", "10.0.0.1", 2, at(1), at(4), False),
        ("bgp-adjacency-down", "r1", "10.0.0.1", 1, at(6), at(10), True),
        ("config-change", "r2", "config", 1, at(7), at(7), False),
        ("ospf-adjacency-down", "r1", "Gi0/1", 1, at(6), at(10), True),
    ]
    assert eps[3]["kind"] == "ospf" and "EXSTART" in eps[3]["message"]


def test_probe_detector_reports_runs_of_failures(store: Store, config: DetectionConfig) -> None:
    rows = [
        (at(1), "device", "r1", "10.255.0.1", 100.0, None),
        (at(2), "device", "r1", "10.255.0.1", 0.0, None),
        (at(3), "device", "r1", "10.255.0.1", 0.0, None),
        (at(2), "prefix", "r2", "10.100.0.0/24", 0.0, "absent"),
        (at(2), "prefix", "r3", "10.100.2.0/24", 0.0, "present"),
        (at(4), "prefix", "r3", "10.100.2.0/24", 100.0, None),
    ]
    store.append_arrow(
        "probe_results",
        pa.table(
            {
                "ts": pa.array([r[0] for r in rows], pa.timestamp("us")),
                "scope": ["t"] * len(rows),
                "vantage": ["v1"] * len(rows),
                "target": ["x"] * len(rows),
                "kind": [r[1] for r in rows],
                "device": [r[2] for r in rows],
                "entity": [r[3] for r in rows],
                "success_pct": [r[4] for r in rows],
                "status": ["failed" if r[4] == 0 else "ok" for r in rows],
                "route": [r[5] for r in rows],
            }
        ),
    )
    eps = detect(store, config, at(5), "probe")
    got = [(e["check_name"], e["device"], e["n"], e["active"]) for e in eps]
    assert got == [
        ("device-unreachable", "r1", 2, True),
        ("prefix-not-routed", "r2", 1, True),
        ("prefix-unreachable", "r3", 1, False),
    ]


def _probes(rows: list[tuple[int, str, str, float]]) -> pa.Table:
    return pa.table(
        {
            "ts": pa.array([at(i) for i, *_ in rows], pa.timestamp("us")),
            "scope": [s for _, s, _, _ in rows],
            "vantage": ["v1"] * len(rows),
            "target": ["x"] * len(rows),
            "kind": ["device"] * len(rows),
            "device": ["r1"] * len(rows),
            "entity": ["10.255.0.1"] * len(rows),
            "success_pct": pa.array([p for *_, p in rows], pa.float64()),
            "status": [st for _, _, st, _ in rows],
            "route": pa.array([None] * len(rows), pa.string()),
        }
    )


def test_windows_without_a_tagged_event_or_a_failed_probe_have_no_episodes(
    store: Store, config: DetectionConfig
) -> None:
    # The syslog and probe detectors first look whether anything could match; these rows
    # could not (another tag, another scope, skipped, outside the window) until one can.
    store.append_arrow("events", _events([(2, "r1", "SYS-6-LOGOUT", "User admin has exited tty session 2")]))
    store.append_arrow(
        "probe_results",
        _probes(
            [
                (1, "other", "failed", 0.0),
                (2, "t", "skipped", 0.0),
                (3, "t", "ok", 100.0),
                (6, "t", "failed", 0.0),
            ]
        ),
    )
    assert detect(store, config, at(5), "syslog", "probe") == []
    store.append_arrow(
        "events", _events([(3, "r1", "LINK-3-UPDOWN", "Interface Gi0/3, changed state to down")])
    )
    store.append_arrow("probe_results", _probes([(4, "t", "failed", 0.0)]))
    got = [
        (e["check_name"], e["entity"], e["active"]) for e in detect(store, config, at(5), "syslog", "probe")
    ]
    assert got == [("device-unreachable", "10.255.0.1", True), ("link-down-log", "Gi0/3", True)]
