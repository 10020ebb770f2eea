"""Approvals: list, approve, deny, resume (`netops-agent approvals|approve|deny|resume --json`)."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, Field

from netops_agent.safety.approvals import ApprovalService, decide_and_note
from netops_agent.serve.db import StoreAccess
from netops_agent.serve.deps import access, lab_clock
from netops_agent.serve.security import require_write

router = APIRouter(prefix="/api/v1", tags=["approvals"])
Access = Annotated[StoreAccess, Depends(access)]


class Decision(BaseModel):
    by: str = Field("dashboard", min_length=1, max_length=80, description="Who decides.")
    comment: str = Field("", max_length=2000, description="A note for the ticket.")


@router.get("/approvals")
def approvals(db: Access, all: bool = False) -> list[dict[str, Any]]:
    """Approvals waiting for a human (all of them with `?all=true`)."""
    with db.read() as store:
        return ApprovalService(store).list(None if all else "pending")


@router.get("/approvals/{approval_id}")
def approval(approval_id: str, db: Access) -> dict[str, Any]:
    with db.read() as store:
        return ApprovalService(store).get(approval_id)


def decide(db: StoreAccess, approval_id: str, approve: bool, decision: Decision | None) -> dict[str, Any]:
    d = decision or Decision()
    with db.write() as store:
        return decide_and_note(store, approval_id, approve, d.by, d.comment, lab_clock(store))


@router.post("/approvals/{approval_id}/approve", dependencies=[Depends(require_write)])
def approve(
    approval_id: str, db: Access, decision: Annotated[Decision | None, Body()] = None
) -> dict[str, Any]:
    """Approve a paused change; then `resume` carries it out and validates it."""
    return decide(db, approval_id, True, decision)


@router.post("/approvals/{approval_id}/deny", dependencies=[Depends(require_write)])
def deny(approval_id: str, db: Access, decision: Annotated[Decision | None, Body()] = None) -> dict[str, Any]:
    """Deny a paused change: on `resume` the incident is escalated and nothing changes."""
    return decide(db, approval_id, False, decision)


@router.post("/approvals/resume", dependencies=[Depends(require_write)])
def resume(db: Access) -> list[dict[str, Any]]:
    """Carry on every incident whose approval was decided."""
    from netops_agent.pipeline.interactive import resume_lab  # the agent: a heavy import
    from netops_agent.settings import lock_wait_s
    from netops_agent.store.writer import writer_lock

    # a lab writer, as `netops-agent resume` is: never interleaved with a run or solve
    with writer_lock(db.path, "serve resume", wait_s=lock_wait_s()), db.write() as store:
        return resume_lab(store)
