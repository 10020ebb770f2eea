"""Detectors: turn the store's telemetry, syslog and probe results into alert episodes.

A detector reads the `telemetry`, `events` or `probe_results` tables over the lookback
window and returns *episodes* as one Arrow table (`EPISODE_SCHEMA`): a continuous
stretch during which one check held for one (device, entity), with when it fired,
when it was last true and whether it still holds. Everything runs as DuckDB SQL
over whole tables; no Python loop touches individual samples.

Shipped detectors (registered by name in `DETECTORS`):
- `threshold`: rules `metric op value` on gauges or per-second counter rates, which
  must hold for `for_s` before they fire (transient spikes never do);
- `anomaly`: robust z-score of each series' recent samples against the median and
  MAD of its own baseline window;
- `syslog`: tag + regex rules, with an optional clearing message;
- `probe`: failed synthetic pings recorded by `intake.probes`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa

from netops_agent.errors import RegistryError
from netops_agent.intake.config import (
    SQL_OPS,
    AnomalyRule,
    DetectionConfig,
    ProbeRule,
    SyslogRule,
    metric_kind,
)
from netops_agent.store import Store

EPISODE_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("check_name", pa.string()),
        ("kind", pa.string()),
        ("device", pa.string()),
        ("entity", pa.string()),
        ("severity", pa.string()),
        ("start_ts", pa.timestamp("us")),
        ("end_ts", pa.timestamp("us")),
        ("active", pa.bool_()),
        ("n", pa.int64()),
        ("value", pa.float64()),
        ("message", pa.string()),
        ("hold_s", pa.float64()),
    ]
)
_COLS = ", ".join(EPISODE_SCHEMA.names)


Window = tuple[datetime, datetime]


@dataclass
class DetectContext:
    """What a detector may read: the store, the rules, the time and the alert scope.

    One context is one detection pass: nothing writes the store while its detectors
    read, so what one detector learnt of the samples (`sample_bounds`) serves the next,
    and the cheap looks every detector takes first (`look`) can all be taken at once
    (`prefetch`, one statement a pass instead of one a detector).
    """

    store: Store
    config: DetectionConfig
    now: datetime
    scope: str = "lab"
    _bounds: dict[Window, tuple[datetime | None, datetime | None]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _looks: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def since(self) -> datetime:
        return self.now - timedelta(seconds=self.config.settings.lookback_s)

    def sample_bounds(self, windows: list[Window]) -> list[tuple[datetime | None, datetime | None]]:
        """(first, last) telemetry sample time in each window `(after, until]` (None, None
        without a sample there). The windows not asked for before in this pass are read
        with one statement: a filtered min/max per window (row groups outside it are
        skipped), instead of a scan per detector."""
        self.prefetch(windows, [])
        return [self._bounds[w] for w in windows]

    def look(self, look: Look) -> Any:
        """The value of one look (a scalar subquery and its parameters): taken by `prefetch`
        earlier in this pass, or now."""
        self.prefetch([], [look])
        return self._looks[look]

    def prefetch(self, windows: list[Window], looks: list[Look]) -> None:
        """Read the sample bounds of `windows` and the values of `looks` not yet known in
        this pass, all in one statement of scalar subqueries (each as it would run alone)."""
        todo = [w for w in dict.fromkeys(windows) if w not in self._bounds]
        asked = [k for k in dict.fromkeys(looks) if k not in self._looks]
        if not todo and not asked:
            return
        parts = [
            "(SELECT [min(ts), max(ts)] FROM telemetry_samples WHERE ts > ? AND ts <= ?)" for _ in todo
        ] + [f"({sql})" for sql, _ in asked]
        row = self.store.query_one(
            "SELECT " + ", ".join(f"{part} AS v{i}" for i, part in enumerate(parts)),
            [t for w in todo for t in w] + [p for _, params in asked for p in params],
        )
        assert row is not None  # a SELECT of scalar subqueries has one row
        values = list(row.values())
        for w, (first, last) in zip(todo, values[: len(todo)], strict=True):
            self._bounds[w] = (first, last)
        for k, value in zip(asked, values[len(todo) :], strict=True):
            self._looks[k] = value


# A look: a scalar subquery (one row, one column) and its parameters, as a hashable pair.
Look = tuple[str, tuple[Any, ...]]


@runtime_checkable
class Detector(Protocol):
    """Reads the store, returns alert episodes (an Arrow table with `EPISODE_SCHEMA`)."""

    name: str

    def detect(self, ctx: DetectContext) -> pa.Table: ...


DetectorFactory = Callable[[DetectionConfig], Detector]


class DetectorRegistry:
    """Detector factories by name; fails loudly on unknown or duplicate names."""

    def __init__(self) -> None:
        self._factories: dict[str, DetectorFactory] = {}

    def register(self, name: str, factory: DetectorFactory) -> DetectorFactory:
        if name in self._factories:
            raise RegistryError(
                f"detector {name!r} is already registered; known detectors: {', '.join(self.names())}"
            )
        self._factories[name] = factory
        return factory

    def create(self, name: str, config: DetectionConfig) -> Detector:
        try:
            factory = self._factories[name]
        except KeyError:
            raise RegistryError(
                f"unknown detector {name!r}; known detectors: {', '.join(self.names())}"
            ) from None
        return factory(config)

    def names(self) -> list[str]:
        return sorted(self._factories)


DETECTORS = DetectorRegistry()


def empty_episodes() -> pa.Table:
    return EPISODE_SCHEMA.empty_table()


def run_detectors(ctx: DetectContext, names: list[str] | None = None) -> pa.Table:
    """Run the named detectors (default: all registered) and stack their episodes.

    What the detectors look at first (`wants`: sample bounds, whether anything in the
    window could match) is read for all of them in one statement."""
    detectors = [DETECTORS.create(n, ctx.config) for n in (names or DETECTORS.names())]
    windows: list[Window] = []
    looks: list[Look] = []
    for det in detectors:
        wants = getattr(det, "wants", None)
        if wants is not None:
            w, k = wants(ctx)
            windows += w
            looks += k
    ctx.prefetch(windows, looks)
    tables = [det.detect(ctx) for det in detectors]
    tables = [_episodes(t.select(EPISODE_SCHEMA.names)) for t in tables if t.num_rows]
    return pa.concat_tables(tables) if tables else empty_episodes()


def _episodes(t: pa.Table) -> pa.Table:
    """`t` as EPISODE_SCHEMA; Arrow's cast (it loads pyarrow.compute) only if not already."""
    return t if t.schema.equals(EPISODE_SCHEMA) else t.cast(EPISODE_SCHEMA)


