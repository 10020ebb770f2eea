"""`netops-agent doctor`: check the database's records for contradictions."""

from __future__ import annotations

import typer

from netops_agent.cli.common import (
    DbOption,
    JsonOption,
    console,
    err_console,
    open_store,
    print_json,
    settings,
)


def doctor(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Check that the records agree (tickets, changes, alerts, incidents).

    Resolved tickets' changes are in the lab, no ticket is stuck in progress, no alert is
    orphaned, and incidents close with their tickets.

    If a run, solve or resume was killed, doctor first settles what it left (as the next
    such command would): tickets it was working are marked `interrupted` with a note.

    Exit code 0 when consistent (warnings such as an unfinished eval are listed), 1 when
    a problem is found. Otherwise read-only.
    """
    from netops_agent import recovery
    from netops_agent.doctor import report

    with open_store(db, read_only=True) as store:
        left = recovery.unfinished(store)
    settled = None
    if left is not None:
        # A lab writer marked itself running. Once we hold the writer lock, that writer is
        # gone (the kernel drops the lock with its process): settle as its next start would.
        # A live one is waited for, saying so.
        from netops_agent.settings import lock_wait_s
        from netops_agent.store.writer import writer_lock

        path = settings(db).db_path
        with writer_lock(path, "doctor", wait_s=lock_wait_s(), on_wait=_say), open_store(db) as store:
            settled = recovery.settle(store)
    with open_store(db, read_only=True) as store:
        data = report(store)
    data["settled"] = settled.line() if settled else None
    if settled and not as_json:
        console.print(f"[yellow]recovered[/]: {settled.line()}", highlight=False)
    if as_json:
        print_json(data)
    else:
        _render(data)
    if not data["ok"]:
        raise typer.Exit(1)


def _say(msg: str) -> None:
    err_console.print(f"[dim]{msg}[/]", highlight=False)


def _render(data: dict) -> None:
    n = len(data["checks"])
    for w in data["warnings"]:
        console.print(f"[yellow]warning[/] {w['problem']}\n  fix: {w['fix']}", highlight=False)
    for p in data["problems"]:
        console.print(f"[red]problem[/] [{p['check']}] {p['problem']}\n  fix: {p['fix']}", highlight=False)
    if data["ok"]:
        console.print(f"[green]ok[/]: {data['database']} passes {n} consistency checks", highlight=False)
    else:
        k = len(data["problems"])
        console.print(f"[red]{k} problem(s)[/] in {data['database']} ({n} checks)", highlight=False)
