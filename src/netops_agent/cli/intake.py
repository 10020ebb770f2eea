"""`netops-agent alerts`, `netops-agent incidents`, `netops-agent incident show ID`.

What monitoring raised (deduplicated alerts), how it was grouped (incidents with
ranked suspects) and what happened to each incident (ticket, timeline, actions).
Read-only: every command opens the database read-only.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.panel import Panel
from rich.table import Table

from netops_agent.cli.common import DbOption, JsonOption, console, open_store, print_json

SEV_STYLE = {
    "info": "dim",
    "warning": "cyan",
    "minor": "yellow",
    "major": "bold yellow",
    "critical": "bold red",
    "low": "dim",
    "medium": "white",
    "high": "bold yellow",
}
STATE_STYLE = {
    "active": "red",
    "cleared": "green",
    "resolved": "green",
    "escalated": "yellow",
    "closed": "cyan",
    "awaiting_approval": "magenta",
}

NOWRAP: dict[str, Any] = {"no_wrap": True}

incident_app = typer.Typer(
    help="Look at one incident: alerts, suspects, timeline, ticket, actions.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add `alerts`, `incidents` and `incident show` to the main app."""
    app.command("alerts")(alerts)
    app.command("incidents")(incidents)
    app.add_typer(incident_app, name="incident")


def _store(db: Any) -> Any:
    return open_store(db, read_only=True)


