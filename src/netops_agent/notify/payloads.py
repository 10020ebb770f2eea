"""Bodies for each kind of target, built from one ticket event.

- `generic`: our own JSON (the ticket, the event, the incident), for any webhook.
- `slack`: `{"text": ...}`, which Slack, Mattermost and Rocket.Chat incoming webhooks take.
- `servicenow`: the shape of a ServiceNow Table API `incident` record (POST to
  `/api/now/table/incident`): short_description, description, urgency, impact, state,
  correlation_id (our ticket id, so updates find the same record), work_notes.
- `jira`: the shape of a Jira REST `issue` body (POST to `/rest/api/2/issue`): fields
  with project key, summary, description, issuetype and priority, labels.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# ServiceNow: 1 high, 2 medium, 3 low; incident states 1 new, 2 in progress, 3 on hold, 6 resolved
_SN_URGENCY = {"critical": "1", "high": "1", "medium": "2", "low": "3"}
_SN_STATE = {
    "new": "1",
    "in_progress": "2",
    "awaiting_approval": "3",
    "escalated": "2",
    "resolved": "6",
    "closed": "7",
}
_JIRA_PRIORITY = {"critical": "Highest", "high": "High", "medium": "Medium", "low": "Low"}


def generic(ticket: dict[str, Any], event: dict[str, Any], incident: dict[str, Any]) -> dict[str, Any]:
    return {
        "source": "netops-agent",
        "ticket": {
            k: ticket.get(k)
            for k in ("id", "incident_id", "state", "severity", "assignment_group", "short_description")
        },
        "event": {
            "id": event["id"],
            "kind": event["kind"],
            "from_state": event.get("from_state"),
            "to_state": event.get("to_state"),
            "note": event.get("note"),
            "ts": str(event.get("ts")),
        },
        "incident": {k: incident.get(k) for k in ("id", "title", "severity", "device", "interface", "peer")},
    }


def slack(ticket: dict[str, Any], event: dict[str, Any], incident: dict[str, Any]) -> dict[str, Any]:
    moved = f"{event.get('from_state') or 'opened'} -> {event['to_state']}"
    head = f"*{ticket['id']}* ({incident.get('id', '')}) {moved}"
    title = incident.get("title") or ticket.get("short_description") or ""
    note = (event.get("note") or "").strip()
    return {"text": "\n".join(x for x in (head, title, note[:500]) if x)}


def servicenow(ticket: dict[str, Any], event: dict[str, Any], incident: dict[str, Any]) -> dict[str, Any]:
    sev = str(ticket.get("severity") or "medium")
    return {
        "short_description": (incident.get("title") or ticket.get("short_description") or "")[:160],
        "description": incident.get("summary") or "",
        "urgency": _SN_URGENCY.get(sev, "2"),
        "impact": _SN_URGENCY.get(sev, "2"),
        "state": _SN_STATE.get(str(event["to_state"]), "2"),
        "category": "network",
        "assignment_group": ticket.get("assignment_group") or "",
        "correlation_id": ticket["id"],
        "correlation_display": "netops-agent",
        "cmdb_ci": incident.get("device") or "",
        "work_notes": event.get("note") or "",
    }


def jira(ticket: dict[str, Any], event: dict[str, Any], incident: dict[str, Any]) -> dict[str, Any]:
    sev = str(ticket.get("severity") or "medium")
    return {
        "fields": {
            "project": {"key": "NOC"},
            "summary": f"[{ticket['id']}] {(incident.get('title') or ticket.get('short_description') or '')}"[
                :250
            ],
            "description": "\n\n".join(
                x
                for x in (
                    incident.get("summary") or "",
                    f"State: {event.get('from_state') or 'new'} -> {event['to_state']}",
                    event.get("note") or "",
                )
                if x
            ),
            "issuetype": {"name": "Incident"},
            "priority": {"name": _JIRA_PRIORITY.get(sev, "Medium")},
            "labels": ["netops-agent", str(event["to_state"])],
        }
    }


FORMATS: dict[str, Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], dict[str, Any]]] = {
    "generic": generic,
    "slack": slack,
    "servicenow": servicenow,
    "jira": jira,
}
