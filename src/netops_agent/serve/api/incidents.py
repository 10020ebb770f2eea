"""Incidents, alerts, tickets and the audit timeline (read-only)."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from netops_agent.intake.views import count_incidents, incident_detail, list_alerts, list_incidents
from netops_agent.serve.db import StoreAccess
from netops_agent.serve.deps import access
from netops_agent.serve.observe import incident_telemetry
from netops_agent.tickets import TicketService

router = APIRouter(prefix="/api/v1", tags=["incidents"])
Access = Annotated[StoreAccess, Depends(access)]
TicketState = Literal["new", "in_progress", "awaiting_approval", "resolved", "escalated", "closed", "open"]


@router.get("/incidents")
def incidents(
    db: Access,
    state: TicketState | None = None,
    severity: Literal["low", "medium", "high", "critical"] | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    """Incidents with their top suspect, alert count and ticket state (`netops-agent incidents --json`),
    by id, a page at a time (`limit`, `offset`; `/incidents/count` says how many)."""
    with db.read() as store:
        return list_incidents(store, state=state, severity=severity, limit=limit, offset=offset)


@router.get("/incidents/count")
def incidents_count(db: Access, state: TicketState | None = None) -> dict[str, int]:
    with db.read() as store:
        return {"count": count_incidents(store, state=state)}


@router.get("/incidents/{incident_id}")
def incident(incident_id: str, db: Access) -> dict[str, Any]:
    """One incident: alerts, suspects, ticket, events, actions, timeline (`incident show --json`)."""
    with db.read() as store:
        return incident_detail(store, incident_id)


@router.get("/incidents/{incident_id}/audit")
def incident_audit(incident_id: str, db: Access) -> list[dict[str, Any]]:
    """The full audit timeline (`netops-agent audit ID --json`); a ticket id works too."""
    from netops_agent.audit import timeline  # with the recorder's pyarrow: not needed to start

    with db.read() as store:
        return timeline(store, incident_id)


@router.get("/incidents/{incident_id}/telemetry")
def incident_plot_data(incident_id: str, db: Access) -> dict[str, Any]:
    """Telemetry of the incident's entities that moved, with the applied changes' times."""
    with db.read() as store:
        return incident_telemetry(store, incident_id)


@router.get("/alerts")
def alerts(
    db: Access,
    state: Literal["active", "cleared"] | None = None,
    device: str | None = None,
    incident: str | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> list[dict[str, Any]]:
    """Deduplicated alerts, newest first (`netops-agent alerts --json`)."""
    with db.read() as store:
        return list_alerts(store, state=state, device=device, incident=incident, limit=limit)


@router.get("/tickets")
def tickets(
    db: Access,
    state: TicketState | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    with db.read() as store:
        return TicketService(store).list(state, limit, offset)


@router.get("/tickets/{ticket_id}")
def ticket(ticket_id: str, db: Access) -> dict[str, Any]:
    """A ticket with its events (every transition and work note)."""
    with db.read() as store:
        svc = TicketService(store)
        return {"ticket": svc.get(ticket_id), "events": svc.events(ticket_id)}


@router.get("/tickets/{ticket_id}/events")
def ticket_events(ticket_id: str, db: Access) -> list[dict[str, Any]]:
    with db.read() as store:
        svc = TicketService(store)
        svc.get(ticket_id)
        return svc.events(ticket_id)
