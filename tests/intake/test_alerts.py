"""Alerts: fingerprint, dedup within the hold time, auto-clear, idempotent re-runs."""

from __future__ import annotations

from datetime import datetime, timedelta

import pyarrow as pa

from netops_agent.intake import fingerprint, record_alerts
from netops_agent.intake.alerts import active_alerts, assign, relink_alerts
from netops_agent.intake.config import DetectionConfig
from netops_agent.intake.detectors import EPISODE_SCHEMA
from netops_agent.store import Store
from tests.intake.conftest import at


def episodes(
    *rows: tuple[datetime, datetime, bool], check: str = "cpu-high", hold_s: float = 300.0, n: int = 1
) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "source": "threshold",
                "check_name": check,
                "kind": "device",
                "device": "r1",
                "entity": "system",
                "severity": "major",
                "start_ts": s,
                "end_ts": e,
                "active": act,
                "n": n,
                "value": 97.0,
                "message": "cpu-utilization >= 85",
                "hold_s": hold_s,
            }
            for s, e, act in rows
        ],
        schema=EPISODE_SCHEMA,
    )


def alerts(store: Store) -> list[dict]:
    return store.query("SELECT * FROM alerts ORDER BY first_seen")


def test_fingerprint_is_stable_and_matches_the_sql() -> None:
    fp = fingerprint("threshold", "r1", "system", "cpu-high")
    assert fp == fingerprint("threshold", "r1", "system", "cpu-high") and len(fp) == 16
    assert fp != fingerprint("syslog", "r1", "system", "cpu-high")


def test_episodes_within_the_hold_time_are_one_alert(store: Store, config: DetectionConfig) -> None:
    eps = episodes((at(1), at(5), False), (at(20), at(30), True))  # 150 s gap < 300 s hold
    stats = record_alerts(store, eps, config, scope="t", now=at(30))
    (a,) = alerts(store)
    assert (stats.new, a["count"], a["state"], a["first_seen"], a["last_seen"]) == (
        1,
        2,
        "active",
        at(1),
        at(30),
    )
    assert a["fingerprint"] == fingerprint("threshold", "r1", "system", "cpu-high")
    assert a["id"].startswith("AL") and a["message"].startswith("CPU above 85 percent on r1")


def test_a_condition_gone_for_the_hold_time_auto_clears(store: Store, config: DetectionConfig) -> None:
    eps = episodes((at(1), at(5), False), (at(100), at(102), False))  # 950 s apart
    record_alerts(store, eps, config, scope="t", now=at(200))
    first, second = alerts(store)
    assert (first["state"], first["cleared_at"]) == ("cleared", at(5) + timedelta(seconds=300))
    assert (second["state"], second["cleared_at"]) == ("cleared", at(102) + timedelta(seconds=300))
    record_alerts(store, episodes(), config, scope="t", now=at(200))
    assert len(alerts(store)) == 2


def test_recently_cleared_condition_stays_active_during_hold(store: Store, config: DetectionConfig) -> None:
    record_alerts(store, episodes((at(1), at(5), False)), config, scope="t", now=at(10))
    assert alerts(store)[0]["state"] == "active"
    # Later run: nothing new detected, the hold time has passed -> cleared.
    stats = record_alerts(store, episodes(), config, scope="t", now=at(100))
    assert stats.cleared == 1 and alerts(store)[0]["state"] == "cleared"


def test_rerunning_over_the_same_data_does_not_duplicate(store: Store, config: DetectionConfig) -> None:
    eps = episodes((at(1), at(5), False), (at(10), at(12), True))
    record_alerts(store, eps, config, scope="t", now=at(12))
    stats = record_alerts(store, eps, config, scope="t", now=at(12))
    (a,) = alerts(store)
    assert (stats.new, stats.updated, a["count"]) == (0, 1, 2)
    # New data: the same condition came back once more within the hold time.
    more = episodes((at(1), at(5), False), (at(10), at(12), False), (at(20), at(25), True))
    record_alerts(store, more, config, scope="t", now=at(25))
    (a,) = alerts(store)
    assert (a["count"], a["last_seen"], a["state"]) == (3, at(25), "active")


def test_scopes_keep_twins_apart_and_incident_links_follow_renumbering(
    store: Store, config: DetectionConfig
) -> None:
    eps = episodes((at(1), at(5), True))
    record_alerts(store, eps, config, scope="case-a", now=at(5))
    record_alerts(store, eps, config, scope="case-b", now=at(5))
    assert len(alerts(store)) == 2
    (a,) = active_alerts(store, "case-a")
    assign(store, {a["id"]: "IM-0001"})
    assert active_alerts(store, "case-a") == []
    relink_alerts(store, {"IM-0001": "IM-0007"})
    assert store.scalar("SELECT incident_id FROM alerts WHERE id = ?", [a["id"]]) == "IM-0007"