def alerts(
    state: Annotated[str | None, typer.Option(help="Only alerts in this state: active | cleared.")] = None,
    device: Annotated[str | None, typer.Option(help="Only alerts on this device.")] = None,
    incident: Annotated[str | None, typer.Option(help="Only alerts grouped into this incident.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Most recent alerts to show.")] = 200,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Deduplicated alerts raised by the detectors (newest first)."""
    from netops_agent.errors import ConfigError
    from netops_agent.intake.views import list_alerts

    if state not in (None, "active", "cleared"):
        raise ConfigError(f"--state must be active or cleared (got {state!r})")
    with _store(db) as store:
        rows = list_alerts(store, state=state, device=device, incident=incident, limit=limit)
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("[dim]no alerts; run `netops-agent run` first[/]")
        return
    t = Table(title=f"alerts ({len(rows)})", expand=True)
    for col, kw in [
        ("alert", NOWRAP),
        ("sev", NOWRAP),
        ("state", NOWRAP),
        ("check", {"overflow": "fold"}),
        ("message", {"ratio": 1, "overflow": "fold"}),
    ]:
        t.add_column(col, **kw)
    for r in rows:
        t.add_row(
            f"{r['id']}\n[dim]{r['incident_id'] or '-'}[/]",
            _sev(r["severity"]),
            _state(r["state"]),
            f"{r['check_name']}\n[dim]{r['first_seen']:%H:%M:%S} x {r['count']}[/]",
            r["message"],
        )
    console.print(t)


def incidents(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Incidents with their top suspect, alert count and ticket state."""
    from netops_agent.intake.views import list_incidents

    with _store(db) as store:
        rows = list_incidents(store)
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("[dim]no incidents; run `netops-agent run` first[/]")
        return
    t = Table(title=f"incidents ({len(rows)})", expand=True)
    for col, kw in [
        ("incident", NOWRAP),
        ("sev", NOWRAP),
        ("state", NOWRAP),
        ("title, top suspect", {"ratio": 1, "overflow": "fold"}),
        ("alerts", {"justify": "right"}),
    ]:
        t.add_column(col, **kw)
    for r in rows:
        t.add_row(
            f"{r['id']}\n[dim]{r['ticket_id'] or '-'}[/]",
            _sev(r["severity"]),
            _state(r["ticket_state"] or r["status"]),
            f"{r['title']}\n[dim]{_suspect(r['top_suspect'])}[/]",
            str(r["alerts"] or 0),
        )
    console.print(t)


@incident_app.command("show")
def show(
    incident_id: Annotated[str, typer.Argument(help="Incident id, e.g. IM-0001.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """One incident: summary, ranked suspects, alerts, timeline, ticket and actions."""
    from netops_agent.intake.views import incident_detail

    with _store(db) as store:
        data = incident_detail(store, incident_id)
    if as_json:
        print_json(data)
        return
    inc, ticket = data["incident"], data["ticket"]
    head = f"[bold]{inc['title']}[/]\n{inc['summary']}"
    if ticket:
        head += (
            f"\n\nticket [bold]{ticket['id']}[/] {_state(ticket['state'])}"
            f" · group {ticket['assignment_group']}"
            + (f" · runbook {ticket['runbook_id']}" if ticket.get("runbook_id") else "")
        )
        if ticket.get("resolution") or ticket.get("escalation_reason"):
            head += f"\n{ticket.get('resolution') or ticket.get('escalation_reason')}"
    console.print(
        Panel(
            head,
            title=f"{inc['id']} · {_sev(inc['severity'])} · opened {inc['opened_at']:%Y-%m-%d %H:%M:%S}",
            expand=True,
        )
    )
    _suspects(inc["suspects"])
    _alerts_table(data["alerts"])
    _timeline(data["timeline"])
    _actions(data["actions"])


def _suspects(suspects: list[dict[str, Any]]) -> None:
    t = Table(title="suspects (ranked)")
    for col in ("#", "kind", "device", "interface", "peer", "score"):
        t.add_column(col)
    for n, s in enumerate(suspects, 1):
        t.add_row(
            str(n),
            s["kind"],
            s["device"],
            s.get("interface") or "-",
            s.get("peer") or "-",
            f"{s.get('score', 0):.2f}",
        )
    console.print(t)


def _alerts_table(rows: list[dict[str, Any]]) -> None:
    t = Table(title=f"alerts ({len(rows)})", expand=True)
    for col, kw in [
        ("alert", NOWRAP),
        ("sev", NOWRAP),
        ("state", NOWRAP),
        ("check", {"overflow": "fold"}),
        ("message", {"ratio": 1}),
    ]:
        t.add_column(col, **kw)
    for r in rows:
        t.add_row(
            r["id"],
            _sev(r["severity"]),
            _state(r["state"]),
            f"{r['check_name']} x {r['count']}",
            r["message"],
        )
    console.print(t)


def _timeline(items: list[dict[str, Any]]) -> None:
    t = Table(title="timeline (twin clock, UTC)", expand=True)
    t.add_column("time", no_wrap=True)
    t.add_column("what", no_wrap=True)
    t.add_column("detail", ratio=1, min_width=30, overflow="fold")
    for i in items:
        t.add_row(f"{i['ts']:%H:%M:%S}" if i["ts"] else "-", i["what"], i["text"])
    console.print(t)


def _actions(rows: list[dict[str, Any]]) -> None:
    if not rows:
        console.print("[dim]no actions taken on the network[/]")
        return
    t = Table(title="actions", expand=True)
    for col, kw in [
        ("time", NOWRAP),
        ("device", NOWRAP),
        ("tool", {}),
        ("risk", NOWRAP),
        ("status", NOWRAP),
        ("detail", {"ratio": 1, "min_width": 30, "overflow": "fold"}),
    ]:
        t.add_column(col, **kw)
    for r in rows:
        detail = r.get("lines") or r.get("command") or ""
        t.add_row(f"{r['ts']:%H:%M:%S}", r["device"], r["tool"], r["risk"], r["status"] or "-", detail)
    console.print(t)


def _styled(value: str | None, styles: dict[str, str]) -> str:
    if not value:
        return "-"
    style = styles.get(value, "")
    return f"[{style}]{value}[/]" if style else value  # "[]x[/]" is a Rich markup error


def _sev(value: str | None) -> str:
    return _styled(value, SEV_STYLE)


def _state(value: str | None) -> str:
    return _styled(value, STATE_STYLE)


def _suspect(s: dict[str, Any] | None) -> str:
    if not s:
        return "-"
    where = " ".join(x for x in (s["device"], s.get("interface"), s.get("peer")) if x)
    return f"{s['kind']}: {where}"