def _episodes_of(store: Store, sql: str, params: list[object], rules: pa.Table) -> pa.Table:
    """Run a detector's query, which reads `rules` as `Store.SCAN` (no view registered and
    dropped around it), and fetch its few rows: cheaper than an Arrow relation, which
    DuckDB binds twice (once to build it, once to run it)."""
    rows = read(store, sql, params, rules)
    return pa.Table.from_pylist(rows, schema=EPISODE_SCHEMA) if rows else empty_episodes()


def read(store: Store, sql: str, params: list[object], scan: pa.Table) -> list[dict[str, Any]]:
    """Rows of a query that starts with `WITH`, as a statement that starts with SELECT:
    `Store` takes any other statement for a write and forgets what it remembered of the
    tables it names (the twin's series ids, the latest sample time)."""
    return store.query(f"SELECT * FROM ({sql})", params, scan=scan)


# Episodes from rows `hits(name, kind, device, entity, ts, value)` already filtered to
# "condition true": consecutive samples (one `step` apart) form one island.
_ISLANDS = """
isl AS (
    SELECT name, kind, device, entity, ts, value, round(epoch(ts) / {step}) - row_number() OVER (
        PARTITION BY name, device, entity ORDER BY ts) AS grp
    FROM hits
), ep AS (
    SELECT name, any_value(kind) AS kind, device, entity, min(ts) AS first_true,
           max(ts) AS end_ts, count(*) AS n, arg_max(value, ts) AS value
    FROM isl GROUP BY name, device, entity, grp
)
SELECT '{source}' AS source, ep.name AS check_name, ep.kind, ep.device, ep.entity, r.severity,
       ep.first_true + to_microseconds(CAST((r.for_n - 1) * {step} * 1e6 AS BIGINT)) AS start_ts,
       ep.end_ts, ep.end_ts >= ? AS active, 1::BIGINT AS n, ep.value,
       r.label AS message, r.hold_s
FROM ep JOIN {rules} r ON ep.name = r.name
WHERE ep.n >= r.for_n
"""


