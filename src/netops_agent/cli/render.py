"""Rich rendering for people; every command also has --json for scripts.

Rich is imported by the functions that draw: `present` (the JSON path) needs none of it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from netops_agent.cli.common import console

if TYPE_CHECKING:
    from rich.table import Table

OUTCOME_STYLE = {
    "resolved": "green",
    "escalated": "yellow",
    "awaiting_approval": "magenta",
    "no_action": "cyan",
}
SEV_STYLE = {"low": "dim", "medium": "white", "high": "bold yellow", "critical": "bold red"}
SEV_SHORT = {"low": "low", "medium": "med", "high": "high", "critical": "crit"}


def present(report: dict[str, Any]) -> dict[str, Any]:
    """`awaiting_approval` as an outcome of its own (text, JSON and summary).

    The agent reports an incident it paused for a human as escalated with an approval
    id; people and scripts need to tell it apart from a hand-off, so it gets its own
    outcome. `escalated: true` stays on it (a human must act), and the summary counts it
    under `awaiting_approval` only, so the outcome counts add up to `incidents`.
    """
    for inc in report.get("incidents", []):
        if inc.get("approval") and inc.get("outcome") not in ("resolved", "no_action"):
            inc["outcome"] = "awaiting_approval"
            inc["escalated"] = True
    s = report.get("summary")
    if s is not None:
        outs = [inc["outcome"] for inc in report["incidents"]]
        for key in ("resolved", "escalated", "awaiting_approval", "no_action"):
            s[key] = outs.count(key)
    return report


def run_report(report: dict[str, Any], db: Path, log: Path) -> None:
    """One line per incident at 80 columns: columns that do not fit are dropped by priority
    (severity, then place); ids and outcomes are never cut; reasons follow, word-wrapped."""
    from rich.panel import Panel

    rows = []
    for inc in report["incidents"]:
        diag = (inc["diagnosis"] or {}).get("type") or "-"
        where = inc["device"] + (f" {_short(inc['interface'])}" if inc.get("interface") else "")
        sev = inc["severity"]
        out = inc["outcome"] + (" ✓" if inc["validated"] else "")
        rows.append(
            {
                "Incident": (inc["id"], ""),
                "Sev": (SEV_SHORT.get(sev, sev), SEV_STYLE.get(sev, "")),
                "Where": (where, ""),
                "Diagnosis": (diag, ""),
                "Outcome": (out, OUTCOME_STYLE.get(inc["outcome"], "")),
            }
        )
    console.print(
        fit_table(
            f"netops-agent run: suite {report['suite']}",
            ["Incident", "Sev", "Where", "Diagnosis", "Outcome"],
            rows,
            drop_order=["Sev", "Where"],
            keep=("Incident", "Outcome"),
        )
    )
    from rich.table import Table

    for inc in report["incidents"]:
        style = OUTCOME_STYLE.get(inc["outcome"], "")
        line = Table.grid(padding=(0, 1, 0, 0))  # the reason wraps under itself, not under the id
        line.add_column(no_wrap=True)
        line.add_column()
        line.add_row(
            f"[{style}]{inc['id']}[/]",
            f"[dim]{inc['ticket_id']} {inc['runbook'] or ''}[/] {_esc(inc['reason'])}",
        )
        console.print(line, highlight=False)
        for act in inc.get("actions") or []:
            if act.get("status") != "dry_run":
                continue
            if act.get("lines"):
                console.print(f"  [dim]would configure {act['device']}:[/]", highlight=False)
                for line in act["lines"]:
                    console.print(f"    {line}", highlight=False, markup=False, soft_wrap=True)
            elif act.get("command"):
                console.print(f"  [dim]would run on {act['device']}:[/]", highlight=False)
                console.print(f"    {act['command']}", highlight=False, markup=False, soft_wrap=True)
    s = report["summary"]
    waiting = s.get("awaiting_approval", 0)
    console.print(
        Panel.fit(
            f"[bold]{s['incidents']}[/] incidents: [green]{s['resolved']} resolved[/] (✓ validated), "
            f"[yellow]{s['escalated']} escalated[/], "
            + (f"[magenta]{waiting} awaiting approval[/], " if waiting else "")
            + f"{s['no_action']} no action; "
            f"{s['tool_calls']} tool calls in {s['wall_s']:.2f} s\n"
            f"database [cyan]{db}[/] (netops-agent show-db) · log [cyan]{log}[/]",
            title="summary",
        )
    )
    if waiting:
        console.print(
            "approve with [bold]netops-agent approvals[/] / [bold]approve ID[/], then [bold]resume[/]"
        )


def fit_table(
    title: str,
    columns: list[str],
    rows: list[dict[str, tuple[str, str]]],
    *,
    drop_order: list[str],
    keep: tuple[str, ...],
    width: int | None = None,
) -> Table:
    """A borderless table that fits `width`: drop columns in `drop_order` until the
    natural widths fit; `keep` columns never wrap; the rest wrap at word boundaries."""
    from rich.table import Table

    width = width or console.width
    natural = {c: max([len(c)] + [len(r[c][0]) for r in rows]) for c in columns}
    shown = list(columns)
    for col in drop_order:
        if sum(natural[c] for c in shown) + 2 * (len(shown) - 1) <= width:
            break
        shown.remove(col)
    t = Table(title=title, box=None, pad_edge=False, header_style="bold underline")
    for c in shown:
        t.add_column(c, no_wrap=c in keep, overflow="ellipsis" if c in keep else "fold", min_width=len(c))
    for r in rows:
        t.add_row(*(f"[{r[c][1]}]{_esc(r[c][0])}[/]" if r[c][1] else _esc(r[c][0]) for c in shown))
    return t


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _short(ifname: str) -> str:
    return ifname.replace("GigabitEthernet", "Gi")


def table_counts(counts: dict[str, int], db: Path) -> None:
    from rich.table import Table

    t = Table(title=f"{db}")
    t.add_column("table")
    t.add_column("rows", justify="right")
    for name, n in counts.items():
        t.add_row(name, f"{n:,}")
    console.print(t)


def rows(table: str, data: list[dict[str, Any]], *, width: int | None = None) -> None:
    """Rows as a table when every column fits its content; else one record per block."""
    from rich.table import Table

    if not data:
        console.print(f"[dim]{table}: no rows[/]")
        return
    width = width or console.width
    cells = [{k: _cell(v) for k, v in r.items()} for r in data]
    need = sum(
        max([len(k)] + [max((len(x) for x in c[k].splitlines()), default=0) for c in cells]) + 3
        for k in data[0]
    )
    if need + 1 > width:
        records(table, cells)
        return
    t = Table(title=table, show_lines=True)
    for col in data[0]:
        t.add_column(col, overflow="fold")
    for r in cells:
        t.add_row(*(_esc(v) for v in r.values()))
    console.print(t)


def records(table: str, data: list[dict[str, str]]) -> None:
    """The vertical view: `column  value` lines per row; long values wrap under the value."""
    from rich.table import Table
    from rich.text import Text

    key_w = max(len(k) for k in data[0])
    for n, r in enumerate(data, 1):
        console.print(Text(f"-- {table} row {n} --", style="bold"))
        for k, v in r.items():
            grid = Table.grid(padding=(0, 1))
            grid.add_column(width=key_w, style="cyan", no_wrap=True)
            grid.add_column(overflow="fold")
            grid.add_row(k, Text(v))
            console.print(grid)


def _cell(v: Any) -> str:
    text = "" if v is None else str(v)
    return text if len(text) <= 300 else text[:297] + "..."


def hits(text: str, data: list[dict[str, Any]]) -> None:
    from rich.table import Table

    t = Table(title=f"runbooks for: {text}")
    for col in ("rank", "id", "title", "score", "fault types"):
        t.add_column(col)
    for n, h in enumerate(data, 1):
        t.add_row(str(n), h["id"], h["title"], f"{h['score']:.3f}", ", ".join(h["fault_types"]))
    console.print(t)


def faults(data: list[dict[str, Any]]) -> None:
    from rich.table import Table

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
