"""Where intake works in Python or on series ids, it gets what the SQL over names got (issue 13).

- alerts: episodes merged into alert candidates in Python, the same rows (and order) as
  the `_CANDIDATES` query; the query decides when two active alerts share a fingerprint;
- syslog: matched raises and clears grouped into episodes in Python, as the SQL grouped them;
- threshold: rules evaluated over series ids, the episodes of the query over names
  (`_threshold_by_names` below is the query the detector ran before);
- probes: runs of failed probes grouped in Python, the episodes of the SQL; the SQL
  decides where the rows leave its answer open.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from netops_agent.intake import alerts as alert_store
from netops_agent.intake.alerts import fingerprint
from netops_agent.intake.config import SQL_OPS, DetectionConfig, SyslogRule
from netops_agent.intake.detectors import (
    EPISODE_SCHEMA,
    DetectContext,
    ProbeDetector,
    SyslogDetector,
    ThresholdDetector,
    empty_episodes,
    run_detectors,
)
from netops_agent.store import Store
from tests.intake.conftest import at, series
from tests.intake.test_detectors import _events, detect


def _plain(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with NaN spelled out (NaN is not equal to itself)."""
    return [{k: "NaN" if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()} for r in rows]


# --- alerts -----------------------------------------------------------------------------
_CHECKS = {"cpu-high": 300.0, "interface-down": 0.0, "link-down-log": 45.5, "odd-hold": 0.0000025}


def _random_episodes(rng: random.Random) -> list[dict[str, Any]]:
    """Episodes of a few fingerprints: overlapping, touching, apart by more or less than
    the hold time; values and messages sometimes missing or NaN. No two episodes of one
    fingerprint end at the same instant (then DuckDB's `arg_max` may take either)."""
    rows = []
    for check, hold_s in _CHECKS.items():
        for device in ("r1", "r2"):
            for entity in ("Gi0/1", "system"):
                if rng.random() < 0.3:
                    continue
                ends = rng.sample(range(2, 120), rng.randint(1, 5))
                for end in ends:
                    start = end - rng.choice([0, 0, 1, 3, 8, 30])
                    rows.append(
                        {
                            "source": "syslog" if check.endswith("-log") else "threshold",
                            "check_name": check,
                            "kind": "interface" if entity != "system" else "device",
                            "device": device,
                            "entity": entity,
                            "severity": rng.choice(["major", "minor"]) if check == "odd-hold" else "major",
                            "start_ts": at(start),
                            "end_ts": at(end),
                            "active": rng.random() < 0.3,
                            "n": rng.randint(1, 4),
                            "value": rng.choice([None, math.nan, rng.uniform(0, 100), 1.0]),
                            "message": rng.choice([None, f"m{end}", "same"]),
                            "hold_s": hold_s,
                        }
                    )
    rng.shuffle(rows)
    return rows


def _active_alerts(rng: random.Random, episodes: list[dict[str, Any]], scope: str) -> list[dict[str, Any]]:
    prints = sorted({(e["source"], e["device"], e["entity"], e["check_name"]) for e in episodes})
    prints.append(("threshold", "r9", "system", "cpu-high"))  # an alert no episode continues
    alerts = []
    for n, (source, device, entity, check) in enumerate(prints):
        if rng.random() < 0.5:
            continue
        alerts.append(
            {
                "id": f"AL{n:06d}",
                "fingerprint": fingerprint(source, device, entity, check),
                "scope": scope,
                "source": source,
                "device": device,
                "entity": entity,
                "check_name": check,
                "state": "active",
                "count": 1,
                "first_seen": at(0),
                "last_seen": at(rng.choice([-40, 1, 5, 20, 60, 110])),
            }
        )
    return alerts


@pytest.mark.parametrize("seed", range(12))
def test_alert_merge_in_python_gives_the_rows_of_the_sql(seed: int) -> None:
    rng = random.Random(seed)
    store = Store(":memory:")
    episodes = _random_episodes(rng)
    table = pa.Table.from_pylist(episodes, schema=EPISODE_SCHEMA)
    alerts = _active_alerts(rng, episodes, "t")
    store.insert_rows("alerts", alerts)
    store.insert_rows("alerts", [{**alerts[0], "id": "AL999999", "scope": "other"}] if alerts else [])
    for now in (at(60), at(120), at(126), at(200)):
        sql = alert_store._candidates_sql(store, table, scope="t", now=now)
        assert sql, "the test needs candidates"
        assert _plain(alert_store.candidates(store, table, scope="t", now=now)) == _plain(sql)
    # What the test covers: islands after the first, continued and fresh alerts.
    rows = alert_store._candidates_sql(store, table, scope="t", now=at(126))
    assert {r["island"] > 0 for r in rows} == {True, False} or seed % 3
    assert {r["cont"] for r in rows} == {True, False} or seed % 3


