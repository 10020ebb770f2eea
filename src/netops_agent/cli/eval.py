"""`netops-agent eval`: score agents on a scenario suite against the twin's ground truth."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from netops_agent.cli.common import (
    DbOption,
    JsonOption,
    console,
    err_console,
    print_json,
    settings,
    setup_logging,
)
from netops_agent.cli.lab_ssh import TransportOption

OUTCOME_STYLE = {"resolved": "green", "escalated": "yellow", "no_action": "cyan"}


def default_jobs() -> int:
    """The cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def eval_command(
    suite: Annotated[
        str, typer.Option("--suite", "-s", help="Built-in suite (smoke, catalog, hard) or a YAML file.")
    ],
    agent: Annotated[
        list[str] | None,
        typer.Option(
            "--agent",
            "-a",
            help="Agent to score; repeat to compare (default, seed-baseline, random, llm, external).",
        ),
    ] = None,
    backend: Annotated[
        str, typer.Option("--backend", "-b", help="sim (the twin) or frr (real FRR routers; needs root).")
    ] = "sim",
    as_json: JsonOption = False,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Write a self-contained HTML report (or Markdown for a .md path)."),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs", "-j", min=1, help="Cases run in parallel processes (default: the machine's cores)."
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Override the suite's topology seed.")] = None,
    intake: Annotated[
        str | None,
        typer.Option(help="Incident source: telemetry (default) or oracle (debugging only; labelled)."),
    ] = None,
    runbooks: Annotated[Path | None, typer.Option(help="Runbook YAML (default: the shipped one).")] = None,
    transport: TransportOption = "inprocess",
    db: DbOption = None,
    log: Annotated[Path | None, typer.Option("--log", help="Log file (default outputs/netops.log).")] = None,
    agent_cmd: Annotated[
        str | None,
        typer.Option(
            "--agent-cmd",
            help="--agent external: command run once per incident with NETOPS_MCP_URL and "
            'NETOPS_INCIDENT_ID set (e.g. "python examples/agents/seed_baseline_mcp.py").',
        ),
    ] = None,
    agent_timeout: Annotated[
        float, typer.Option("--agent-timeout", min=1, help="--agent external: seconds per incident.")
    ] = 300.0,
    llm_base_url: Annotated[
        str | None,
        typer.Option(
            "--llm-base-url", help="--agent llm: OpenAI-compatible endpoint ($NETOPS_LLM_BASE_URL)."
        ),
    ] = None,
    llm_model: Annotated[
        str | None, typer.Option("--llm-model", help="--agent llm: model name ($NETOPS_LLM_MODEL).")
    ] = None,
    max_steps: Annotated[
        int,
        typer.Option("--max-steps", min=1, help="--agent llm: tool calls per incident before escalating."),
    ] = 30,
    ungated: Annotated[
        bool,
        typer.Option(
            "--ungated",
            help="llm/external: no policy gate and no validation rule. Only to replay an ungated "
            "in-process baseline (seed-baseline) through MCP; results are labelled ungated.",
        ),
    ] = False,
) -> None:
    """Run a suite through one or more agents and score them against the ground truth.

    Every case runs in a fresh twin; the harness reads the injected faults only after
    the agent has finished, and checks every "resolved" ticket against them. Results
    are kept in the database (eval_runs, eval_cases) so runs can be compared over time.
    """
    from netops_agent.evaluation.harness import EvalOptions, check_options, save_run
    from netops_agent.evaluation.report import write_report
    from netops_agent.evaluation.scenario import load_suite
    from netops_agent.store import Store

    cfg = settings(db, log)
    setup_logging(cfg.log_path, verbose=False)
    loaded = load_suite(suite)
    agents = list(dict.fromkeys(agent or ["default"]))
    agent_args = _agent_args(agent_cmd, agent_timeout, llm_base_url, llm_model, max_steps, ungated)
    base = EvalOptions(
        backend=backend,
        jobs=jobs or default_jobs(),
        seed=seed,
        runbooks=runbooks,
        log_path=cfg.log_path,
        transport=transport,
    )
    if intake:
        base.intake = intake
    options = [
        replace(base, agent=name, agent_args=agent_args if name in ("llm", "external") else {})
        for name in agents
    ]
    for opts in options:
        check_options(loaded, opts)
    runs = [_evaluate(loaded, opts, quiet=as_json) for opts in options]
    with Store(cfg.db_path) as store:
        for run in runs:
            save_run(store, run)
    if report is not None:
        write_report(report, runs)
    if as_json:
        data = [r.as_dict() for r in runs]
        print_json(data[0] if len(data) == 1 else data)
        return
    _render(runs, cfg.db_path, report)


