"""The incident page: summary, suspects, alerts, the agent's work, timeline, before/after plot."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from netops_agent.intake.views import incident_detail
from netops_agent.safety.approvals import ApprovalService
from netops_agent.serve.db import StoreAccess
from netops_agent.serve.deps import access
from netops_agent.serve.observe import incident_telemetry
from netops_agent.serve.pages import render
from netops_agent.serve.svg import plot_svg

router = APIRouter(include_in_schema=False)
Access = Annotated[StoreAccess, Depends(access)]


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(request: Request, incident_id: str, db: Access) -> HTMLResponse:
    with db.read() as store:
        data = incident_detail(store, incident_id)
        approvals = ApprovalService(store).list(incident_id=incident_id)
    evidence = [c for c in data["tool_calls"] if c["risk"] == "read"]
    return render(
        request,
        "incident.html",
        {
            "d": data,
            "inc": data["incident"],
            "ticket": data["ticket"],
            "evidence": evidence,
            "approvals": approvals,
        },
    )


@router.get("/incidents/{incident_id}/plots", response_class=HTMLResponse)
def incident_plots(request: Request, incident_id: str, db: Access) -> HTMLResponse:
    """The before/after telemetry plots (loaded by the incident page after it shows)."""
    with db.read() as store:
        plot = incident_telemetry(store, incident_id)
    plots = [Markup(plot_svg(p, plot["changes"])) for p in plot["panels"]]
    return render(request, "_plots.html", {"plots": plots, "changes": plot["changes"]})