class ThresholdDetector:
    """Static thresholds on gauges and on per-second rates of counters.

    Gauges: one scan keeps only rows that break some rule. Counters: a series can only
    have a rate above zero if it moved between the window's first and last sample, so
    rates (a window `lag`) are computed for those few series only.
    """

    name = "threshold"

    def __init__(self, config: DetectionConfig) -> None:
        self.config = config
        self.rules = [r for r in config.thresholds if r.enabled]

    def _rules_table(self) -> pa.Table:
        step = self.config.settings.sample_s
        return pa.table(
            {
                "name": pa.array([r.name for r in self.rules], pa.string()),
                "metric": pa.array([r.metric for r in self.rules], pa.string()),
                "op": pa.array([r.op for r in self.rules], pa.string()),
                "thr": pa.array([r.value for r in self.rules], pa.float64()),
                "rate": pa.array([r.rate for r in self.rules], pa.bool_()),
                "for_n": pa.array(
                    [max(1, round(self.config.for_s(r) / step)) for r in self.rules], pa.int64()
                ),
                "hold_s": pa.array([self.config.hold_s(r) for r in self.rules], pa.float64()),
                "severity": pa.array([r.severity for r in self.rules], pa.string()),
                "kind": pa.array([metric_kind(r.metric) for r in self.rules], pa.string()),
                "label": pa.array(
                    [f"{r.metric}{'/s' if r.rate else ''} {SQL_OPS[r.op]} {r.value:g}" for r in self.rules],
                    pa.string(),
                ),
            }
        )

    def wants(self, ctx: DetectContext) -> tuple[list[Window], list[Look]]:
        """What `detect` reads first (see `run_detectors`)."""
        return ([(ctx.since, ctx.now)] if self.rules else []), []

    def detect(self, ctx: DetectContext) -> pa.Table:
        if not self.rules:
            return empty_episodes()
        [(first, last)] = ctx.sample_bounds([(ctx.since, ctx.now)])
        if first is None or last is None:
            return empty_episodes()
        gauges = [r for r in self.rules if not r.rate]
        # A sample can break a gauge rule only if its value breaks some gauge rule's
        # threshold: a cheap filter on the samples before they meet their series.
        limits = _loosest([(SQL_OPS[r.op], r.value) for r in gauges])
        breaks = " OR ".join(f"value {op} ?" for op, _ in limits) or "false"
        cond = " OR ".join(f"(k.op = '{op}' AND x.v {sym} k.thr)" for op, sym in SQL_OPS.items())
        sql = _THRESHOLD.format(
            breaks=breaks, cond=cond, step=self.config.settings.sample_s, rules=Store.SCAN, source=self.name
        )
        params: list[object] = [first, last, ctx.since, ctx.now, *(value for _, value in limits)]
        params += [ctx.since, ctx.now, last]
        return _episodes_of(ctx.store, sql, params, self._rules_table())


