"""A clock that tells aware time (FRR's real clock) detects what the naive UTC time does."""

from __future__ import annotations

from datetime import timedelta, timezone

from netops_agent.intake.config import DetectionConfig
from netops_agent.intake.pipeline import detect
from netops_agent.store import Store
from tests.intake.conftest import at, series
from tests.intake.test_detectors import _events


def _alerts(now_of: object, config: DetectionConfig) -> list[dict]:
    store = Store(":memory:")
    store.append_arrow("telemetry", series("r1", "system", "cpu-utilization", [20.0] * 5 + [97.0] * 8))
    store.append_arrow(
        "events",
        _events([(3, "r1", "BGP-5-ADJCHANGE", "neighbor 10.0.0.1 Down Interface flap")]),
    )
    for n in (12, 13):  # a second pass merges into the alerts of the first
        detect(store, config, now=now_of(at(n)), scope="t")  # type: ignore[operator]
    return store.query(
        "SELECT fingerprint, check_name, state, count, first_seen, last_seen, cleared_at "
        "FROM alerts ORDER BY fingerprint"
    )


def test_an_aware_clock_gives_the_alerts_of_naive_utc(config: DetectionConfig) -> None:
    naive = _alerts(lambda t: t, config)
    # A threshold alert, and a syslog one still open (its episode ends at the clock's now).
    assert [(a["check_name"], a["state"]) for a in naive] == [
        ("cpu-high", "active"),
        ("bgp-adjacency-down", "active"),
    ]
    assert naive[1]["last_seen"] == at(13)
    utc = _alerts(lambda t: t.replace(tzinfo=timezone.utc), config)
    east = _alerts(lambda t: t.replace(tzinfo=timezone.utc).astimezone(timezone(timedelta(hours=2))), config)
    assert utc == naive
    assert east == naive
