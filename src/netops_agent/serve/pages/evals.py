"""Evaluation: runs side by side per agent, each run's cases, one case's record."""

import json
from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from netops_agent.evaluation.views import case_detail, latest_per_agent, list_runs, run_detail
from netops_agent.serve.db import StoreAccess
from netops_agent.serve.deps import access
from netops_agent.serve.pages import render

router = APIRouter(include_in_schema=False)
Access = Annotated[StoreAccess, Depends(access)]


@router.get("/evals", response_class=HTMLResponse)
def evals_page(request: Request, db: Access) -> HTMLResponse:
    with db.read() as store:
        latest = latest_per_agent(store)
        runs = list_runs(store, limit=200)
    suites: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in latest:
        suites[r["suite"]].append(r)
    tables = []
    for suite, rs in suites.items():
        keys = list(dict.fromkeys(k for r in rs for k in r["metrics"]))
        tables.append({"suite": suite, "runs": rs, "metric_keys": keys})
    return render(request, "evals.html", {"tables": tables, "runs": runs})


@router.get("/evals/{run_id}", response_class=HTMLResponse)
def eval_run_page(request: Request, run_id: str, db: Access) -> HTMLResponse:
    with db.read() as store:
        d = run_detail(store, run_id)
    return render(request, "eval_run.html", {"run": d["run"], "cases": d["cases"]})


@router.get("/evals/{run_id}/cases/{case_id}", response_class=HTMLResponse)
def eval_case_page(request: Request, run_id: str, case_id: str, db: Access) -> HTMLResponse:
    with db.read() as store:
        c = case_detail(store, run_id, case_id)
    detail = json.dumps(c.pop("detail"), indent=2, default=str)
    return render(request, "eval_case.html", {"run_id": run_id, "c": c, "detail": detail})
