"""Rich rendering for people; every command also has --json for scripts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.panel import Panel
from rich.table import Table

from netops_agent.cli.common import console

OUTCOME_STYLE = {"resolved": "green", "escalated": "yellow", "no_action": "cyan"}
SEV_STYLE = {"low": "dim", "medium": "white", "high": "bold yellow", "critical": "bold red"}


def run_report(report: dict[str, Any], db: Path, log: Path) -> None:
    t = Table(title=f"netops-agent run: suite {report['suite']}", show_lines=False)
    for col, kw in [
        ("Incident", {"no_wrap": True}),
        ("Sev", {}),
        ("Where", {"overflow": "fold"}),
        ("Diagnosis", {"overflow": "fold"}),
        ("Outcome", {"no_wrap": True}),
    ]:
        t.add_column(col, **kw)
    for inc in report["incidents"]:
        diag = inc["diagnosis"] or {}
        where = inc["device"] + (f" {_short(inc['interface'])}" if inc.get("interface") else "")
        t.add_row(
            inc["id"],
            f"[{SEV_STYLE.get(inc['severity'], '')}]{inc['severity']}[/]",
            where,
            diag.get("type") or "[dim]-[/]",
            f"[{OUTCOME_STYLE.get(inc['outcome'], '')}]{inc['outcome']}[/]"
            + (" [green]verified[/]" if inc["validated"] else "")
            + (" [cyan](approval)[/]" if inc.get("approval") and inc["outcome"] != "resolved" else ""),
        )
    console.print(t)
    for inc in report["incidents"]:
        style = OUTCOME_STYLE.get(inc["outcome"], "")
        console.print(
            f"[{style}]{inc['id']}[/] [dim]{inc['ticket_id']} {inc['runbook'] or ''}[/] {inc['reason']}",
            highlight=False,
        )
    s = report["summary"]
    console.print(
        Panel.fit(
            f"[bold]{s['incidents']}[/] incidents: [green]{s['resolved']} resolved[/] (validated), "
            f"[yellow]{s['escalated']} escalated[/], {s['no_action']} no action; "
            f"{s['tool_calls']} tool calls in {s['wall_s']:.2f} s\n"
            f"database [cyan]{db}[/] (netops-agent show-db) · log [cyan]{log}[/]",
            title="summary",
        )
    )


def _short(ifname: str) -> str:
    return ifname.replace("GigabitEthernet", "Gi")


def table_counts(counts: dict[str, int], db: Path) -> None:
    t = Table(title=f"{db}")
    t.add_column("table")
    t.add_column("rows", justify="right")
    for name, n in counts.items():
        t.add_row(name, f"{n:,}")
    console.print(t)


def rows(table: str, data: list[dict[str, Any]]) -> None:
    if not data:
        console.print(f"[dim]{table}: no rows[/]")
        return
    t = Table(title=table, show_lines=True)
    for col in data[0]:
        t.add_column(col, overflow="fold", max_width=60)
    for r in data:
        t.add_row(*(_cell(v) for v in r.values()))
    console.print(t)


def _cell(v: Any) -> str:
    text = "" if v is None else str(v)
    return text if len(text) <= 300 else text[:297] + "..."


def hits(text: str, data: list[dict[str, Any]]) -> None:
    t = Table(title=f"runbooks for: {text}")
    for col in ("rank", "id", "title", "score", "fault types"):
        t.add_column(col)
    for n, h in enumerate(data, 1):
        t.add_row(str(n), h["id"], h["title"], f"{h['score']:.3f}", ", ".join(h["fault_types"]))
    console.print(t)


def faults(data: list[dict[str, Any]]) -> None:
    t = Table(title="fault catalog v1")
    for col in ("slug", "target", "outcome", "severity", "description"):
        t.add_column(col, overflow="fold")
    for f in data:
        t.add_row(
            f["slug"],
            f["target"],
            f"[{OUTCOME_STYLE.get(f['outcome'], '')}]{f['outcome']}[/]",
            f["severity"],
            f["description"],
        )
    console.print(t)
