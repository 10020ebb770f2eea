"""Approvals, resume and audit: the human side of change management."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from netops_agent.cli.common import (
    DbOption,
    JsonOption,
    console,
    open_store,
    print_json,
    settings,
    setup_logging,
    writing,
)


def approvals(
    db: DbOption = None,
    all_: Annotated[bool, typer.Option("--all", help="Include decided ones.")] = False,
    as_json: JsonOption = False,
) -> None:
    """List approvals waiting for a human, and approved ones waiting for `resume`.

    Each shows the proposed change as a diff; --all adds denied, expired and executed ones."""
    from netops_agent.safety.approvals import ApprovalService

    with open_store(db, read_only=True) as store:
        rows = ApprovalService(store).list()
    if not all_:  # waiting for a human, or decided and waiting for `resume`
        rows = [r for r in rows if r["state"] in ("pending", "approved")]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("[dim]no approvals waiting (none pending, none approved and not yet resumed)[/]")
        return
    t = Table(title="approvals", show_lines=True)
    for col in ("id", "state", "incident", "ticket", "risk", "why", "proposed change"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(r["id"], r["state"], r["incident_id"], r["ticket_id"], r["risk"], r["reason"], r["diff"])
    console.print(t)
    if any(r["state"] == "approved" for r in rows):
        console.print("approved changes are carried out by [bold]netops-agent resume[/]")
    if any(r["state"] == "pending" for r in rows):
        console.print("approve with [bold]netops-agent approve ID[/], then [bold]netops-agent resume[/]")


def _decide(approval_id: str, approve: bool, by: str | None, comment: str, db: Any, as_json: bool) -> None:
    from netops_agent.lab.sim import persist
    from netops_agent.safety.approvals import decide_and_note

    with open_store(db) as store:
        lab = persist.load(store)
        who = by
        if not who:
            import getpass  # here: `--help` builds this command without asking who is logged in

            who = getpass.getuser()
        row = decide_and_note(store, approval_id, approve, who, comment, lab.now())
    if as_json:
        print_json(row)
    else:
        console.print(
            f"{approval_id} [bold]{row['state']}[/] by {who}; run `netops-agent resume` to carry on"
        )


def approve(
    approval_id: Annotated[str, typer.Argument(help="Approval id, e.g. A-0001.")],
    by: Annotated[str | None, typer.Option(help="Who approves (default: your user name).")] = None,
    comment: Annotated[str, typer.Option(help="A note for the ticket.")] = "",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Approve a paused change."""
    _decide(approval_id, True, by, comment, db, as_json)


def deny(
    approval_id: Annotated[str, typer.Argument(help="Approval id, e.g. A-0001.")],
    by: Annotated[str | None, typer.Option(help="Who denies (default: your user name).")] = None,
    comment: Annotated[str, typer.Option(help="Why, for the ticket.")] = "",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Deny a paused change: the incident is escalated and nothing is changed."""
    _decide(approval_id, False, by, comment, db, as_json)


def resume(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Carry on every incident whose approval was decided (approved: act and validate)."""
    from netops_agent.pipeline.interactive import resume_lab

    cfg = settings(db)
    setup_logging(cfg.log_path, False, cfg.log_source)  # steps go to the log file, not the console
    with writing(db, "resume") as store:
        data = resume_lab(store)
    if as_json:
        print_json(data)
        return
    if not data:
        console.print("[dim]nothing to resume: no decided approvals are waiting[/]")
    for d in data:
        style = "green" if d["outcome"] == "resolved" else "yellow"
        console.print(
            f"{d['approval']} ({d['decision']}) -> {d['id']} [{style}]{d['outcome']}[/]: {d['reason']}"
        )


def audit(
    ref: Annotated[str, typer.Argument(help="An incident id (IM-0001) or ticket id (INC0000001).")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The full timeline of an incident: evidence, decisions, approvals, changes, validation, tickets."""
    from netops_agent.audit import timeline

    with open_store(db, read_only=True) as store:
        events = timeline(store, ref)
    if as_json:
        print_json(events)
        return
    t = Table(title=f"audit {ref}", show_lines=False)
    for col in ("time (lab)", "kind", "device", "what", "status"):
        t.add_column(col, overflow="fold")
    for e in events:
        t.add_row(str(e["ts"])[11:19], e["kind"], e.get("device") or "", e["what"], e.get("status") or "")
    console.print(t)


def register(app: typer.Typer) -> None:
    app.command()(approvals)
    app.command()(approve)
    app.command()(deny)
    app.command()(resume)
    app.command()(audit)
