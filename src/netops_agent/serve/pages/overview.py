"""Overview: open incidents by severity and state, approvals waiting, last eval scores, jobs."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from netops_agent.catalog import CATALOG
from netops_agent.evaluation.views import latest_per_agent
from netops_agent.intake.views import incident_counts, list_incidents
from netops_agent.safety.approvals import ApprovalService
from netops_agent.serve.api.jobs import JobRequest, builtin_suites, start_job
from netops_agent.serve.db import DatabaseBusy, DatabaseMissing, StoreAccess
from netops_agent.serve.deps import access
from netops_agent.serve.errors import HttpError
from netops_agent.serve.pages import form_write, render, see_other
from netops_agent.serve.security import TOKEN_COOKIE, refuse_cross_site, token_matches

router = APIRouter(include_in_schema=False)
Access = Annotated[StoreAccess, Depends(access)]
SEVERITIES = ("critical", "high", "medium", "low")
STATES = ("new", "in_progress", "awaiting_approval", "escalated", "resolved", "closed")
PAGE = 100


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, db: Access, offset: int = 0) -> HTMLResponse:
    ctx: dict = {"busy": None, "incidents": [], "total": 0, "matrix": {}, "pending": [], "evals": []}
    try:
        with db.read() as store:
            ctx["incidents"] = list_incidents(store, limit=PAGE, offset=max(offset, 0))
            for r in incident_counts(store):
                ctx["matrix"][(r["severity"], r["state"])] = r["n"]
            ctx["total"] = sum(ctx["matrix"].values())
            ctx["pending"] = ApprovalService(store).list("pending")
            ctx["evals"] = latest_per_agent(store)[:8]
    except (DatabaseBusy, DatabaseMissing) as exc:
        ctx["busy"] = str(exc)
    jobs = request.app.state.jobs
    ctx.update(
        severities=SEVERITIES,
        states=STATES,
        offset=max(offset, 0),
        page=PAGE,
        job=jobs.running() or (list(jobs.jobs.values())[-1] if jobs.jobs else None),
        suites=[s for s in builtin_suites() if s != "frr-smoke"],
        faults=sorted(CATALOG),
    )
    return render(request, "overview.html", ctx)


@router.post("/jobs")
def start(
    request: Request,
    kind: Annotated[str, Form()] = "run",
    scenario: Annotated[str, Form()] = "demo",
    profile: Annotated[str, Form()] = "small",
    fault: Annotated[str | None, Form()] = None,
    device: Annotated[str | None, Form()] = None,
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    form_write(request, csrf_token)
    fields = {
        "kind": kind,
        "scenario": scenario,
        "profile": profile,
        "fault": fault,
        "device": device or None,
    }
    try:
        req = JobRequest.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise HttpError(400, f"cannot start that job: {problems}") from None
    start_job(request, req)
    return see_other("/")


@router.get("/jobs/{job_id}/panel", response_class=HTMLResponse)
def job_panel(request: Request, job_id: str, was: str | None = None) -> Response:
    job = request.app.state.jobs.get(job_id)
    response = render(request, "_job.html", {"job": job})
    if was == "running" and job.state != "running":
        response.headers["HX-Refresh"] = "true"  # the run is over: reload the page's data
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html", {"error": None})


@router.post("/login")
def login(request: Request, token: Annotated[str, Form()] = "") -> Response:
    refuse_cross_site(request)
    if not request.app.state.token:
        return see_other("/")
    if not token_matches(request.app.state.token, token):
        return render(request, "login.html", {"error": "wrong token"}, status_code=401)
    response = see_other("/")
    response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
    return response
