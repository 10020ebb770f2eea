"""Read views over intake's records for the CLI: alerts, incidents and one incident's story.

`incident_detail` joins what intake recorded (alerts, suspects) with what happened
next (the ticket and its events, the agent's tool calls and changes) into one dict
with a time-ordered `timeline`.
"""

from __future__ import annotations

from typing import Any

from netops_agent.errors import NotFoundError
from netops_agent.intake.columns import ALERT_COLUMNS
from netops_agent.store import Store
from netops_agent.store.query import count, decode_json, page

# What the CLI shows of an alert: every stored column but the internal fingerprint and detail.
ALERT_FIELDS = tuple(c for c in ALERT_COLUMNS if c not in ("fingerprint", "detail"))


def list_alerts(
    store: Store,
    *,
    state: str | None = None,
    device: str | None = None,
    incident: str | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Alerts, newest first, optionally filtered by state, device or incident."""
    return page(
        store,
        f"SELECT {', '.join(ALERT_FIELDS)} FROM alerts",
        {"state": state, "device": device, "incident_id": incident},
        "first_seen DESC, id DESC",
        limit=limit,
    )


INCIDENT_LIST_SQL = (
    "SELECT i.id, i.title, i.severity, i.device, i.interface, i.peer, i.alerts, i.status, "
    "i.opened_at, i.suspects, t.id AS ticket_id, t.state AS ticket_state "
    "FROM incidents i LEFT JOIN tickets t ON t.incident_id = i.id"
)
INCIDENTS = f"SELECT * FROM ({INCIDENT_LIST_SQL})"


def list_incidents(
    store: Store,
    *,
    state: str | None = None,
    severity: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Incidents with their top suspect, alert count and ticket state (by id; a page of
    them with `limit`/`offset`; `state` is the ticket's state, or the incident's without one)."""
    rows = page(store, INCIDENTS, _incident_filter(state, severity), "id", limit=limit, offset=offset)
    for r in rows:
        suspects = decode_json(r.pop("suspects")) or []
        r["top_suspect"] = suspects[0] if suspects else None
    return rows


def count_incidents(store: Store, *, state: str | None = None, severity: str | None = None) -> int:
    return count(store, INCIDENTS, _incident_filter(state, severity))


def incident_counts(store: Store) -> list[dict[str, Any]]:
    """How many incidents per severity and (ticket) state."""
    return store.query(
        f"SELECT severity, coalesce(ticket_state, status) AS state, count(*) AS n "
        f"FROM ({INCIDENT_LIST_SQL}) GROUP BY ALL ORDER BY severity, state"
    )


def _incident_filter(state: str | None, severity: str | None) -> dict[str, Any]:
    return {"coalesce(ticket_state, status)": state, "severity": severity}


def incident_detail(store: Store, incident_id: str) -> dict[str, Any]:
    """Everything about one incident: alerts, suspects, ticket, actions and a timeline."""
    inc = store.query_one("SELECT * FROM incidents WHERE id = ?", [incident_id])
    if inc is None:
        known = [r["id"] for r in store.query("SELECT id FROM incidents ORDER BY id LIMIT 20")]
        raise NotFoundError(
            f"no incident {incident_id!r}; known incidents: "
            f"{', '.join(known) or 'none (run `netops-agent run` first)'}"
        )
    inc["suspects"] = decode_json(inc["suspects"]) or []
    alerts = store.query(
        f"SELECT {', '.join(ALERT_FIELDS)} FROM alerts WHERE incident_id = ? ORDER BY first_seen, id",
        [incident_id],
    )
    ticket = store.query_one("SELECT * FROM tickets WHERE incident_id = ?", [incident_id])
    events = (
        store.query("SELECT * FROM ticket_events WHERE ticket_id = ? ORDER BY id", [ticket["id"]])
        if ticket
        else []
    )
    calls = store.query(
        "SELECT id, ts, device, tool, command, risk, status, error, duration_ms "
        "FROM tool_calls WHERE incident_id = ? ORDER BY id",
        [incident_id],
    )
    changes = store.query(
        "SELECT id, ts, device, tool, risk, lines, status, kind FROM changes "
        "WHERE incident_id = ? ORDER BY id",
        [incident_id],
    )
    if ticket:
        ticket["diagnosis"] = decode_json(ticket.get("diagnosis"))
    return {
        "incident": inc,
        "alerts": alerts,
        "ticket": ticket,
        "ticket_events": events,
        "tool_calls": calls,
        "actions": actions(changes, calls),
        "timeline": timeline(alerts, events, calls),
    }


def actions(changes: list[dict[str, Any]], calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Changes to the network, plus non-read tool calls that left no change row."""
    recorded = {(c["device"], c["tool"], c["ts"]) for c in changes}
    extra = [c for c in calls if c["risk"] != "read" and (c["device"], c["tool"], c["ts"]) not in recorded]
    return sorted(changes + extra, key=lambda r: (r["ts"], r["id"]))


def timeline(
    alerts: list[dict[str, Any]], events: list[dict[str, Any]], calls: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One time-ordered list: alerts raised/cleared, ticket events, tool calls."""
    items = [
        {"ts": a["first_seen"], "what": "alert", "text": f"{a['severity']}: {a['message']}"} for a in alerts
    ]
    items += [
        {"ts": a["cleared_at"], "what": "alert cleared", "text": a["message"]}
        for a in alerts
        if a["cleared_at"] is not None
    ]
    items += [
        {
            "ts": e["ts"],
            "what": f"ticket {e['kind']}",
            "text": (f"{e['from_state'] or '-'} -> {e['to_state']}: " if e["kind"] == "transition" else "")
            + (e["note"] or ""),
        }
        for e in events
    ]
    items += [
        {
            "ts": c["ts"],
            "what": f"tool ({c['risk']})",
            "text": f"{c['device']}: {c['command'] or c['tool']} [{c['status']}]",
        }
        for c in calls
    ]
    return sorted(items, key=lambda i: (i["ts"] is None, i["ts"]))
