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
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from netops_agent.intake.columns import ALERT_COLUMNS
from netops_agent.intake.config import DetectionConfig, Rule, severity_rank
from netops_agent.intake.detectors import read
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


# The merge `merge_episodes` does, as DuckDB SQL over the episodes (read as `Store.SCAN`).
_CANDIDATES = f"""
WITH e AS (
    SELECT md5(source || '|' || device || '|' || entity || '|' || check_name)[1:16] AS fingerprint,
           * FROM {Store.SCAN}
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
    merged, active = _merged(store, episodes, scope=scope, now=now)
    rows = _worded(merged, config)
    holds = pa.table(
        {
            "check_name": pa.array([r.name for r in config.rules()], pa.string()),
            "hold_s": pa.array([config.hold_s(r) for r in config.rules()], pa.float64()),
        }
    )
    hold_by_name = _holds(holds)
    known = active is not None and hold_by_name is not None and now.tzinfo is None
    with store.transaction():
        cont = [r for r in rows if r["cont"]]
        fresh = [r for r in rows if not r["cont"]]
        if cont:
            _update(store, cont)
        fresh_ids = _insert(store, fresh, scope) if fresh else []
        keep = {r["ex_id"] for r in cont}
        ids: list[str] = []
        if known:
            # The scope's active alerts are known: those read before (unless continued:
            # `keep`) and the fresh ones inserted active; which of them expire is decided
            # as `_expire`'s SELECT decides it, without reading them again.
            assert active is not None and hold_by_name is not None
            now_active = {a["id"]: a for a in active if a["id"] not in keep}
            now_active.update(
                (aid, r) for aid, r in zip(fresh_ids, fresh, strict=True) if r["state"] == "active"
            )
            ids = _expiring(now_active.items(), hold_by_name, now)
            if ids:
                _clear(store, holds, ids)
            stats.cleared = len(ids)
        else:
            stats.cleared = _expire(store, holds, scope, now, keep)
    stats.new, stats.updated = len(fresh), len(cont)
    if known:
        assert active is not None
        # After the transaction: the active alerts read before, each continued one as its
        # update left it, the fresh ones inserted active, less those that expired.
        after = {a["id"] for a in active}
        after.update(r["ex_id"] for r in cont if r["state"] == "active")
        after.difference_update(r["ex_id"] for r in cont if r["state"] != "active")
        after.update(aid for aid, r in zip(fresh_ids, fresh, strict=True) if r["state"] == "active")
        stats.active = len(after - set(ids))
    else:
        stats.active = int(
            store.scalar("SELECT count(*) FROM alerts WHERE scope = ? AND state = 'active'", [scope])
        )
    return stats


def candidates(store: Store, episodes: pa.Table, *, scope: str, now: datetime) -> list[dict[str, Any]]:
    """Episodes merged into alert candidates: `_CANDIDATES`' rows, in its order."""
    return _merged(store, episodes, scope=scope, now=now)[0]


def _merged(
    store: Store, episodes: pa.Table, *, scope: str, now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None]:
    """Episodes merged into alert candidates (`_CANDIDATES`' rows, in its order), and the
    scope's active alerts (id, fingerprint, last_seen, check_name) read to merge them
    (None where the SQL merged them).

    Episodes are few (tens a pass) and DuckDB's windows and groups cost ~20 ms on so few
    rows, so the merge runs in Python; only the scope's active alerts are read. The query
    decides, as it always did, when two active alerts share a fingerprint (its join then
    pairs each episode with both) or an episode lacks a field the merge needs (a plugin
    detector's: SQL's NULL rules apply)."""
    rows = episodes.to_pylist()
    if any(e[c] is None for e in rows for c in _NEEDED):
        return _candidates_sql(store, episodes, scope=scope, now=now), None
    active = store.query(
        "SELECT id, fingerprint, last_seen, check_name FROM alerts WHERE scope = ? AND state = 'active'",
        [scope],
    )
    existing = {a["fingerprint"]: a for a in active}
    if len(existing) < len(active):
        return _candidates_sql(store, episodes, scope=scope, now=now), None
    return merge_episodes(rows, existing, now), active


