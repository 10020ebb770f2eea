"""Background jobs: `run` a scenario, `solve` the lab, lab actions (`lab up`, `lab inject`)."""

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from netops_agent.serve.errors import HttpError
from netops_agent.serve.security import require_write

router = APIRouter(prefix="/api/v1", tags=["jobs"])


NAME = r"^[A-Za-z0-9][A-Za-z0-9._/:-]{0,63}$"  # a device, interface or peer address


class JobRequest(BaseModel):
    kind: Literal["run", "solve", "lab-up", "inject"] = Field(
        "run",
        description=(
            "run: a built-in scenario; solve: the agent works the lab as it is; "
            "lab-up: a fresh twin; inject: a fault into the lab"
        ),
    )
    scenario: str = Field("demo", max_length=40, description="A built-in suite (run).")
    seed: int | None = Field(None, ge=0, le=2**31, description="Topology seed (run, lab-up).")
    dry_run: bool = Field(False, description="Diagnose and plan, change nothing (run, solve).")
    profile: Literal["small", "medium", "large"] = Field("small", description="Twin size (lab-up).")
    fault: str | None = Field(None, max_length=40, description="Fault slug, see /api/v1/faults (inject).")
    device: str | None = Field(None, pattern=NAME, description="Target device (inject; default: auto).")
    interface: str | None = Field(None, pattern=NAME)
    peer: str | None = Field(None, pattern=NAME)


def builtin_suites() -> list[str]:
    from importlib import resources

    root = resources.files("netops_agent") / "data" / "suites"
    return sorted(p.name.removesuffix(".yaml") for p in root.iterdir() if p.name.endswith(".yaml"))


def job_args(req: JobRequest) -> list[str]:
    """The `netops-agent` command line for a job (validated here, before anything starts)."""
    if req.kind == "run":
        suites = [s for s in builtin_suites() if s != "frr-smoke"]
        if req.scenario not in suites:
            raise HttpError(400, f"unknown scenario {req.scenario!r}; choose one of: {', '.join(suites)}")
        args = ["run", "--scenario", req.scenario]
        if req.seed is not None:
            args += ["--seed", str(req.seed)]
        return args + (["--dry-run"] if req.dry_run else [])
    if req.kind == "solve":
        return ["solve"] + (["--dry-run"] if req.dry_run else [])
    if req.kind == "lab-up":
        return ["lab", "up", "--profile", req.profile] + (
            ["--seed", str(req.seed)] if req.seed is not None else []
        )
    from netops_agent.catalog import CATALOG

    if req.fault not in CATALOG:
        raise HttpError(400, f"unknown fault {req.fault!r}; choose one of: {', '.join(CATALOG)}")
    args = ["lab", "inject", req.fault]
    for opt in ("device", "interface", "peer"):
        value = getattr(req, opt)
        if value:
            args += [f"--{opt}", value]
    return args


def start_job(request: Request, req: JobRequest) -> dict[str, Any]:
    job = request.app.state.jobs.start(req.kind, job_args(req))
    return job.as_dict()


@router.post("/jobs", status_code=202, dependencies=[Depends(require_write)])
def create_job(request: Request, req: JobRequest) -> dict[str, Any]:
    """Start `netops-agent run|solve|lab up|lab inject` in the background; poll the job's id."""
    return start_job(request, req)


@router.get("/jobs")
def jobs(request: Request) -> list[dict[str, Any]]:
    return [j.as_dict() | {"result": None} for j in request.app.state.jobs.jobs.values()]


@router.get("/jobs/{job_id}")
def job(job_id: str, request: Request) -> dict[str, Any]:
    """A job's state, progress (from its log) and, when done, the command's JSON result."""
    return request.app.state.jobs.get(job_id).as_dict()