def test_alert_merge_leaves_it_to_the_sql_when_active_alerts_share_a_fingerprint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = Store(":memory:")
    episodes = _random_episodes(random.Random(5))
    table = pa.Table.from_pylist(episodes, schema=EPISODE_SCHEMA)
    twice = _active_alerts(random.Random(5), episodes, "t")[:1] * 2
    store.insert_rows("alerts", [{**a, "id": f"AL00000{n}"} for n, a in enumerate(twice)])
    want = alert_store._candidates_sql(store, table, scope="t", now=at(126))
    monkeypatch.setattr(alert_store, "merge_episodes", lambda *a: pytest.fail("the SQL decides"))
    assert _plain(alert_store.candidates(store, table, scope="t", now=at(126))) == _plain(want)


def test_alert_merge_leaves_episodes_missing_a_field_to_the_sql(monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(":memory:")
    episodes = _random_episodes(random.Random(6))
    episodes[0] = {**episodes[0], "hold_s": None}  # a plugin detector's episode, say
    episodes[1] = {**episodes[1], "entity": None}
    table = pa.Table.from_pylist(episodes, schema=EPISODE_SCHEMA)
    want = alert_store._candidates_sql(store, table, scope="t", now=at(126))
    monkeypatch.setattr(alert_store, "merge_episodes", lambda *a: pytest.fail("the SQL decides"))
    assert _plain(alert_store.candidates(store, table, scope="t", now=at(126))) == _plain(want)


def test_record_alerts_from_no_episodes_changes_nothing_but_expiry(config: DetectionConfig) -> None:
    store = Store(":memory:")
    stats = alert_store.record_alerts(store, empty_episodes(), config, scope="t", now=at(10))
    assert (stats.new, stats.updated, stats.cleared, stats.active) == (0, 0, 0, 0)


# --- syslog -----------------------------------------------------------------------------
def _random_log(rng: random.Random, n: int) -> pa.Table:
    """Raises and clears of several rules, devices and entities; same-second pairs (the
    row order decides), messages no pattern matches and other tags. At most one raise of
    an entity per second (of two, DuckDB's `arg_max` may take either message)."""
    rows: list[tuple[int, str, str, str]] = []
    raised: set[tuple[int, str, str]] = set()
    for _ in range(n):
        t, dev = rng.randrange(1, 60), rng.choice(["r1", "r2", "r3"])
        peer, itf = f"10.0.0.{rng.randrange(1, 4)}", f"Gi0/{rng.randrange(0, 3)}"
        kind = rng.randrange(7)
        if kind in (0, 1) and (t, dev, peer) not in raised:
            raised.add((t, dev, peer))
            rows.append((t, dev, "BGP-5-ADJCHANGE", f"neighbor {peer} Down {rng.choice(['flap', 'hold'])}"))
        elif kind == 2:
            rows.append((t, dev, "BGP-5-ADJCHANGE", f"neighbor {peer} Up"))
        elif kind == 3 and (t, dev, itf) not in raised:
            raised.add((t, dev, itf))
            rows.append((t, dev, "LINK-3-UPDOWN", f"Interface {itf}, changed state to down"))
        elif kind == 4:
            rows.append((t, dev, "LINK-3-UPDOWN", f"Interface {itf}, changed state to up"))
        elif kind == 5 and (t, dev, "fan") not in raised:
            raised.add((t, dev, "fan"))
            rows.append((t, dev, "ENV-2-FAN", f"Fan tray {rng.randrange(2)} failed"))
        else:
            rows.append((t, dev, rng.choice(["BGP-5-ADJCHANGE", "SYS-5-CONFIG_I"]), "neighbor x Idle"))
    return _events(rows)


@pytest.mark.parametrize("seed", range(8))
def test_syslog_grouping_in_python_gives_the_episodes_of_the_sql(
    config: DetectionConfig, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    fan = SyslogRule(
        name="fan-failed", tag="ENV-2-FAN", pattern=r"Fan tray \d failed", kind="device",
        entity="chassis", severity="minor",
    )  # fmt: skip
    cfg = config.model_copy(update={"syslog": [*config.syslog, fan]})
    store = Store(":memory:")
    store.append_arrow("events", _random_log(random.Random(seed), 120))
    seen = set()
    for now in (at(20), at(45), at(60)):
        python = detect(store, cfg, now, "syslog")
        monkeypatch.setattr(SyslogDetector, "group_in_python", False)
        sql = detect(store, cfg, now, "syslog")
        monkeypatch.setattr(SyslogDetector, "group_in_python", True)
        assert python == sql, now
        seen |= {(e["check_name"], e["active"], e["n"] > 1) for e in python}
    # Raised and cleared, still raised, repeated raises, and the fixed-entity rule.
    assert {("bgp-adjacency-down", True), ("bgp-adjacency-down", False)} <= {(c, a) for c, a, _ in seen}
    assert any(many for *_, many in seen) and any(c == "fan-failed" for c, *_ in seen)


# --- threshold ---------------------------------------------------------------------------
def _threshold_by_names(det: ThresholdDetector, ctx: DetectContext) -> list[dict[str, Any]]:
    """The threshold query as it was: over the `telemetry` view's names, the rules
    registered as `_rules`."""
    [(first, last)] = ctx.sample_bounds([(ctx.since, ctx.now)])
    if first is None:
        return []
    gauges = [r for r in det.rules if not r.rate]
    counters = sorted({r.metric for r in det.rules if r.rate})
    in_counters = ", ".join("?" for _ in counters) or "NULL"
    gauge_filter = " OR ".join(f"(metric = ? AND value {SQL_OPS[r.op]} ?)" for r in gauges)
    cond = " OR ".join(f"(r.op = '{op}' AND v {sym} r.thr)" for op, sym in SQL_OPS.items())
    step = det.config.settings.sample_s
    sql = f"""
    WITH mv AS (
        SELECT device, entity, metric FROM telemetry
        WHERE ts IN (?, ?) AND metric IN ({in_counters})
        GROUP BY ALL HAVING max(value) <> min(value)
    ), g AS (
        SELECT device, entity, metric, ts, value AS v FROM telemetry
        WHERE ts > ? AND ts <= ? AND ({gauge_filter or "false"})
    ), c AS (
        SELECT t.device, t.entity, t.metric, t.ts, t.value FROM telemetry t
        SEMI JOIN mv m ON t.device = m.device AND t.entity = m.entity AND t.metric = m.metric
        WHERE t.ts > ? AND t.ts <= ? AND t.metric IN ({in_counters})
    ), rates AS (
        SELECT device, entity, metric, ts,
               (value - lag(value) OVER w) / nullif(epoch(ts) - epoch(lag(ts) OVER w), 0) AS v
        FROM c WINDOW w AS (PARTITION BY device, entity, metric ORDER BY ts)
    ), hits AS (
        SELECT r.name, r.kind, x.device, x.entity, x.ts, x.v AS value
        FROM g x JOIN _rules r ON x.metric = r.metric AND NOT r.rate WHERE {cond}
        UNION ALL
        SELECT r.name, r.kind, x.device, x.entity, x.ts, x.v AS value
        FROM rates x JOIN _rules r ON x.metric = r.metric AND r.rate WHERE x.v >= 0 AND ({cond})
    ), isl AS (
        SELECT name, kind, device, entity, ts, value, round(epoch(ts) / {step}) - row_number() OVER (
            PARTITION BY name, device, entity ORDER BY ts) AS grp
        FROM hits
    ), ep AS (
        SELECT name, any_value(kind) AS kind, device, entity, min(ts) AS first_true,
               max(ts) AS end_ts, count(*) AS n, arg_max(value, ts) AS value
        FROM isl GROUP BY name, device, entity, grp
    )
    SELECT 'threshold' AS source, ep.name AS check_name, ep.kind, ep.device, ep.entity, r.severity,
           ep.first_true + to_microseconds(CAST((r.for_n - 1) * {step} * 1e6 AS BIGINT)) AS start_ts,
           ep.end_ts, ep.end_ts >= ? AS active, 1::BIGINT AS n, ep.value, r.label AS message, r.hold_s
    FROM ep JOIN _rules r ON ep.name = r.name WHERE ep.n >= r.for_n
    """
    params: list[object] = [first, last, *counters, ctx.since, ctx.now]
    for r in gauges:
        params += [r.metric, r.value]
    params += [ctx.since, ctx.now, *counters, last]
    ctx.store.register("_rules", det._rules_table())
    try:
        rows = ctx.store.query(sql, params)
    finally:
        ctx.store.unregister("_rules")
    return sorted(rows, key=lambda r: (r["check_name"], r["device"], r["entity"], r["start_ts"]))


def _random_telemetry(rng: random.Random, n: int) -> pa.Table:
    tables = []
    for k in range(30):
        metric = (
            "cpu-utilization", "memory-utilization", "oper-status", "bgp-session-established",
            "in-utilization", "in-errors", "out-discards", "late-collisions", "in-octets",
        )[k % 9]  # fmt: skip
        device, entity = f"r{k % 4}", f"e{k}"
        if metric in ("oper-status", "bgp-session-established"):
            up = 1.0
            values = [up if rng.random() < 0.8 else rng.choice([0.0, 2.0]) for _ in range(n)]
        elif metric.endswith("utilization"):
            values = [rng.choice([10.0, 50.0, 84.9, 85.0, 95.0, 99.0, math.nan]) for _ in range(n)]
        else:  # a counter: still, climbing slowly or fast, reset once
            total, speed, values = 0.0, rng.choice([0.0, 0.0, 3.0, 30.0, 300.0]), []
            for i in range(n):
                total = 0.0 if i == n // 2 and rng.random() < 0.5 else total + speed * rng.random() * 10
                values.append(total)
        tables.append(series(device, entity, metric, values))
    return pa.concat_tables(tables)


@pytest.mark.parametrize("seed", range(6))
def test_threshold_over_series_ids_finds_what_the_query_over_names_found(
    config: DetectionConfig, seed: int
) -> None:
    n = 40
    store = Store(":memory:")
    store.append_arrow("telemetry", _random_telemetry(random.Random(seed), n))
    det = ThresholdDetector(config)
    fired: set[str] = set()
    for now in (at(3), at(n // 2), at(n), at(n) + timedelta(seconds=3600)):
        ctx = DetectContext(store, config, now, "t")
        got = detect(store, config, now, "threshold")
        assert _plain(got) == _plain(_threshold_by_names(det, ctx)), now
        fired |= {e["check_name"] for e in got}
    assert {"cpu-high", "interface-down", "bgp-session-down"} <= fired
    assert fired & {"input-errors", "output-drops", "late-collisions"}


# --- probes ------------------------------------------------------------------------------
def _random_probes(rng: random.Random, sweeps: int, vantages: int = 1) -> pa.Table:
    """Sweeps over device and prefix targets: answered, failed, half answered, skipped; a
    failed prefix with its route present, absent or not looked up; another scope."""
    rows = []
    targets = [("device", f"r{k}", f"10.255.0.{k}") for k in range(3)]
    targets += [("prefix", f"r{k}", f"172.16.{k}.0/24") for k in range(3)]
    for t in rng.sample(range(1, 80), sweeps):
        for kind, device, entity in targets:
            if rng.random() < 0.2:
                continue
            pct = rng.choice([0.0, 0.0, 0.0, 100.0, 100.0, 60.0, None])
            rows.append(
                {
                    "ts": at(t),
                    "scope": rng.choice(["t", "t", "t", "other"]),
                    "vantage": f"v{rng.randrange(vantages)},v9" if vantages > 1 else "v1,v2",
                    "target": rng.choice([entity.split("/")[0], None]) if kind == "prefix" else entity,
                    "kind": kind,
                    "device": device,
                    "entity": entity,
                    "success_pct": pct,
                    "status": "skipped" if pct is None else ("failed" if pct == 0 else "ok"),
                    "route": rng.choice([None, "present", "absent"])
                    if kind == "prefix" and pct == 0
                    else None,
                }
            )
    types = {"ts": pa.timestamp("us"), "success_pct": pa.float64()}
    return pa.Table.from_pylist(rows, schema=pa.schema([(c, types.get(c, pa.string())) for c in rows[0]]))


def _probe_episodes(config: DetectionConfig, store: Store, now: datetime, sql: bool) -> list[dict[str, Any]]:
    det = ProbeDetector(config)
    checks = [r for r in config.probe_checks if r.enabled]
    ctx = DetectContext(store, config, now, "t")
    table = det._episodes_sql(ctx, checks) if sql else det._episodes(ctx, checks)
    assert table.schema == EPISODE_SCHEMA
    return sorted(table.to_pylist(), key=lambda r: (r["check_name"], r["device"], r["entity"], r["start_ts"]))


@pytest.mark.parametrize("seed", range(8))
def test_probe_runs_in_python_give_the_episodes_of_the_sql(
    config: DetectionConfig, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    store = Store(":memory:")
    store.append_arrow("probe_results", _random_probes(random.Random(seed), 12))
    checks: set[tuple[str, bool, bool]] = set()
    for now in (at(30), at(60), at(90)):
        want = _probe_episodes(config, store, now, sql=True)
        monkeypatch.setattr(ProbeDetector, "_episodes_sql", lambda *a: pytest.fail("Python decides"))
        assert _probe_episodes(config, store, now, sql=False) == want, now
        monkeypatch.undo()
        checks |= {(e["check_name"], e["active"], e["n"] > 1) for e in want}
    assert {c for c, *_ in checks} == {"device-unreachable", "prefix-not-routed", "prefix-unreachable"}
    assert {a for _, a, _ in checks} == {True, False} and any(many for *_, many in checks)


def test_probe_runs_leave_it_to_the_sql_where_its_answer_is_open(
    config: DetectionConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(":memory:")
    store.append_arrow("probe_results", _random_probes(random.Random(3), 12, vantages=3))
    want = _probe_episodes(config, store, at(90), sql=True)
    assert any(
        "," in e["message"].split(" from ")[1].split(":")[0].replace("v9", "") for e in want if e["n"] > 1
    )
    det = ProbeDetector(config)
    calls = []
    real = ProbeDetector._episodes_sql
    monkeypatch.setattr(ProbeDetector, "_episodes_sql", lambda self, *a: calls.append(1) or real(self, *a))
    assert _probe_episodes(config, store, at(90), sql=False) == want and calls
    # Two probes of one target at one instant: the SQL decides too.
    twice = _random_probes(random.Random(4), 6)
    store = Store(":memory:")
    store.append_arrow("probe_results", pa.concat_tables([twice, twice]))
    calls.clear()
    assert _probe_episodes(config, store, at(90), sql=False) == _probe_episodes(
        config, store, at(90), sql=True
    )
    assert calls and det is not None


# --- what the store remembers -----------------------------------------------------------
def test_a_detection_pass_keeps_what_the_store_remembered_of_the_tables_it_reads(
    config: DetectionConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pass only reads telemetry, events and probe results: what the store remembered of
    them (the twin's series ids, the latest sample time) stays. Its statements that start
    with WITH are sent as SELECTs: the store takes any other statement for a write."""
    store = Store(":memory:")
    store.append_arrow("telemetry", _random_telemetry(random.Random(1), 40))
    store.append_arrow("events", _random_log(random.Random(1), 60))
    store.append_arrow("probe_results", _random_probes(random.Random(1), 12))
    tables = ("telemetry_series", "telemetry_samples", "events", "probe_results")
    for t in tables:
        store.remember(("kept", t), t, tables=(t,))
    sent: list[str] = []
    fetch = store._fetch
    monkeypatch.setattr(store, "_fetch", lambda sql, params=None: sent.append(sql) or fetch(sql, params))
    episodes = run_detectors(DetectContext(store, config, at(60), "t"))
    assert {e["source"] for e in episodes.to_pylist()} == {"threshold", "syslog", "probe"}
    alert_store._candidates_sql(store, episodes, scope="t", now=at(60))  # the merge's query too
    ctes = sorted(" ".join(s.split()).split(" AS ")[0] for s in sent if "WITH" in s)
    assert ctes == [f"SELECT * FROM ( WITH {cte}" for cte in ("e", "ev", "ks", "rm")]
    assert [store.recall(("kept", t)) for t in tables] == list(tables)
    store.execute("DELETE FROM events WHERE ts < ?", [at(2)])  # a write forgets
    assert store.recall(("kept", "events")) is None and store.recall(("kept", "probe_results"))
