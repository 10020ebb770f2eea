"""Auto-clear without reading the alerts again (issue 13).

`record_alerts` reads the scope's active alerts to merge episodes into them; with those
and the rows it writes it knows which alerts are active after its updates and inserts,
so it decides which expire (`now >= last_seen + hold`) and counts the active ones in
Python instead of two more statements. The alerts it leaves and the stats it returns are
those of the SQL (`_expire`'s SELECT and the count), pass after pass; a hold whose
microseconds end in a half rounds as DuckDB's cast rounds it.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pyarrow as pa
import pytest

from netops_agent.intake import alerts as alert_store
from netops_agent.intake.config import DetectionConfig
from netops_agent.intake.detectors import EPISODE_SCHEMA
from netops_agent.store import Store
from tests.intake.conftest import at
from tests.intake.test_kept_results import _count_statements

# (check, source, kind): the half-microsecond hold (2.5 us) is given to `tiny-hold`.
_CHECKS = [
    ("cpu-high", "threshold", "device"),
    ("interface-down", "threshold", "interface"),
    ("bgp-notification", "syslog", "bgp"),
    ("memory-high", "threshold", "device"),
]


def _config(config: DetectionConfig) -> DetectionConfig:
    cfg = config.model_copy(deep=True)
    for rule in cfg.thresholds:
        if rule.name == "memory-high":
            rule.hold_s = 0.0000025  # 2.5 us: DuckDB's cast makes it 2 us, not 3
    return cfg


def _episodes(rng: random.Random, config: DetectionConfig, t: int) -> pa.Table:
    rows = []
    for check, source, kind in _CHECKS:
        rule = config.rule(check)
        assert rule is not None
        for device in ("r1", "r2"):
            if rng.random() < 0.5:
                continue
            end = t - rng.choice([0, 0, 1, 5, 20, 40])
            start = end - rng.choice([0, 1, 3])
            rows.append(
                {
                    "source": source,
                    "check_name": check,
                    "kind": kind,
                    "device": device,
                    "entity": "system" if kind == "device" else "Gi0/1",
                    "severity": "major",
                    "start_ts": at(start),
                    "end_ts": at(end),
                    "active": end == t and rng.random() < 0.5,
                    "n": 1,
                    "value": 1.0,
                    "message": None,
                    "hold_s": config.hold_s(rule),
                }
            )
    return pa.Table.from_pylist(rows, schema=EPISODE_SCHEMA)


def _alerts(store: Store) -> list[dict[str, Any]]:
    return store.query("SELECT * EXCLUDE (id) FROM alerts ORDER BY first_seen, fingerprint, count")


def test_hold_is_duckdbs_cast(store: Store) -> None:
    for hold_s in [0.0000025, 0.0000035, 0.0000005, 0.0000045, 45.5, 300.0, 1e-7, 0.3, 123.4567895]:
        row = store.query_one("SELECT to_microseconds(CAST(? * 1e6 AS BIGINT)) AS d", [hold_s])
        assert row is not None and alert_store._hold(hold_s) == row["d"], hold_s


@pytest.mark.parametrize("seed", range(6))
def test_expiry_and_counts_in_python_leave_the_alerts_and_stats_of_the_sql(
    config: DetectionConfig, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    cfg = _config(config)
    fast, slow = Store(":memory:"), Store(":memory:")
    rng = random.Random(seed)
    merged = alert_store._merged
    t = 10
    for _ in range(12):
        t += rng.choice([1, 3, 10, 40])
        # now a few microseconds past a sample: the 2.5 us hold is decided by its rounding
        now = at(t) + timedelta(microseconds=rng.choice([0, 1, 2, 3]))
        eps = _episodes(rng, cfg, t)
        got = alert_store.record_alerts(fast, eps, cfg, scope="t", now=now)
        with monkeypatch.context() as m:  # the same merge; expiry and count in SQL
            m.setattr(alert_store, "_merged", lambda *a, **k: (merged(*a, **k)[0], None))
            want = alert_store.record_alerts(slow, eps, cfg, scope="t", now=now)
        assert got == want
        assert _alerts(fast) == _alerts(slow)
    assert {a["state"] for a in _alerts(fast)} == {"active", "cleared"}  # both ways were taken


def test_a_pass_reads_the_alerts_once(
    store: Store, config: DetectionConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(3)
    alert_store.record_alerts(store, _episodes(rng, config, 50), config, scope="t", now=at(50))
    seen = _count_statements(store, monkeypatch)
    stats = alert_store.record_alerts(store, _episodes(rng, config, 200), config, scope="t", now=at(200))
    reads = [s for s in seen if s.lstrip().startswith("SELECT") and "FROM alerts" in s]
    assert len(reads) == 1, reads  # the merge's read of the active alerts; no expiry SELECT, no count
    assert stats.cleared > 0 and stats.active == len(
        store.query("SELECT id FROM alerts WHERE scope = 't' AND state = 'active'")
    )
