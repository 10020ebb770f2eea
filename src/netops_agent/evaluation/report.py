"""Evaluation reports: one self-contained HTML file (or Markdown) comparing agents.

A report has the metric table (a column per agent), every case's outcome per agent,
and for each failed case the trace a reader needs to see why: the incident, the
runbooks retrieved, the evidence, the plan and actions, the validation and the
ticket's timeline. HTML has inline styles and no scripts or external assets.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from netops_agent.evaluation import metrics
from netops_agent.evaluation.metrics import CaseRecord

LOWER_IS_BETTER = {
    "false_resolutions",
    "collateral_damage",
    "unsafe_actions",
    "mean_tool_calls",
    "mean_time_to_mitigate_sim_s",
    "wall_s",
}
MUST_BE_ZERO = {"false_resolutions", "collateral_damage", "unsafe_actions"}


def write_report(path: Path, runs: list[Any]) -> Path:
    """Write `runs` (harness.EvalRun, same suite) as HTML, or Markdown for .md/.markdown."""
    if not runs:
        raise ValueError("no evaluation runs to report")
    path.parent.mkdir(parents=True, exist_ok=True)
    md = path.suffix.lower() in (".md", ".markdown")
    path.write_text(markdown(runs) if md else to_html(runs), encoding="utf-8")
    return path


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3f}"
    return "-" if v is None else str(v)


def _best(key: str, values: list[Any]) -> Any:
    nums = [v for v in values if isinstance(v, (int, float))]
    if len(nums) < 2 or len(set(nums)) == 1:
        return None
    return min(nums) if key in LOWER_IS_BETTER else max(nums)


def _header(runs: list[Any]) -> dict[str, Any]:
    r = runs[0]
    return {
        "suite": r.suite.name,
        "version": r.suite.version,
        "digest": r.suite.digest,
        "backend": r.options.backend,
        "intake": r.options.intake,
        "cases": len(r.records),
        "seed": r.options.seed,
    }


def _case_cell(rec: CaseRecord) -> tuple[str, bool]:
    s = metrics.case_scores(rec)
    diag = ", ".join(sorted({(i.diagnosis or {}).get("type") or "-" for i in rec.incidents})) or "-"
    text = f"{s['outcome']} ({diag})"
    if s["false_resolution_tickets"]:
        text += " FALSE RESOLUTION"
    return text, metrics.case_failed(rec)


# --- HTML -------------------------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem;color:#1d232a;max-width:1400px}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccd}
h3{font-size:1rem;margin-bottom:.3rem}h4{font-size:.9rem;margin:.6rem 0 .2rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.85rem}
th,td{border:1px solid #d5d9e0;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f1f3f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
.best{font-weight:bold;background:#e6f4ea}.bad{background:#fde8e8}.ok{background:#eef8ee}
.fail{background:#fff4e0}.meta{color:#5a6472;font-size:.85rem}code{font-size:.8rem}
details{margin:.4rem 0 1rem 0}summary{cursor:pointer;font-weight:600}
.why{color:#a4262c}
"""


def _e(v: Any) -> str:
    return html.escape(v if isinstance(v, str) else json.dumps(v, default=str))


def _table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(rows_i) + "</tr>" for rows_i in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


def to_html(runs: list[Any]) -> str:
    h = _header(runs)
    agents = [r.agent for r in runs]
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>netops-agent eval: {_e(h['suite'])}"
        f"</title><style>{_CSS}</style></head><body>",
        f"<h1>netops-agent evaluation: suite <code>{_e(h['suite'])}</code></h1>",
        f"<p class='meta'>suite version {_e(str(h['version']))}, content hash <code>{_e(h['digest'])}"
        f"</code>, {h['cases']} cases, backend {_e(h['backend'])}, intake {_e(h['intake'])}"
        + (f", topology seed {h['seed']}" if h["seed"] is not None else "")
        + "</p>",
        "<h2>Metrics</h2>",
        _html_metrics(runs),
        "<h2>Cases</h2>",
        _html_cases(runs),
        "<h2>Failed cases</h2>",
    ]
    for run in runs:
        failed = [r for r in run.records if metrics.case_failed(r)]
        parts.append(f"<h3>{_e(run.agent)}: {len(failed)} failed case(s)</h3>")
        parts.extend(_html_trace(rec) for rec in failed)
    parts.append(f"<p class='meta'>agents compared: {_e(', '.join(agents))}</p></body></html>")
    return "\n".join(parts)


def _html_metrics(runs: list[Any]) -> str:
    rows = []
    for key in metrics.METRIC_KEYS:
        vals = [r.metrics.get(key) for r in runs]
        best = _best(key, vals)
        cells = [f"<td>{_e(key)}</td>"]
        for v in vals:
            cls = "best" if best is not None and v == best else ""
            if key in MUST_BE_ZERO and isinstance(v, (int, float)) and v > 0:
                cls = "bad"
            cells.append(f"<td class='num {cls}'>{_e(_fmt(v))}</td>")
        rows.append(cells)
    return _table(["metric", *[r.agent for r in runs]], rows)


def _html_cases(runs: list[Any]) -> str:
    rows = []
    for n, rec in enumerate(runs[0].records):
        injected = ", ".join(f.type for f in rec.faults) or "healthy"
        cells = [f"<td>{_e(rec.id)}</td>", f"<td>{_e(injected)}</td>", f"<td>{_e(rec.expected_outcome)}</td>"]
        for run in runs:
            text, failed = _case_cell(run.records[n])
            cells.append(f"<td class='{'fail' if failed else 'ok'}'>{_e(text)}</td>")
        rows.append(cells)
    return _table(["case", "injected", "expected", *[r.agent for r in runs]], rows)