def _holds(holds: pa.Table) -> dict[str, list[float]] | None:
    """Hold times by check name (a list: `_expire` joins every row of a name), or None if
    one is not a finite number (then DuckDB's cast decides what happens)."""
    out: dict[str, list[float]] = {}
    for name, hold_s in zip(holds["check_name"].to_pylist(), holds["hold_s"].to_pylist(), strict=True):
        if hold_s is None or not math.isfinite(hold_s):
            return None
        out.setdefault(name, []).append(hold_s)
    return out


def _expiring(alerts: Any, holds: dict[str, list[float]], now: datetime) -> list[str]:
    """`_expire`'s SELECT over known (id, alert) pairs: one id per hold row of the alert's
    check whose time has come (`now >= last_seen + hold`; NULL never does)."""
    return [
        aid
        for aid, a in alerts
        for hold_s in holds.get(a["check_name"], ())
        if a["last_seen"] is not None and now >= a["last_seen"] + _hold(hold_s)
    ]


# What `merge_episodes` needs on every episode (`value` and `message` may be missing).
_NEEDED = ("source", "check_name", "device", "entity", "start_ts", "end_ts", "active", "n", "hold_s")


def _candidates_sql(store: Store, episodes: pa.Table, *, scope: str, now: datetime) -> list[dict[str, Any]]:
    return read(store, _CANDIDATES, [scope, now], episodes)


def merge_episodes(
    episodes: list[dict[str, Any]], existing: dict[str, dict[str, Any]], now: datetime
) -> list[dict[str, Any]]:
    """`_CANDIDATES` over episode rows, with `existing` the active alert (id, last_seen) of
    each fingerprint. Episodes of one fingerprint ordered by (start, end) form islands:
    one starts a new island when it begins more than `hold_s` after every earlier one
    ended. An island is one alert candidate; island 0 continues the existing alert when
    it begins within the hold time of that alert's last sighting."""
    by_print: dict[str, list[dict[str, Any]]] = {}
    for e in episodes:
        key = fingerprint(e["source"], e["device"], e["entity"], e["check_name"])
        by_print.setdefault(key, []).append(e)
    out: list[dict[str, Any]] = []
    for key, eps in by_print.items():
        eps.sort(key=lambda e: (e["start_ts"], e["end_ts"]))
        ex = existing.get(key)
        ex_id, ex_last = (ex["id"], ex["last_seen"]) if ex else (None, None)
        islands: list[list[dict[str, Any]]] = []
        reach: datetime | None = None  # the latest end so far
        for e in eps:
            if reach is None or not e["start_ts"] > reach + _hold(e["hold_s"]):
                if not islands:
                    islands.append([])
                islands[-1].append(e)
            else:
                islands.append([e])
            reach = e["end_ts"] if reach is None else max(reach, e["end_ts"])
        for number, members in enumerate(islands):
            out.append(_candidate(key, number, members, ex_id, ex_last, now))
    out.sort(key=lambda r: (r["first_seen"], r["device"], r["entity"], r["check_name"]))
    return out


def _hold(hold_s: float) -> timedelta:
    """`to_microseconds(CAST(hold_s * 1e6 AS BIGINT))`: DuckDB casts a DOUBLE to an integer
    rounding halves to even (2.5 -> 2, 3.5 -> 4; a DECIMAL literal's halves go away from
    0, but `hold_s` is a DOUBLE column), as Python's `round` does."""
    return timedelta(microseconds=round(hold_s * 1e6))


def _latest(members: list[dict[str, Any]], column: str) -> Any:
    """DuckDB's `arg_max(column, end_ts)`: the value at the latest end, NULLs skipped."""
    kept = [m for m in members if m[column] is not None]
    return max(kept, key=lambda m: m["end_ts"])[column] if kept else None