def _agent_args(
    cmd: str | None, timeout: float, base_url: str | None, model: str | None, steps: int, ungated: bool
) -> dict[str, Any]:
    """Options of the llm / external agents, as they travel to worker processes."""
    import os

    args: dict[str, Any] = {"timeout_s": timeout, "max_steps": steps}
    if cmd:
        args["agent_cmd"] = cmd
    if base_url or os.environ.get("NETOPS_LLM_BASE_URL"):
        args["llm_base_url"] = base_url or os.environ["NETOPS_LLM_BASE_URL"]
    if model or os.environ.get("NETOPS_LLM_MODEL"):
        args["llm_model"] = model or os.environ["NETOPS_LLM_MODEL"]
    if ungated:
        args["ungated"] = True
    return args


def _evaluate(suite: Any, opts: Any, *, quiet: bool) -> Any:
    """One agent over the suite, with a live case counter on stderr unless quiet."""
    from netops_agent.evaluation.harness import evaluate

    if quiet:
        return evaluate(suite, opts)
    label = f"[bold]{opts.agent}[/] on suite [bold]{suite.name}[/]"
    with err_console.status(f"{label} ({len(suite.cases)} cases, {opts.jobs} job(s))...") as status:
        done: list[str] = []

        def tick(rec: Any) -> None:
            done.append(rec.id)
            status.update(f"{label}: {len(done)}/{len(suite.cases)} cases ({rec.id})")

        return evaluate(suite, opts, on_case=tick)


def _render(runs: list[Any], db: Path, report: Path | None) -> None:
    from netops_agent.evaluation import metrics

    s = runs[0].suite
    t = Table(
        title=f"netops-agent eval: suite {s.name} v{s.version} ({s.digest}), {len(runs[0].records)} cases"
    )
    t.add_column("metric")
    for r in runs:
        t.add_column(r.agent, justify="right")
    for key in metrics.METRIC_KEYS:
        cells = []
        for r in runs:
            v = r.metrics[key]
            text = f"{v:.3f}" if isinstance(v, float) else str(v)
            bad = key in ("false_resolutions", "collateral_damage", "unsafe_actions") and v
            cells.append(f"[bold red]{text}[/]" if bad else text)
        t.add_row(key, *cells)
    console.print(t)
    if len(runs) == 1:
        _render_cases(runs[0])
    for r in runs:
        for rec in r.records:
            if rec.error:
                console.print(f"[bold red]errored[/] case {rec.id} ({r.agent}): {rec.error} (not scored)")
    where = f"runs stored in [cyan]{db}[/] (eval_runs, eval_cases)"
    console.print(where + (f" · report [cyan]{report}[/]" if report else ""))


def _render_cases(run: Any) -> None:
    from netops_agent.evaluation import metrics

    t = Table(title=f"cases ({run.agent})")
    for col in ("case", "injected", "expected", "outcome", "diagnosis", "fixed", "note"):
        t.add_column(col, overflow="fold")
    for rec in run.records:
        sc = metrics.case_scores(rec)
        why = metrics.failure_reasons(rec)
        diag = ", ".join(sorted({(i.diagnosis or {}).get("type") or "-" for i in rec.incidents})) or "-"
        t.add_row(
            rec.id,
            ", ".join(f.type for f in rec.faults) or "[dim]healthy[/]",
            rec.expected_outcome,
            f"[{OUTCOME_STYLE.get(sc['outcome'], '')}]{sc['outcome']}[/]",
            diag,
            "[green]yes[/]" if sc["ground_truth_fixed"] else "[yellow]no[/]",
            f"[red]{'; '.join(why)}[/]" if why else "[green]ok[/]",
        )
    console.print(t)
