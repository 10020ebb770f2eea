"""Approvals: the proposed change as a diff, Approve / Deny with a comment, then Resume."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from netops_agent.safety.approvals import ApprovalService, decide_and_note
from netops_agent.serve.db import StoreAccess
from netops_agent.serve.deps import access, lab_clock
from netops_agent.serve.errors import HttpError
from netops_agent.serve.pages import form_write, render, see_other

router = APIRouter(include_in_schema=False)
Access = Annotated[StoreAccess, Depends(access)]


def _page(request: Request, db: StoreAccess, **extra: object) -> HTMLResponse:
    with db.read() as store:
        rows = ApprovalService(store).list()
        states = {
            r["ticket_id"]: store.scalar("SELECT state FROM tickets WHERE id = ?", [r["ticket_id"]])
            for r in rows
        }
    rows.sort(key=lambda r: (r["state"] != "pending", r["id"]))
    decided = [
        r
        for r in rows
        if r["state"] in ("approved", "denied") and states.get(r["ticket_id"]) == "awaiting_approval"
    ]
    return render(
        request, "approvals.html", {"rows": rows, "ticket_states": states, "decided": decided, **extra}
    )


@router.get("/approvals", response_class=HTMLResponse)
def approvals_page(request: Request, db: Access) -> HTMLResponse:
    return _page(request, db)


@router.post("/approvals/{approval_id}/decide")
def decide(
    request: Request,
    approval_id: str,
    db: Access,
    decision: Annotated[str, Form()],
    comment: Annotated[str, Form(max_length=2000)] = "",
    by: Annotated[str, Form(max_length=80)] = "",
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    form_write(request, csrf_token)
    if decision not in ("approve", "deny"):
        raise HttpError(400, f"decision must be approve or deny (got {decision!r})")
    with db.write() as store:
        decide_and_note(
            store, approval_id, decision == "approve", by or "dashboard", comment, lab_clock(store)
        )
    return see_other("/approvals")


@router.post("/approvals/resume", response_class=HTMLResponse)
def resume(request: Request, db: Access, csrf_token: Annotated[str | None, Form()] = None) -> HTMLResponse:
    form_write(request, csrf_token)
    from netops_agent.pipeline.interactive import resume_lab  # the agent: a heavy import
    from netops_agent.settings import lock_wait_s
    from netops_agent.store.writer import writer_lock

    # a lab writer, as `netops-agent resume` is: never interleaved with a run or solve
    with writer_lock(db.path, "serve resume", wait_s=lock_wait_s()), db.write() as store:
        results = resume_lab(store)
    return _page(request, db, resumed=results)