def _candidate(
    key: str,
    island: int,
    members: list[dict[str, Any]],
    ex_id: str | None,
    ex_last: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    head = members[0]
    first_seen = min(m["start_ts"] for m in members)
    last_seen = max(m["end_ts"] for m in members)
    hold_s = max(m["hold_s"] for m in members)
    holding = any(m["active"] for m in members)
    return {
        "fingerprint": key,
        "island": island,
        **{c: head[c] for c in ("source", "check_name", "kind", "device", "entity", "severity")},
        "first_seen": first_seen,
        "last_seen": last_seen,
        "n": sum(m["n"] for m in members),
        "n_new": sum(m["n"] for m in members if ex_last is None or m["start_ts"] > ex_last),
        "holding": holding,
        "value": _latest(members, "value"),
        "raw_message": _latest(members, "message"),
        "hold_s": hold_s,
        "ex_id": ex_id,
        "ex_last": ex_last,
        "live": holding or now < last_seen + _hold(hold_s),
        "cont": ex_id is not None and island == 0 and first_seen <= ex_last + _hold(hold_s),  # type: ignore[operator]
    }


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
    store.query(
        "UPDATE alerts SET count = alerts.count + u.n_new, "
        "last_seen = greatest(alerts.last_seen, u.last_seen), state = u.state, "
        "cleared_at = u.cleared_at, value = u.value, message = u.message, "
        f"detail = u.detail, severity = u.severity FROM {Store.SCAN} u WHERE alerts.id = u.id",
        scan=tbl,
    )


def _insert(store: Store, rows: list[dict[str, Any]], scope: str) -> list[str]:
    """Insert fresh alerts; their ids, in the order of `rows`."""
    ids = [
        r["id"]
        for r in store.query(
            "SELECT 'AL' || lpad(CAST(nextval('alert_seq') AS VARCHAR), 6, '0') AS id FROM range(?)",
            [len(rows)],
        )
    ]
    ordered = sorted(ids, key=lambda i: int(i[2:]))
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
            for aid, r in zip(ordered, rows, strict=True)
        ],
        schema=_alert_schema(),
    )
    store.append_arrow("alerts", tbl)
    return ordered


def _alert_schema() -> pa.Schema:
    ts = pa.timestamp("us")
    types = {"count": pa.int32(), "first_seen": ts, "last_seen": ts, "cleared_at": ts, "value": pa.float64()}
    return pa.schema([(c, types.get(c, pa.string())) for c in ALERT_COLUMNS])


def _expire(store: Store, holds: pa.Table, scope: str, now: datetime, keep: set[str]) -> int:
    """Clear active alerts whose condition has been gone for their hold time."""
    rows = store.query(
        f"SELECT a.id FROM alerts a JOIN {Store.SCAN} h USING (check_name) "
        "WHERE a.scope = ? AND a.state = 'active' "
        "AND ?::TIMESTAMP >= a.last_seen + to_microseconds(CAST(h.hold_s * 1e6 AS BIGINT))",
        [scope, now],
        scan=holds,
    )
    ids = [r["id"] for r in rows if r["id"] not in keep]
    if ids:
        _clear(store, holds, ids)
    return len(ids)


def _clear(store: Store, holds: pa.Table, ids: list[str]) -> None:
    store.query(
        "UPDATE alerts SET state = 'cleared', cleared_at = alerts.last_seen "
        f"+ to_microseconds(CAST(h.hold_s * 1e6 AS BIGINT)) FROM {Store.SCAN} h "
        "WHERE alerts.check_name = h.check_name AND list_contains(?, alerts.id)",
        [ids],
        scan=holds,
    )


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
    store.query(
        f"UPDATE alerts SET incident_id = l.incident_id FROM {Store.SCAN} l WHERE alerts.id = l.id", scan=tbl
    )


def relink_alerts(store: Store, renamed: dict[str, str]) -> None:
    """Follow incident renumbering (the runner numbers incidents across cases)."""
    changed = {old: new for old, new in renamed.items() if old != new}
    if not changed:
        return
    tbl = pa.table(
        {"old": pa.array(list(changed), pa.string()), "new": pa.array(list(changed.values()), pa.string())}
    )
    store.query(
        f"UPDATE alerts SET incident_id = r.new FROM {Store.SCAN} r WHERE alerts.incident_id = r.old",
        scan=tbl,
    )


def worst(severities: list[str]) -> str:
    return max(severities, key=severity_rank) if severities else "info"
