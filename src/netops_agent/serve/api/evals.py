"""Stored evaluation runs and their cases."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from netops_agent.evaluation.views import case_detail, list_runs, run_detail
from netops_agent.serve.db import StoreAccess
from netops_agent.serve.deps import access

router = APIRouter(prefix="/api/v1", tags=["evaluation"])
Access = Annotated[StoreAccess, Depends(access)]


@router.get("/evals")
def evals(
    db: Access, suite: str | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    """Evaluation runs kept by `netops-agent eval`, newest first."""
    with db.read() as store:
        return list_runs(store, suite=suite, limit=limit)


@router.get("/evals/{run_id}")
def eval_run(run_id: str, db: Access) -> dict[str, Any]:
    with db.read() as store:
        return run_detail(store, run_id)


@router.get("/evals/{run_id}/cases/{case_id}")
def eval_case(run_id: str, case_id: str, db: Access) -> dict[str, Any]:
    with db.read() as store:
        return case_detail(store, run_id, case_id)