def _loosest(limits: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """The tests `value <op> limit` a sample must pass one of to break some rule: each
    test once, and of the same one-sided comparison only the loosest (`>= 85` passes
    whatever `>= 95` passes: DuckDB orders doubles totally, NaN above all). Only a filter
    before the rules' own tests, so keeping more would change nothing but the cost."""
    out = list(dict.fromkeys(limits))
    loosest = {">": min, ">=": min, "<": max, "<=": max}
    for op, pick in loosest.items():
        values = [v for o, v in out if o == op]
        if len(values) > 1 and not any(math.isnan(v) for v in values):
            keep = pick(values)
            out = [(o, v) for o, v in out if o != op or v == keep]
    return out


# Every threshold rule at once, over series ids (one series is one device, entity and
# metric; a rule has one metric, so a rule's series is its device and entity): the
# names are joined to the few episodes at the end. `ks`: the series each rule watches.
# `mv`: the counter series that changed between the window's first and last sample;
# only those can have a rate above zero, so only their rates (a window `lag`) are
# computed. Consecutive hits (one `step` apart) form one island, as in `_ISLANDS`.
_THRESHOLD = """
WITH ks AS (
    SELECT k.id, r.name, r.op, r.thr, r.rate FROM telemetry_series k JOIN {rules} r ON k.metric = r.metric
), mv AS (
    SELECT series FROM telemetry_samples
    WHERE ts IN (?, ?) AND series IN (SELECT id FROM ks WHERE rate)
    GROUP BY series HAVING max(value) <> min(value)
), g AS (
    SELECT series, ts, value AS v FROM telemetry_samples WHERE ts > ? AND ts <= ? AND ({breaks})
), c AS (
    SELECT series, ts, value FROM telemetry_samples
    WHERE ts > ? AND ts <= ? AND series IN (SELECT series FROM mv)
), rates AS (
    SELECT series, ts, (value - lag(value) OVER w) / nullif(epoch(ts) - epoch(lag(ts) OVER w), 0) AS v
    FROM c WINDOW w AS (PARTITION BY series ORDER BY ts)
), hits AS (
    SELECT k.name, x.series, x.ts, x.v AS value FROM g x JOIN ks k ON x.series = k.id AND NOT k.rate
    WHERE {cond}
    UNION ALL
    SELECT k.name, x.series, x.ts, x.v AS value FROM rates x JOIN ks k ON x.series = k.id AND k.rate
    WHERE x.v >= 0 AND ({cond})
), isl AS (
    SELECT name, series, ts, value,
           round(epoch(ts) / {step}) - row_number() OVER (PARTITION BY name, series ORDER BY ts) AS grp
    FROM hits
), ep AS (
    SELECT name, series, min(ts) AS first_true, max(ts) AS end_ts, count(*) AS n,
           arg_max(value, ts) AS value
    FROM isl GROUP BY name, series, grp
)
SELECT '{source}' AS source, ep.name AS check_name, r.kind, k.device, k.entity, r.severity,
       ep.first_true + to_microseconds(CAST((r.for_n - 1) * {step} * 1e6 AS BIGINT)) AS start_ts,
       ep.end_ts, ep.end_ts >= ? AS active, 1::BIGINT AS n, ep.value, r.label AS message, r.hold_s
FROM ep JOIN {rules} r ON ep.name = r.name JOIN telemetry_series k ON k.id = ep.series
WHERE ep.n >= r.for_n
"""


class AnomalyDetector:
    """Robust z-score: (value - median) / max(1.4826 * MAD, floors) over each series' baseline.

    The baseline is the `baseline_s` before the last `recent_s`, thinned to at most
    `max_baseline_samples` evenly spaced samples per series; recent samples whose
    z-score stays beyond `z` for `for_s` fire. Median and MAD ignore the odd spike.

    All rules run as one query over a table of the rules (their windows, strides and
    floors as columns): a query per rule cost DuckDB a few ms of planning each.
    """

    name = "anomaly"
    # Median and MAD only for series whose recent samples could fire (`_ANOMALY_SHORT`);
    # False works them out for every series (what the tests compare the shortcut with).
    prefilter = True

    def __init__(self, config: DetectionConfig) -> None:
        self.config = config
        self.rules = [r for r in config.anomalies if r.enabled]

    def wants(self, ctx: DetectContext) -> tuple[list[Window], list[Look]]:
        """What `detect` reads first (see `run_detectors`)."""
        if not self.rules:
            return [], []
        return [(ctx.since, ctx.now), *(self._window(ctx, r) for r in self.rules)], []

    def detect(self, ctx: DetectContext) -> pa.Table:
        if not self.rules:
            return empty_episodes()
        windows = [self._window(ctx, r) for r in self.rules]
        # The latest sample (nothing to score without one) and each baseline's first
        # sample (it sets the rule's stride), in one statement.
        (_, latest), *baselines = ctx.sample_bounds([(ctx.since, ctx.now), *windows])
        if latest is None:
            return empty_episodes()
        step = self.config.settings.sample_s
        strides = [
            self._stride(rule, first, recent_start)
            for rule, (first, _), (_, recent_start) in zip(self.rules, baselines, windows, strict=True)
        ]
        sql = (_ANOMALY_SHORT if self.prefilter else _ANOMALY).format(
            step=step,
            rules=Store.SCAN,
            islands=_ISLANDS.format(step=step, source=self.name, rules=_ONE_ROW_A_RULE),
        )
        params: list[object] = [ctx.now, latest]
        return _episodes_of(ctx.store, sql, params, self._rules_table(windows, strides))

    @staticmethod
    def _window(ctx: DetectContext, rule: AnomalyRule) -> tuple[datetime, datetime]:
        """(baseline start, recent start) of one rule."""
        recent_start = ctx.now - timedelta(seconds=rule.recent_s)
        return recent_start - timedelta(seconds=rule.baseline_s), recent_start

    def _stride(self, rule: AnomalyRule, first: datetime | None, recent_start: datetime) -> int:
        """Every how many sample steps a baseline sample is kept (at most `max_baseline_samples`)."""
        if first is None:
            return 1
        samples = (recent_start - first).total_seconds() / self.config.settings.sample_s
        return max(1, math.ceil(samples / rule.max_baseline_samples))

    def _rules_table(self, windows: list[tuple[datetime, datetime]], strides: list[int]) -> pa.Table:
        """One row per rule and metric: the rule's windows, stride and floors."""
        step = self.config.settings.sample_s
        at = [(n, m) for n, r in enumerate(self.rules) for m in r.metrics]
        rules = [self.rules[n] for n, _ in at]
        return pa.table(
            {
                "rid": pa.array([n for n, _ in at], pa.int32()),
                "name": pa.array([r.name for r in rules], pa.string()),
                "metric": pa.array([m for _, m in at], pa.string()),
                "kind": pa.array([metric_kind(m) for _, m in at], pa.string()),
                "severity": pa.array([r.severity for r in rules], pa.string()),
                "for_n": pa.array([max(1, round(self.config.for_s(r) / step)) for r in rules], pa.int64()),
                "hold_s": pa.array([self.config.hold_s(r) for r in rules], pa.float64()),
                "label": pa.array([f"robust z-score beyond {r.z:g}" for r in rules], pa.string()),
                "base_start": pa.array([windows[n][0] for n, _ in at], pa.timestamp("us")),
                "recent_start": pa.array([windows[n][1] for n, _ in at], pa.timestamp("us")),
                "stride": pa.array([strides[n] for n, _ in at], pa.int64()),
                "min_baseline": pa.array([r.min_baseline for r in rules], pa.int64()),
                "min_scale": pa.array([r.min_scale for r in rules], pa.float64()),
                "rel_scale": pa.array([r.rel_scale for r in rules], pa.float64()),
                "z": pa.array([r.z for r in rules], pa.float64()),
                "direction": pa.array([r.direction for r in rules], pa.string()),
            }
        )


# Every anomaly rule at once: `{rules}` has one row per rule and metric (its windows,
# stride and floors; read as `Store.SCAN`). A series' baseline and z-scores are per rule.
# `_ANOMALY` is the long way: median and MAD of every watched series.
_ANOMALY_SERIES = """
WITH rm AS (
    SELECT rid, name, metric, kind, base_start, recent_start, stride, min_baseline,
           min_scale, rel_scale, z, direction, z * min_scale * 0.999 AS reach
    FROM {rules}
), ser AS (
    SELECT rm.*, k.id AS series, k.device, k.entity FROM telemetry_series k JOIN rm ON k.metric = rm.metric
)"""
_ANOMALY_SCORE = """
bs AS (
    SELECT s.rid, t.series, t.value FROM telemetry_samples t JOIN {scored} s ON t.series = s.series
    WHERE t.ts > s.base_start AND t.ts <= s.recent_start
      AND CAST(floor(epoch(t.ts) / {step}) AS BIGINT) % s.stride = 0
), rs AS (
    SELECT s.rid, t.series, t.ts, t.value FROM telemetry_samples t JOIN {scored} s ON t.series = s.series
    WHERE t.ts > s.recent_start AND t.ts <= ?
), base AS (
    SELECT bs.rid, bs.series, median(bs.value) AS med, mad(bs.value) AS mad
    FROM bs JOIN ser ON ser.rid = bs.rid AND ser.series = bs.series
    GROUP BY bs.rid, bs.series
    HAVING count(*) >= any_value(ser.min_baseline)
), z AS (
    SELECT ser.name, ser.kind, ser.z AS thr, ser.direction, ser.device, ser.entity, s.ts, s.value,
           (s.value - b.med) / greatest(1.4826 * b.mad, ser.min_scale,
                                        ser.rel_scale * abs(b.med)) AS z
    FROM rs s JOIN base b ON b.rid = s.rid AND b.series = s.series
    JOIN ser ON ser.rid = s.rid AND ser.series = s.series
), hits AS (
    SELECT name, kind, device, entity, ts, value FROM z
    WHERE CASE direction WHEN 'up' THEN z > thr WHEN 'down' THEN z < -thr ELSE abs(z) > thr END
), {islands}
"""
_ANOMALY = _ANOMALY_SERIES + ", " + _ANOMALY_SCORE.replace("{scored}", "ser")

# The short way (`AnomalyDetector.prefilter`): median and MAD (holistic aggregates:
# every baseline value of every series kept and sorted) are worked out only for the
# series that could fire. A recent sample fires only if it is further than
# `z * min_scale` from the median (the scale is never below `min_scale`), and the
# median lies between the baseline's min and max: so a series whose recent samples all
# stay within `z * min_scale` (less a margin for rounding) of its baseline's range
# cannot fire, and min/max (a cheap streaming aggregate) rule it out. `NOT (x <= bound)`
# keeps a series whose values are NaN or infinite. (Reading baseline and recent
# samples in one scan for the min/max, measured paired, cost as much or a little more.)
_ANOMALY_SHORT = _ANOMALY.replace(
    "), base AS (",
    """), cand AS (
    SELECT b.rid, b.series FROM (
        SELECT rid, series, min(value) AS lo, max(value) AS hi FROM bs GROUP BY rid, series
    ) b JOIN (
        SELECT rid, series, min(value) AS lo, max(value) AS hi FROM rs GROUP BY rid, series
    ) r ON r.rid = b.rid AND r.series = b.series
    JOIN ser ON ser.rid = b.rid AND ser.series = b.series
    WHERE (ser.direction <> 'down' AND NOT (r.hi - b.lo <= ser.reach))
       OR (ser.direction <> 'up' AND NOT (b.hi - r.lo <= ser.reach))
), base AS (""",
).replace(
    "FROM bs JOIN ser", "FROM bs JOIN cand ON cand.rid = bs.rid AND cand.series = bs.series\n    JOIN ser"
)
# What `_ISLANDS` needs of each anomaly rule (its table has a row per rule and metric).
_ONE_ROW_A_RULE = f"(SELECT DISTINCT name, severity, for_n, hold_s, label FROM {Store.SCAN})"


class SyslogDetector:
    """Tag + regex rules over the `events` table; a clearing message ends the episode."""

    name = "syslog"
    # The matched events are grouped into episodes in Python (tens of rows: DuckDB's window
    # and grouping cost ~10 ms on so few); False groups them in SQL (the tests compare).
    group_in_python = True

    def __init__(self, config: DetectionConfig) -> None:
        self.config = config
        self.rules = [r for r in config.syslog if r.enabled]
        self._pattern_table: pa.Table | None = None

    def wants(self, ctx: DetectContext) -> tuple[list[Window], list[Look]]:
        """What `detect` reads first (see `run_detectors`)."""
        return [], ([self._tagged(ctx)] if self.rules else [])

    def _tagged(self, ctx: DetectContext) -> Look:
        """Whether an event with a rule's tag is in the window (1, else NULL): most passes
        have none, and this cheap look spares them the matching query (which costs DuckDB
        ~10 ms even on no rows)."""
        patterns = self._patterns()
        tags = sorted(
            {
                f"{f}-{sev}-{m}"  # as the join below compares them (severity a number)
                for f, sev, m in zip(
                    patterns["facility"].to_pylist(),
                    patterns["severity"].to_pylist(),
                    patterns["mnemonic"].to_pylist(),
                    strict=True,
                )
            }
        )
        return (
            "SELECT 1 FROM events WHERE ts > ? AND ts <= ? AND facility || '-' || severity || '-' "
            f"|| mnemonic IN ({', '.join('?' for _ in tags)}) LIMIT 1",
            (ctx.since, ctx.now, *tags),
        )

    def detect(self, ctx: DetectContext) -> pa.Table:
        if not self.rules:
            return empty_episodes()
        patterns = self._patterns()
        if ctx.look(self._tagged(ctx)) is None:
            return empty_episodes()
        # The entity: a rule's fixed one, or its pattern's `entity` group (whose index
        # regexp_extract needs as a constant: one branch per index in use).
        groups = sorted({g for g in patterns["grp"].to_pylist() if g})
        extract = " ".join(f"WHEN {g} THEN regexp_extract(ev.message, p.pattern, {g})" for g in groups)
        entity = f"coalesce(p.fixed, CASE p.grp {extract} END)" if groups else "p.fixed"
        # A pattern with an entity group matched where it extracts a non-empty entity
        # (rows with an empty one are dropped): only fixed-entity patterns need
        # `regexp_matches`, a second regex (compiled again for each row: the pattern is
        # a column) on every event.
        head = f"""
        WITH ev AS (
            SELECT rowid AS rid, * FROM events WHERE ts > ? AND ts <= ?
        ), m AS (
            SELECT p.up, p.name, ev.device, {entity} AS entity, ev.ts, ev.rid, ev.message
            FROM ev JOIN {Store.SCAN} p ON ev.facility = p.facility AND ev.severity = p.severity
                                     AND ev.mnemonic = p.mnemonic
            WHERE p.grp <> 0 OR regexp_matches(ev.message, p.pattern)
        )"""
        if self.group_in_python:
            matched = read(
                ctx.store, head + " SELECT * FROM m WHERE entity <> ''", [ctx.since, ctx.now], patterns
            )
            rows = self._episodes(matched, ctx.now)
            return pa.Table.from_pylist(rows, schema=EPISODE_SCHEMA) if rows else empty_episodes()
        # A clear ends the run of raises before it: numbering each row by the clears
        # *before* it puts a clear in the group of the raises it ends, so one GROUP BY
        # gives each episode its raises and its clear (no second pass and join).
        sql = f"""{head}, marked AS (
            SELECT *, coalesce(sum(1 - up) OVER (PARTITION BY name, device, entity ORDER BY ts, rid
                                                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                               0) AS grp
            FROM m WHERE entity <> ''
        ), ep AS (
            SELECT name, device, entity, min(ts) FILTER (WHERE up = 1) AS start_ts,
                   max(ts) FILTER (WHERE up = 1) AS last_raise,
                   count(*) FILTER (WHERE up = 1) AS n,
                   arg_max(message, ts) FILTER (WHERE up = 1) AS message,
                   min(ts) FILTER (WHERE up = 0) AS clear_ts
            FROM marked GROUP BY name, device, entity, grp
        )
        SELECT '{self.name}' AS source, ep.name AS check_name, r.kind, ep.device, ep.entity,
               r.severity, ep.start_ts,
               coalesce(ep.clear_ts, CASE WHEN r.has_clear THEN ?::TIMESTAMP
                                          ELSE ep.last_raise END) AS end_ts,
               r.has_clear AND ep.clear_ts IS NULL AS active, ep.n, NULL::DOUBLE AS value,
               ep.message, r.hold_s
        FROM ep JOIN (SELECT DISTINCT name, rule_kind AS kind, rule_severity AS severity, hold_s,
                             has_clear FROM {Store.SCAN}) r ON ep.name = r.name
        WHERE ep.n > 0
        """
        return _episodes_of(ctx.store, sql, [ctx.since, ctx.now, ctx.now], patterns)

    def _episodes(self, matched: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
        """Episodes from the matched raises (up=1) and clears (up=0), as the SQL way groups
        them: per rule, device and entity in (ts, rowid) order, a clear ends the run of
        raises before it. An episode's message is its latest raise's (of raises logged at
        the same instant, the one stored last; DuckDB's `arg_max` may take either)."""
        runs: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for m in sorted(matched, key=lambda m: (m["ts"], m["rid"])):
            runs.setdefault((m["name"], m["device"], m["entity"]), []).append(m)
        rules = {r.name: r for r in self.rules}
        out = []
        for (name, device, entity), members in runs.items():
            rule = rules[name]
            groups: list[list[dict[str, Any]]] = [[]]
            for m in members:
                groups[-1].append(m)
                if m["up"] == 0:  # a clear closes its group
                    groups.append([])
            for group in groups:
                raises = [m for m in group if m["up"] == 1]
                if not raises:
                    continue
                clear_ts = min((m["ts"] for m in group if m["up"] == 0), default=None)
                worded = [m for m in raises if m["message"] is not None]
                has_clear = rule.clear is not None
                out.append(
                    {
                        "source": self.name,
                        "check_name": name,
                        "kind": rule.kind,
                        "device": device,
                        "entity": entity,
                        "severity": rule.severity,
                        "start_ts": raises[0]["ts"],
                        "end_ts": clear_ts
                        if clear_ts is not None
                        else (now if has_clear else raises[-1]["ts"]),
                        "active": has_clear and clear_ts is None,
                        "n": len(raises),
                        "value": None,
                        "message": worded[-1]["message"] if worded else None,
                        "hold_s": self.config.hold_s(rule),
                    }
                )
        return out

    def _patterns(self) -> pa.Table:
        if self._pattern_table is None:
            self._pattern_table = self._make_patterns()
        return self._pattern_table

    def _make_patterns(self) -> pa.Table:
        """One row per pattern: a rule's raise (up=1) and clear (up=0) message, with the tag
        it must come with, where its entity is, and its rule's kind, severity, hold time and
        whether it has a clear. Matched in one join over the events: a UNION of one regexp
        SELECT per pattern cost DuckDB ~1.5 ms of planning each."""
        rows: dict[str, list[object]] = {
            k: []
            for k in (
                "up", "name", "facility", "severity", "mnemonic", "pattern", "grp", "fixed",
                "rule_kind", "rule_severity", "hold_s", "has_clear",
            )
        }  # fmt: skip

        def add(rule: SyslogRule, pattern: str, up: int, tag: str) -> None:
            facility, severity, mnemonic = tag.split("-", 2)
            for key, value in (
                ("up", up), ("name", rule.name), ("facility", facility), ("severity", int(severity)),
                ("mnemonic", mnemonic), ("pattern", pattern), ("fixed", rule.entity),
                ("grp", 0 if rule.entity is not None else rule.entity_group(pattern)),
                ("rule_kind", rule.kind), ("rule_severity", rule.severity),
                ("hold_s", self.config.hold_s(rule)), ("has_clear", rule.clear is not None),
            ):  # fmt: skip
                rows[key].append(value)

        for rule in self.rules:
            add(rule, rule.pattern, 1, rule.tag)
            if rule.clear is not None:
                add(rule, rule.clear, 0, rule.clear_tag or rule.tag)
        types = {
            "up": pa.int32(), "severity": pa.int32(), "grp": pa.int32(), "hold_s": pa.float64(),
            "has_clear": pa.bool_(),
        }  # fmt: skip
        return pa.table({k: pa.array(v, types.get(k, pa.string())) for k, v in rows.items()})


class ProbeDetector:
    """Failed synthetic pings (see `intake.probes`): one episode per run of failures."""

    name = "probe"

    def __init__(self, config: DetectionConfig) -> None:
        self.config = config

    def wants(self, ctx: DetectContext) -> tuple[list[Window], list[Look]]:
        """What `detect` reads first (see `run_detectors`)."""
        return [], ([self._seen(ctx)] if any(r.enabled for r in self.config.probe_checks) else [])

    @staticmethod
    def _seen(ctx: DetectContext) -> Look:
        """How many probes the window holds, the first and last, and whether one failed."""
        return (
            "SELECT {'n': count(*), 'first': min(ts), 'last': max(ts), "
            "'failed': coalesce(bool_or(success_pct = 0), false)} FROM probe_results "
            "WHERE scope = ? AND ts > ? AND ts <= ? AND status IN ('ok', 'failed')",
            (ctx.scope, ctx.since, ctx.now),
        )

    def detect(self, ctx: DetectContext) -> pa.Table:
        checks = [r for r in self.config.probe_checks if r.enabled]
        if not checks:
            return empty_episodes()
        # Episodes are runs of failed probes: without one in the window there are none
        # (a cheap look, most passes, instead of the query's ~15 ms of DuckDB).
        seen = ctx.look(self._seen(ctx))
        if seen is None or not seen["failed"]:
            return empty_episodes()
        # The episodes depend on nothing but the probes in the window. A later pass over
        # an unchanged table (say `recheck`, which sends no probes) whose window holds
        # the same probes gets the same episodes: both windows are intervals that contain
        # the first and last of them, so they hold the same rows. `remember` forgets
        # them as soon as any statement writes `probe_results`.
        rules = tuple((r.name, r.target, r.route, r.severity, self.config.hold_s(r)) for r in checks)
        key = ("probe episodes", ctx.scope, rules)
        window = (seen["n"], seen["first"], seen["last"])
        kept = ctx.store.recall(key)
        if kept is not None and kept[0] == window:
            return kept[1]  # type: ignore[no-any-return]
        episodes = self._episodes(ctx, checks)
        ctx.store.remember(key, (window, episodes), tables=("probe_results",))
        return episodes

    def _episodes(self, ctx: DetectContext, checks: list[ProbeRule]) -> pa.Table:
        """The episodes of the window's probes: grouped in Python (a few hundred rows: the
        query's windows cost DuckDB ~15 ms on so few), or by `_episodes_sql` when Python
        could pick differently from it (see `_runs`)."""
        probes = ctx.store.query(
            "SELECT ts, kind, device, entity, success_pct, route, target, vantage FROM probe_results "
            "WHERE scope = ? AND ts > ? AND ts <= ? AND status IN ('ok', 'failed')",
            [ctx.scope, ctx.since, ctx.now],
        )
        rows = self._runs(probes, checks)
        if rows is None:
            return self._episodes_sql(ctx, checks)
        return pa.Table.from_pylist(rows, schema=EPISODE_SCHEMA) if rows else empty_episodes()

    def _runs(self, probes: list[dict[str, Any]], checks: list[ProbeRule]) -> list[dict[str, Any]] | None:
        """`_episodes_sql`'s rows: per target (kind, device, entity), each run of failed
        probes (success 0) between answered ones (success above 0). None where the SQL's
        answer is not fixed by the rows, so Python must not choose: two probes of a target
        at one instant (their order is open), a success that is not a number (DuckDB
        orders NaN above every number), or a run probed from several vantage lists (the
        order `string_agg(DISTINCT ...)` joins them in is open)."""
        targets: dict[tuple[Any, Any, Any], list[dict[str, Any]]] = {}
        for p in probes:
            pct = p["success_pct"]
            if pct is None or math.isnan(pct):
                return None
            targets.setdefault((p["kind"], p["device"], p["entity"]), []).append(p)
        out = []
        for (kind, device, entity), seen in targets.items():
            seen.sort(key=lambda p: p["ts"])
            if len({p["ts"] for p in seen}) < len(seen):
                return None
            runs: dict[int, list[dict[str, Any]]] = {}
            answered = 0
            for p in seen:
                answered += p["success_pct"] > 0
                if p["success_pct"] == 0:
                    runs.setdefault(answered, []).append(p)
            for run in runs.values():
                vantages = {p["vantage"] for p in run if p["vantage"] is not None}
                if len(vantages) > 1:
                    return None
                route = run[-1]["route"] if run[-1]["route"] is not None else "unknown"
                fits = [r for r in checks if r.target == kind and r.route in ("any", route)]
                if not fits:
                    continue
                rule = min(fits, key=lambda r: (r.route == "any", r.name))
                named = [p["target"] for p in run if p["target"] is not None]
                target, vantage = (named[-1] if named else None), next(iter(vantages), None)
                out.append(
                    {
                        "source": self.name,
                        "check_name": rule.name,
                        "kind": kind,
                        "device": device,
                        "entity": entity,
                        "severity": rule.severity,
                        "start_ts": run[0]["ts"],
                        "end_ts": run[-1]["ts"],
                        "active": run[-1]["ts"] == seen[-1]["ts"],
                        "n": len(run),
                        "value": 0.0,
                        "message": None
                        if target is None or vantage is None
                        else f"ping {target} from {vantage}: no answer; route {route}",
                        "hold_s": self.config.hold_s(rule),
                    }
                )
        return out

    def _episodes_sql(self, ctx: DetectContext, checks: list[ProbeRule]) -> pa.Table:
        rules = pa.table(
            {
                "target_kind": pa.array([r.target for r in checks], pa.string()),
                "route": pa.array([r.route for r in checks], pa.string()),
                "name": pa.array([r.name for r in checks], pa.string()),
                "severity": pa.array([r.severity for r in checks], pa.string()),
                "hold_s": pa.array([self.config.hold_s(r) for r in checks], pa.float64()),
            }
        )
        sql = f"""
        WITH p AS (
            SELECT *, sum(CASE WHEN success_pct > 0 THEN 1 ELSE 0 END) OVER (
                PARTITION BY kind, device, entity ORDER BY ts ROWS UNBOUNDED PRECEDING) AS grp,
                max(ts) OVER (PARTITION BY kind, device, entity) AS last_probe
            FROM probe_results WHERE scope = ? AND ts > ? AND ts <= ? AND status IN ('ok', 'failed')
        ), ep AS (
            SELECT kind, device, entity, min(ts) AS start_ts, max(ts) AS end_ts, count(*) AS n,
                   max(ts) = any_value(last_probe) AS active,
                   arg_max(coalesce(route, 'unknown'), ts) AS route,
                   arg_max(target, ts) AS target, string_agg(DISTINCT vantage, ',') AS vantages
            FROM p WHERE success_pct = 0 GROUP BY kind, device, entity, grp
        ), matched AS (
            SELECT ep.*, r.name, r.severity, r.hold_s, row_number() OVER (
                PARTITION BY ep.kind, ep.device, ep.entity, ep.start_ts
                ORDER BY (r.route = 'any'), r.name) AS pick
            FROM ep JOIN {Store.SCAN} r ON ep.kind = r.target_kind
                AND (r.route = 'any' OR r.route = ep.route)
        )
        SELECT '{self.name}' AS source, name AS check_name, kind, device, entity, severity,
               start_ts, end_ts, active, n, 0.0::DOUBLE AS value,
               'ping ' || target || ' from ' || vantages || ': no answer; route ' || route
                   AS message, hold_s
        FROM matched WHERE pick = 1
        """
        return _episodes_of(ctx.store, sql, [ctx.scope, ctx.since, ctx.now], rules)


DETECTORS.register("threshold", ThresholdDetector)
DETECTORS.register("anomaly", AnomalyDetector)
DETECTORS.register("syslog", SyslogDetector)
DETECTORS.register("probe", ProbeDetector)
