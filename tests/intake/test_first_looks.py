"""A detection pass takes every detector's first look in one statement (issue 13).

Before it detects, each shipped detector looks at something cheap: the threshold and
anomaly detectors at the first and last sample of their windows, the syslog detector at
whether an event with a rule's tag is in the window, the probe detector at the window's
probes (how many, first, last, whether one failed). `run_detectors` reads them all in one
statement of scalar subqueries; each value is what its look reads alone, and the
episodes are those of each detector run alone.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from netops_agent.intake.config import DetectionConfig
from netops_agent.intake.detectors import (
    DETECTORS,
    DetectContext,
    ProbeDetector,
    SyslogDetector,
    run_detectors,
)
from netops_agent.store import Store
from tests.intake.conftest import at, series
from tests.intake.test_detectors import _events, _probes
from tests.intake.test_kept_results import _count_statements


def _fill(store: Store) -> None:
    """Samples that break a threshold, a tagged event, a failed probe (and rows outside
    the window or of another scope)."""
    store.append_arrow("telemetry", series("r1", "system", "cpu-utilization", [20.0] * 20 + [99.0] * 10))
    store.append_arrow(
        "events",
        _events(
            [
                (5, "r1", "LINK-3-UPDOWN", "Interface Gi0/1, changed state to down"),
                (7, "r2", "SYS-5-CONFIG_I", "Configured from console by admin"),
            ]
        ),
    )
    store.append_arrow(
        "probe_results",
        _probes([(3, "t", "ok", 100.0), (6, "t", "failed", 0.0), (8, "other", "failed", 0.0)]),
    )


def _plain(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = [{k: "NaN" if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()} for r in rows]
    return sorted(rows, key=lambda r: (r["source"], r["check_name"], r["device"], r["entity"], r["start_ts"]))


def test_a_pass_takes_every_first_look_in_one_statement_and_finds_the_same_episodes(
    store: Store, config: DetectionConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(store)
    now = at(30)
    # Each detector alone, with a context of its own (its looks each a statement).
    alone = []
    for name in DETECTORS.names():
        alone += DETECTORS.create(name, config).detect(DetectContext(store, config, now, "t")).to_pylist()
    assert {r["source"] for r in alone} == {"threshold", "anomaly", "syslog", "probe"}  # every look matters

    seen = _count_statements(store, monkeypatch)
    together = run_detectors(DetectContext(store, config, now, "t")).to_pylist()
    assert _plain(together) == _plain(alone)
    looks = [s for s in seen if "probe_results" in s and "events" in s and "telemetry_samples" in s]
    assert len(looks) == 1 and seen[0] is looks[0]  # the first statement, the only look
    assert not [s for s in seen if s.startswith(("SELECT 1 FROM events", "SELECT (SELECT {"))]


@pytest.mark.parametrize("until", [0, 4, 6, 30])
def test_each_look_reads_what_it_reads_alone(store: Store, config: DetectionConfig, until: int) -> None:
    """Prefetched values are each look's own: windows with nothing, with an untagged or
    answered row only, and with everything."""
    _fill(store)
    ctx = DetectContext(store, config, at(until), "t")
    syslog, probe = SyslogDetector(config), ProbeDetector(config)
    windows = [(ctx.since, ctx.now), (at(2), at(until)), (at(until), at(until))]
    looks = [syslog._tagged(ctx), probe._seen(ctx)]
    ctx.prefetch(windows, looks)
    for sql, params in looks:
        alone = store.query_one(f"SELECT ({sql}) AS v", list(params))
        assert alone is not None and ctx.look((sql, params)) == alone["v"]
    for after, last in windows:
        row = store.query_one(
            "SELECT min(ts) AS a, max(ts) AS b FROM telemetry_samples WHERE ts > ? AND ts <= ?", [after, last]
        )
        assert row is not None and ctx.sample_bounds([(after, last)]) == [(row["a"], row["b"])]
    seen = probe._seen(ctx)
    expect_failed = until >= 6
    assert ctx.look(seen)["failed"] is expect_failed
    assert (ctx.look(syslog._tagged(ctx)) is None) is (until < 5)


def test_a_look_not_prefetched_is_read_when_asked(
    store: Store, config: DetectionConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(store)
    ctx = DetectContext(store, config, at(30), "t")
    seen = _count_statements(store, monkeypatch)
    look = ProbeDetector._seen(ctx)
    first = ctx.look(look)
    assert first == {"n": 2, "first": at(3), "last": at(6), "failed": True} and len(seen) == 1
    assert ctx.look(look) == first and len(seen) == 1  # known in this pass
