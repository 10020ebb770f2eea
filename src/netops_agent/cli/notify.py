"""`netops-agent notifications`: what was sent where, what is dead, and sending again."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from netops_agent.cli.common import DbOption, JsonOption, console, print_json, settings

app = typer.Typer(
    help=(
        "Ticket transitions sent to webhooks (generic JSON, Slack, ServiceNow, Jira).\n\n"
        "Targets come from --notify FILE or $NETOPS_NOTIFY (see docs/receivers.md); "
        "`serve` sends them as tickets move. Without a subcommand: list them."
    ),
    no_args_is_help=False,
    invoke_without_command=True,
)
NotifyOption = Annotated[
    Path | None, typer.Option("--notify", help="Targets YAML (default: $NETOPS_NOTIFY).", show_default=False)
]
STATE_STYLE = {"delivered": "green", "pending": "yellow", "dead": "bold red"}


@app.callback()
def notifications(
    ctx: typer.Context,
    state: Annotated[
        str | None, typer.Option(help="Only this state: pending, delivered or dead.", show_default=False)
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Newest N rows.")] = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List notifications, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    from netops_agent.errors import ConfigError
    from netops_agent.notify.dispatch import list_notifications
    from netops_agent.store import Store

    if state not in (None, "pending", "delivered", "dead"):
        raise ConfigError(f"unknown state {state!r}; choose pending, delivered or dead")
    with Store(settings(db).db_path) as store:
        rows = list_notifications(store, state, limit)
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("[dim]no notifications; configure targets with --notify or $NETOPS_NOTIFY[/]")
        return
    t = Table(title=f"notifications ({len(rows)})", expand=True)
    t.add_column("id", no_wrap=True, justify="right")
    t.add_column("ticket", no_wrap=True)
    t.add_column("target", no_wrap=True)
    t.add_column("state", no_wrap=True)
    t.add_column("tries", justify="right", no_wrap=True)
    t.add_column("transition, last error", ratio=1, overflow="fold")
    for r in rows:
        style = STATE_STYLE.get(r["state"], "")
        detail = r["transition"] + (f"\n[red]{r['last_error']}[/]" if r["last_error"] else "")
        t.add_row(
            str(r["id"]), r["ticket_id"], r["target"], f"[{style}]{r['state']}[/]", str(r["attempts"]), detail
        )
    console.print(t)


@app.command()
def retry(
    ids: Annotated[
        list[int] | None, typer.Argument(help="Notification ids (default: every dead one).")
    ] = None,
    db: DbOption = None,
    notify: NotifyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Queue dead notifications again and send them now."""
    from netops_agent.notify.config import load_notify
    from netops_agent.notify.dispatch import deliver
    from netops_agent.notify.dispatch import retry as requeue
    from netops_agent.store import Store

    cfg = load_notify(notify)
    with Store(settings(db).db_path) as store:
        queued = requeue(store, ids or None)
        stats = deliver(store, cfg) if cfg.targets else None
    result = {"requeued": queued, **(stats.__dict__ if stats else {"delivered": 0})}
    if as_json:
        print_json(result)
    else:
        console.print(
            f"requeued {queued}; delivered {result['delivered']}"
            + ("" if stats else " (no targets configured)")
        )


@app.command()
def send(db: DbOption = None, notify: NotifyOption = None, as_json: JsonOption = False) -> None:
    """One pass: queue new ticket transitions and deliver everything due."""
    from netops_agent.errors import ConfigError
    from netops_agent.notify.config import load_notify
    from netops_agent.notify.dispatch import deliver, enqueue
    from netops_agent.store import Store

    cfg = load_notify(notify)
    if not cfg.targets:
        raise ConfigError("no notification targets; pass --notify FILE or set $NETOPS_NOTIFY")
    with Store(settings(db).db_path) as store:
        queued = enqueue(store, cfg)
        stats = deliver(store, cfg)
    result = {"queued": queued, **stats.__dict__}
    if as_json:
        print_json(result)
    else:
        console.print(
            f"queued {queued}; delivered {stats.delivered}, "
            f"failed {stats.failed} (will retry), dead {stats.dead}"
        )
