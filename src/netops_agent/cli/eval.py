"""`netops-agent eval`: score agents on a scenario suite against the twin's ground truth."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from netops_agent.cli.common import (
    DbOption,
    ForceOption,
    JsonOption,
    batch_gc,
    console,
    open_store,
    print_json,
    set_interrupt_note,
    settings,
    setup_logging,
)
from netops_agent.cli.lab_ssh import TransportOption
from netops_agent.cli.progress import bar
from netops_agent.cli.validate import SeedOption
from netops_agent.errors import ConfigError

OUTCOME_STYLE = {"resolved": "green", "escalated": "yellow", "no_action": "cyan"}
HOLD_S = 0.25  # longest an eval keeps its database file between saves while nobody waits


def default_jobs() -> int:
    """The cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def eval_command(
    suite: Annotated[
        str | None,
        typer.Option("--suite", "-s", help="Built-in suite (smoke, catalog, hard) or a YAML file."),
    ] = None,
    agent: Annotated[
        list[str] | None,
        typer.Option(
            "--agent", "-a", help="Agent to score; repeat to compare (default, seed-baseline, random)."
        ),
    ] = None,
    backend: Annotated[
        str, typer.Option("--backend", "-b", help="sim (the twin) or frr (real FRR routers; needs root).")
    ] = "sim",
    as_json: JsonOption = False,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Write a self-contained HTML report (.html) or Markdown (.md)."),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs", "-j", min=1, help="Cases run in parallel processes (default: the machine's cores)."
        ),
    ] = None,
    seed: SeedOption = None,
    intake: Annotated[
        str | None,
        typer.Option(help="Incident source: telemetry (default) or oracle (debugging only; labelled)."),
    ] = None,
    runbooks: Annotated[Path | None, typer.Option(help="Runbook YAML (default: the shipped one).")] = None,
    resume: Annotated[
        str | None,
        typer.Option(
            "--resume", metavar="RUN_ID", help="Continue an interrupted run: only its missing cases run."
        ),
    ] = None,
    db: DbOption = None,
    log: Annotated[Path | None, typer.Option("--log", help="Log file (default outputs/netops.log).")] = None,
    force: ForceOption = False,
    transport: TransportOption = "inprocess",
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
    the agent has finished, and checks every "resolved" ticket against them. Each case
    is stored (eval_runs, eval_cases) as soon as it finishes, so an interrupted run
    keeps its cases and `--resume RUN_ID` finishes it.
    """
    from netops_agent.cli import validate
    from netops_agent.evaluation import durable
    from netops_agent.evaluation.harness import EvalOptions, check_options
    from netops_agent.evaluation.report import write_report

    cfg = settings(db, log)
    validate.report_path(report)
    setup_logging(cfg.log_path, False, cfg.log_source)
    batch_gc()  # forked workers inherit it: young objects collected every 200,000 allocations
    plans: list[tuple[Any, Any, Any]] = []  # (suite, options, resume plan or None)
    if resume is not None:
        if suite or agent or intake or seed is not None or runbooks:
            raise ConfigError(
                "--resume continues a stored run with its own suite and options; "
                "drop --suite/--agent/--intake/--seed/--runbooks"
            )
        with open_store(db, force=force) as store:
            plan = durable.resume_plan(store, resume)
        opts = EvalOptions(jobs=jobs or default_jobs(), log_path=cfg.log_path, **plan.options)
        check_options(plan.suite, opts)
        plans.append((plan.suite, opts, plan))
    else:
        if suite is None:
            raise ConfigError("say which suite: --suite smoke|catalog|hard|FILE (or --resume RUN_ID)")
        loaded = validate.scenario(suite)
        validate.runbooks(runbooks)
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
        for name in dict.fromkeys(agent or ["default"]):
            opts = replace(base, agent=name, agent_args=agent_args if name in ("llm", "external") else {})
            check_options(loaded, opts)
            plans.append((loaded, opts, None))
        with open_store(db, force=force) as store:  # checked and recorded before the first case
            for i, (s, opts, _) in enumerate(plans):
                plan = durable.ResumePlan(uuid.uuid4().hex[:12], s, {}, {}, 0.0)
                durable.begin(store, plan.run_id, s, opts)
                plans[i] = (s, opts, plan)
    runs = [_evaluate(db, s, opts, plan, quiet=as_json) for s, opts, plan in plans]
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


def _evaluate(db: Path | None, suite: Any, opts: Any, plan: Any, *, quiet: bool) -> Any:
    """One agent over the suite's missing cases; each case stored as it finishes."""
    from netops_agent.evaluation import durable
    from netops_agent.evaluation.harness import EvalRun, evaluate
    from netops_agent.killpoints import killpoint
    from netops_agent.store.writer import readers_waiting

    positions = {c.id: i for i, c in enumerate(suite.cases)}
    todo = plan.remaining()
    started = time.perf_counter()
    label = f"{opts.agent} on {suite.name}"

    def kept() -> str:
        return f"{len(plan.done)} of {len(suite.cases)} cases of run {plan.run_id} are stored"

    set_interrupt_note(f"{kept()}; finish it with `netops-agent eval --resume {plan.run_id}`")
    # Opened and checked once; each case is committed as it finishes. The file is let go
    # (`release`) so readers and other writers get it: after a save once it was held
    # HOLD_S or when a reader waits, and whenever no case is finishing (`on_idle`: in a
    # pool, no case finished for a moment; serially, while each case runs). Reopening
    # costs ~30 ms of CPU, which every case paid when the file was let go after each save.
    with open_store(db) as store, bar(label, len(suite.cases), quiet=quiet) as tick:
        store.release()
        held: list[float] = []  # since when the file is held, while it is
        for _ in plan.done:
            tick("")

        def save(rec: Any) -> None:
            wall = plan.wall_s + time.perf_counter() - started
            if not held:
                held.append(time.monotonic())
            durable.save_case(store, plan.run_id, positions[rec.id], rec, wall)
            if time.monotonic() - held[0] >= HOLD_S or readers_waiting(store.path):
                store.release()
                held.clear()
            plan.done[rec.id] = rec
            set_interrupt_note(f"{kept()}; finish it with `netops-agent eval --resume {plan.run_id}`")
            tick(rec.id)
            killpoint("saved")

        def idle() -> None:
            store.release()
            held.clear()

        if todo is not None:
            evaluate(todo, opts, on_case=save, on_idle=idle)
    records = [plan.done[c.id] for c in suite.cases]
    run = EvalRun(suite, opts, records, plan.wall_s + time.perf_counter() - started, run_id=plan.run_id)
    with open_store(db) as store:
        durable.finish(store, run)
    set_interrupt_note("")
    return run


def _render(runs: list[Any], db: Path, report: Path | None) -> None:
    from rich.table import Table

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
    from rich.table import Table

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