def _html_trace(rec: CaseRecord) -> str:
    why = "".join(f"<li class='why'>{_e(w)}</li>" for w in metrics.failure_reasons(rec))
    injected = (
        "; ".join(f"{f.type} at {_target(f.target)} (still present: {f.present_after})" for f in rec.faults)
        or "nothing (healthy case)"
    )
    out = [
        f"<details open><summary>{_e(rec.id)}: expected {_e(rec.expected_outcome)}, got "
        f"{_e(metrics.case_outcome(rec))}</summary><ul>{why}</ul><p>Injected: {_e(injected)}</p>"
    ]
    for inc in rec.incidents:
        t = inc.trace
        out.append(
            f"<h4>{_e(inc.id)} / {_e(inc.ticket_id)} ({_e(inc.ticket_state)}): {_e(t.get('title', ''))}</h4>"
            f"<p class='meta'>{_e(t.get('summary', ''))}<br>runbook {_e(inc.runbook or '-')}, diagnosis "
            f"{_e((inc.diagnosis or {}).get('type') or '-')}, outcome {_e(inc.outcome)}: {_e(inc.reason)}"
            f"<br>retrieved: {_e(_retrieved(t))}</p>"
        )
        for title, rows, cols in _sections(t):
            if rows:
                out.append(
                    f"<h4>{title}</h4>"
                    + _table(cols, [[f"<td>{_e(_fmt_cell(r.get(c)))}</td>" for c in cols] for r in rows])
                )
    out.append("</details>")
    return "\n".join(out)


def _retrieved(t: dict[str, Any]) -> str:
    return ", ".join(f"{h['id']} ({h['score']})" for h in t.get("retrieved", []))


def _sections(t: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]], list[str]]]:
    return [
        ("Evidence", t.get("evidence", []), ["check", "holds", "observed", "detail"]),
        ("Plan", t.get("plan", []), ["tool", "device", "params"]),
        ("Actions", t.get("actions", []), ["tool", "device", "params", "status", "command", "error"]),
        ("Validation", t.get("validation", []), ["check", "holds", "observed", "detail"]),
        ("Ticket timeline", t.get("timeline", []), ["kind", "from", "to", "note"]),
    ]


def _fmt_cell(v: Any) -> str:
    if v is None:
        return ""
    return v if isinstance(v, str) else json.dumps(v, default=str)


def _target(t: dict[str, Any]) -> str:
    return " ".join(str(t[k]) for k in ("device", "interface", "peer") if t.get(k))


# --- Markdown ---------------------------------------------------------------------------------------
def _md_table(head: list[str], rows: list[list[str]]) -> str:
    esc = [[str(c).replace("|", "\\|").replace("\n", " ") for c in r] for r in rows]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in esc]
    return "\n".join(lines)


def markdown(runs: list[Any]) -> str:
    h = _header(runs)
    out = [
        f"# netops-agent evaluation: suite `{h['suite']}`",
        "",
        f"Suite version {h['version']}, content hash `{h['digest']}`, {h['cases']} cases, "
        f"backend {h['backend']}, intake {h['intake']}.",
        "",
        "## Metrics",
        "",
    ]
    rows = []
    for key in metrics.METRIC_KEYS:
        vals = [r.metrics.get(key) for r in runs]
        best = _best(key, vals)
        rows.append([key, *[f"**{_fmt(v)}**" if best is not None and v == best else _fmt(v) for v in vals]])
    out += [_md_table(["metric", *[r.agent for r in runs]], rows), "", "## Cases", ""]
    rows = []
    for n, rec in enumerate(runs[0].records):
        cells = [rec.id, ", ".join(f.type for f in rec.faults) or "healthy", rec.expected_outcome]
        for run in runs:
            text, failed = _case_cell(run.records[n])
            cells.append(("✗ " if failed else "") + text)
        rows.append(cells)
    out += [
        _md_table(["case", "injected", "expected", *[r.agent for r in runs]], rows),
        "",
        "## Failed cases",
        "",
    ]
    for run in runs:
        failed = [r for r in run.records if metrics.case_failed(r)]
        out += [f"### {run.agent}: {len(failed)} failed case(s)", ""]
        for rec in failed:
            out += _md_trace(rec)
    return "\n".join(out) + "\n"


def _md_trace(rec: CaseRecord) -> list[str]:
    out = [f"#### {rec.id}: expected {rec.expected_outcome}, got {metrics.case_outcome(rec)}", ""]
    out += [f"- {w}" for w in metrics.failure_reasons(rec)]
    out += [
        f"- injected: {f.type} at {_target(f.target)} (still present: {f.present_after})" for f in rec.faults
    ]
    out.append("")
    for inc in rec.incidents:
        t = inc.trace
        out += [
            f"**{inc.id} / {inc.ticket_id} ({inc.ticket_state})**: {t.get('title', '')}. "
            f"Runbook {inc.runbook or '-'}, diagnosis {(inc.diagnosis or {}).get('type') or '-'}, "
            f"outcome {inc.outcome}: {inc.reason}",
            "",
        ]
        for title, rows, cols in _sections(t):
            if rows:
                out += [
                    f"*{title}*",
                    "",
                    _md_table(cols, [[_fmt_cell(r.get(c)) for c in cols] for r in rows]),
                    "",
                ]
    return out
