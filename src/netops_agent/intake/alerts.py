"""Alerts: fingerprint, deduplicate, word and auto-clear detector episodes, in DuckDB.

An alert is identified by its fingerprint (source, device, entity, check). Episodes
with the same fingerprint that follow each other within the rule's hold time are one
alert: `count` says how often the condition (re)appeared, `first_seen`/`last_seen`
bound it. An alert stays `active` while its condition holds and for `hold_s` after
it clears, then it is `cleared` (auto-clear) with `cleared_at`. Re-running intake over
overlapping data updates alerts in place instead of duplicating them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from netops_agent.intake.columns import ALERT_COLUMNS
from netops_agent.intake.config import DetectionConfig, Rule, severity_rank
from netops_agent.store import Store


def fingerprint(source: str, device: str, entity: str, check: str) -> str:
    """Stable identity of an alert; the same formula as the SQL in `record_alerts`."""
    return hashlib.md5(f"{source}|{device}|{entity}|{check}".encode()).hexdigest()[:16]


@dataclass
class AlertStats:
    new: int = 0
    updated: int = 0
    cleared: int = 0
    active: int = 0


_CANDIDATES = """
WITH e AS (
    SELECT md5(source || '|' || device || '|' || entity || '|' || check_name)[1:16] AS fingerprint,
           * FROM _episodes
), ex AS (
    SELECT id, fingerprint, last_seen FROM alerts WHERE scope = ? AND state = 'active'
), j AS (
    SELECT e.*, ex.id AS ex_id, ex.last_seen AS ex_last FROM e LEFT JOIN ex USING (fingerprint)
), o AS (
    SELECT *, CASE WHEN start_ts > max(end_ts) OVER (
                  PARTITION BY fingerprint ORDER BY start_ts, end_ts
                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                  + to_microseconds(CAST(hold_s * 1e6 AS BIGINT)) THEN 1 ELSE 0 END AS brk
    FROM j
), g AS (
    SELECT *, sum(brk) OVER (PARTITION BY fingerprint ORDER BY start_ts, end_ts
                             ROWS UNBOUNDED PRECEDING) AS island
    FROM o
), c AS (
    SELECT fingerprint, island, any_value(source) AS source, any_value(check_name) AS check_name,
           any_value(kind) AS kind, any_value(device) AS device, any_value(entity) AS entity,
           any_value(severity) AS severity, min(start_ts) AS first_seen, max(end_ts) AS last_seen,
           sum(n) AS n, sum(CASE WHEN ex_last IS NULL OR start_ts > ex_last THEN n ELSE 0 END) AS n_new,
           bool_or(active) AS holding, arg_max(value, end_ts) AS value,
           arg_max(message, end_ts) AS raw_message, max(hold_s) AS hold_s,
           any_value(ex_id) AS ex_id, any_value(ex_last) AS ex_last
    FROM g GROUP BY fingerprint, island
)
SELECT *,
       holding OR ?::TIMESTAMP < last_seen + to_microseconds(CAST(hold_s * 1e6 AS BIGINT)) AS live,
       ex_id IS NOT NULL AND island = 0
           AND first_seen <= ex_last + to_microseconds(CAST(hold_s * 1e6 AS BIGINT)) AS cont
FROM c ORDER BY first_seen, device, entity, check_name
"""


def record_alerts(
    store: Store, episodes: pa.Table, config: DetectionConfig, *, scope: str, now: datetime
) -> AlertStats:
    """Merge detector episodes into the `alerts` table (one transaction)."""
    stats = AlertStats()
    store.register("_episodes", episodes)
    try:
        cands = store.arrow(_CANDIDATES, [scope, now])
    finally:
        store.unregister("_episodes")
    rows = _worded(cands.to_pylist(), config)
    holds = pa.table(
        {
            "check_name": pa.array([r.name for r in config.rules()], pa.string()),
            "hold_s": pa.array([config.hold_s(r) for r in config.rules()], pa.float64()),
        }
    )
    with store.transaction():
        cont = [r for r in rows if r["cont"]]
        fresh = [r for r in rows if not r["cont"]]
        if cont:
            _update(store, cont)
        if fresh:
            _insert(store, fresh, scope)
        stats.cleared = _expire(store, holds, scope, now, {r["ex_id"] for r in cont})
    stats.new, stats.updated = len(fresh), len(cont)
    stats.active = int(
        store.scalar("SELECT count(*) FROM alerts WHERE scope = ? AND state = 'active'", [scope])
    )
    return stats


def _worded(rows: list[dict[str, Any]], config: DetectionConfig) -> list[dict[str, Any]]:
    """Word each alert from its rule and settle its state (alerts are few: plain Python)."""
    for r in rows:
        r["detail"] = r["raw_message"]
        r["message"] = word(config.rule(r["check_name"]), r, config)
        r["state"] = "active" if r["live"] else "cleared"
        r["cleared_at"] = None if r["live"] else r["last_seen"] + timedelta(seconds=r["hold_s"])
    return rows


def place(alert: dict[str, Any]) -> str:
    """Where an alert was seen, in words."""
    device, entity, kind = alert["device"], alert["entity"], alert.get("kind")
    if kind == "bgp":
        return f"{device} -> {entity}"
    if kind in ("device", "config"):
        return device
    if kind == "prefix":
        return f"{entity} behind {device}"
    return f"{device} {entity}"


class _Blank(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return ""


def word(
    rule: Rule | None,
    alert: dict[str, Any],
    config: DetectionConfig | None = None,
    *,
    template: str | None = None,
    **extra: Any,
) -> str:
    """Format a rule's wording (default: its symptom) for one alert; never fails."""
    raw = alert.get("raw_message") or alert.get("detail") or ""
    text = template if template is not None else (rule.symptom if rule else "")
    fields = _Blank(
        device=alert["device"],
        entity=alert["entity"],
        where=place(alert),
        check=alert["check_name"],
        detail=raw,
        value=alert["value"] if alert.get("value") is not None else 0.0,
    )
    if rule is not None and config is not None:
        fields.update(config.pattern_fields(rule, raw))
    fields.update(extra)
    try:
        if text:
            return text.format_map(fields)
    except (ValueError, IndexError, TypeError):
        pass
    return f"{alert['check_name']} on {place(alert)}"


def _update(store: Store, rows: list[dict[str, Any]]) -> None:
    tbl = pa.Table.from_pylist(
        [
            {
                "id": r["ex_id"],
                "n_new": r["n_new"],
                "last_seen": r["last_seen"],
                "state": r["state"],
                "cleared_at": r["cleared_at"],
                "value": r["value"],
                "message": r["message"],
                "detail": r["detail"],
                "severity": r["severity"],
            }
            for r in rows
        ],
        schema=pa.schema(
            [
                ("id", pa.string()),
                ("n_new", pa.int64()),
                ("last_seen", pa.timestamp("us")),
                ("state", pa.string()),
                ("cleared_at", pa.timestamp("us")),
                ("value", pa.float64()),
                ("message", pa.string()),
                ("detail", pa.string()),
                ("severity", pa.string()),
            ]
        ),
    )
    store.register("_upd", tbl)
    try:
        store.execute(
            "UPDATE alerts SET count = alerts.count + u.n_new, "
            "last_seen = greatest(alerts.last_seen, u.last_seen), state = u.state, "
            "cleared_at = u.cleared_at, value = u.value, message = u.message, "
            "detail = u.detail, severity = u.severity FROM _upd u WHERE alerts.id = u.id"
        )
    finally:
        store.unregister("_upd")


def _insert(store: Store, rows: list[dict[str, Any]], scope: str) -> None:
    ids = [
        r["id"]
        for r in store.query(
            "SELECT 'AL' || lpad(CAST(nextval('alert_seq') AS VARCHAR), 6, '0') AS id FROM range(?)",
            [len(rows)],
        )
    ]
    tbl = pa.Table.from_pylist(
        [
            {
                "id": aid,
                "fingerprint": r["fingerprint"],
                "scope": scope,
                "source": r["source"],
                "device": r["device"],
                "entity": r["entity"],
                "kind": r["kind"],
                "check_name": r["check_name"],
                "severity": r["severity"],
                "state": r["state"],
                "count": r["n"],
                "first_seen": r["first_seen"],
                "last_seen": r["last_seen"],
                "cleared_at": r["cleared_at"],
                "value": r["value"],
                "message": r["message"],
                "detail": r["detail"],
                "incident_id": None,
            }
            for aid, r in zip(sorted(ids, key=lambda i: int(i[2:])), rows, strict=True)
        ],
        schema=_alert_schema(),
    )
    store.append_arrow("alerts", tbl)


def _alert_schema() -> pa.Schema:
    ts = pa.timestamp("us")
    types = {"count": pa.int32(), "first_seen": ts, "last_seen": ts, "cleared_at": ts, "value": pa.float64()}
    return pa.schema([(c, types.get(c, pa.string())) for c in ALERT_COLUMNS])


def _expire(store: Store, holds: pa.Table, scope: str, now: datetime, keep: set[str]) -> int:
    """Clear active alerts whose condition has been gone for their hold time."""
    store.register("_holds", holds)
    try:
        rows = store.query(
            "SELECT a.id FROM alerts a JOIN _holds h USING (check_name) "
            "WHERE a.scope = ? AND a.state = 'active' "
            "AND ?::TIMESTAMP >= a.last_seen + to_microseconds(CAST(h.hold_s * 1e6 AS BIGINT))",
            [scope, now],
        )
        ids = [r["id"] for r in rows if r["id"] not in keep]
        if ids:
            store.execute(
                "UPDATE alerts SET state = 'cleared', cleared_at = alerts.last_seen "
                "+ to_microseconds(CAST(h.hold_s * 1e6 AS BIGINT)) FROM _holds h "
                "WHERE alerts.check_name = h.check_name AND list_contains(?, alerts.id)",
                [ids],
            )
    finally:
        store.unregister("_holds")
    return len(ids)


# --- reads and links used by correlation, the runner and the CLI ------------------------------
def active_alerts(store: Store, scope: str, *, unassigned: bool = True) -> list[dict[str, Any]]:
    sql = "SELECT * FROM alerts WHERE scope = ? AND state = 'active'"
    if unassigned:
        sql += " AND incident_id IS NULL"
    return store.query(sql + " ORDER BY first_seen, id", [scope])


def assign(store: Store, links: dict[str, str]) -> None:
    """Set alerts' incident ids: {alert id: incident id}."""
    if not links:
        return
    tbl = pa.table(
        {"id": pa.array(list(links), pa.string()), "incident_id": pa.array(list(links.values()), pa.string())}
    )
    store.register("_links", tbl)
    try:
        store.execute("UPDATE alerts SET incident_id = l.incident_id FROM _links l WHERE alerts.id = l.id")
    finally:
        store.unregister("_links")


def relink_alerts(store: Store, renamed: dict[str, str]) -> None:
    """Follow incident renumbering (the runner numbers incidents across cases)."""
    changed = {old: new for old, new in renamed.items() if old != new}
    if not changed:
        return
    tbl = pa.table(
        {"old": pa.array(list(changed), pa.string()), "new": pa.array(list(changed.values()), pa.string())}
    )
    store.register("_renamed", tbl)
    try:
        store.execute(
            "UPDATE alerts SET incident_id = r.new FROM _renamed r WHERE alerts.incident_id = r.old"
        )
    finally:
        store.unregister("_renamed")


def worst(severities: list[str]) -> str:
    return max(severities, key=severity_rank) if severities else "info"
