"""The `netops-agent` command. Thin: parse arguments, call the library, render."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from netops_agent.cli.common import (
    DbOption,
    JsonOption,
    console,
    err_console,
    print_json,
    settings,
    setup_logging,
)
from netops_agent.cli.lab_ssh import TransportOption, check_transport
from netops_agent.errors import ConfigError, NetopsError

app = typer.Typer(
    name="netops-agent",
    help=(
        "A local lab and agent for closed-loop network incident remediation.\n\n"
        "Start with `netops-agent run` (a demo network with a shift's worth of incidents), "
        "then `netops-agent show-db` to see what was recorded."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def run(
    scenario: Annotated[
        str | None,
        typer.Option(
            "--scenario", "-s", help="Suite file or built-in suite name (default: demo; frr-smoke on frr)."
        ),
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option(
            "--backend",
            "-b",
            help="sim (digital twin) or frr (real FRR routers; needs root). Default: the suite's.",
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Override the topology seed.")] = None,
    db: DbOption = None,
    log: Annotated[Path | None, typer.Option("--log", help="Log file (default outputs/netops.log).")] = None,
    runbooks: Annotated[
        Path | None, typer.Option(help="Runbook YAML (default: the shipped data/runbooks.yaml).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Diagnose and plan; change nothing.")] = False,
    top_k: Annotated[int, typer.Option(min=1, max=20, help="Runbooks diagnosed per retrieval round.")] = 3,
    policy: Annotated[
        Path | None, typer.Option(help="Change policy YAML (default: the shipped data/policy.yaml).")
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also print each step to the console.")
    ] = False,
    intake: Annotated[
        str,
        typer.Option(
            help="Incident source: telemetry (detect and correlate; the default) or oracle "
            "(one incident per injected fault: debugging only, labelled in the output)."
        ),
    ] = "telemetry",
    transport: TransportOption = "inprocess",
    as_json: JsonOption = False,
) -> None:
    """Build the lab, inject the scenario's faults, and let the agent work every incident.

    The lab is the digital twin, or with `--backend frr` real FRR routers in network
    namespaces (one lab for the suite; faults repaired between cases; torn down at the end).

    Each run starts the lab and its records afresh in the database (use --db to keep
    several runs side by side); the runbook index is rebuilt only when runbooks change.
    """
    from netops_agent.agent import AgentConfig
    from netops_agent.cli import render
    from netops_agent.evaluation.scenario import load_suite
    from netops_agent.pipeline import RunOptions, run_suite
    from netops_agent.store import Store

    if backend not in (None, "sim", "frr"):
        raise ConfigError(f"unknown backend {backend!r}; choose sim or frr")
    check_transport(transport, backend or "sim")
    suite = load_suite(scenario or ("frr-smoke" if backend == "frr" else "demo"))
    if (backend or suite.backend) == "frr":
        from netops_agent.lab.frr import check_prerequisites

        check_prerequisites()  # root, ip netns, FRR: say what is missing before anything runs
    cfg = settings(db, log)
    setup_logging(cfg.log_path, verbose)
    from netops_agent.safety.policy import load_policy

    opts = RunOptions(
        runbooks=runbooks,
        seed=seed,
        agent=AgentConfig(top_k=top_k, dry_run=dry_run),
        policy=load_policy(policy),
        intake=intake,
        backend=backend,
        transport=transport,
    )
    with Store(cfg.db_path) as store:
        if as_json:
            report = run_suite(store, suite, opts)
        else:
            with console.status(f"Running suite [bold]{suite.name}[/] ({len(suite.cases)} case(s))..."):
                report = run_suite(store, suite, opts)
    if as_json:
        print_json(report.as_dict())
    else:
        render.run_report(report.as_dict(), cfg.db_path, cfg.log_path)


@app.command("show-db")
def show_db(
    table: Annotated[str | None, typer.Option("--table", "-t", help="Show rows of one table.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Rows to show with --table.")] = 20,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List every table with its row count, or show rows of one table."""
    from netops_agent.cli import render
    from netops_agent.store import Store

    cfg = settings(db)
    with Store(cfg.db_path, read_only=True) as store:
        if table is None:
            counts = store.table_counts()
            print_json(counts) if as_json else render.table_counts(counts, cfg.db_path)
            return
        store.require_table(table)
        rows = store.query(f'SELECT * FROM "{table}" LIMIT ?', [limit])
        print_json(rows) if as_json else render.rows(table, rows)


@app.command()
def retrieve(
    text: Annotated[str, typer.Argument(help="Symptom text, e.g. 'BGP peer down, prefixes withdrawn'.")],
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, help="How many runbooks to return.")] = 3,
    db: DbOption = None,
    runbooks: Annotated[Path | None, typer.Option(help="Runbook YAML (default: the shipped one).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Rank runbooks for a symptom description (TF-IDF + cosine similarity in DuckDB)."""
    from netops_agent.cli import render
    from netops_agent.knowledge import TfidfRetriever
    from netops_agent.services import ensure_index
    from netops_agent.store import Store

    with Store(settings(db).db_path) as store:
        ensure_index(store, runbooks)
        hits = TfidfRetriever(store).retrieve(text, k=top_k)
    data = [{"id": h.id, "title": h.title, "score": h.score, "fault_types": h.fault_types} for h in hits]
    print_json(data) if as_json else render.hits(text, data)


@app.command()
def faults(as_json: JsonOption = False) -> None:
    """List the fault catalog: slug, target kind, expected outcome, description."""
    from netops_agent.catalog import CATALOG
    from netops_agent.cli import render

    data = [
        {
            "slug": f.slug,
            "target": f.target,
            "outcome": f.outcome,
            "severity": f.severity.value,
            "description": f.description,
        }
        for f in CATALOG.values()
    ]
    print_json(data) if as_json else render.faults(data)


def _register_subcommands() -> None:
    from netops_agent.cli import intake as intake_cli
    from netops_agent.cli import lab as lab_cli
    from netops_agent.cli import lab_ssh
    from netops_agent.cli import notify as notify_cli
    from netops_agent.cli import safety as safety_cli
    from netops_agent.cli.eval import eval_command
    from netops_agent.cli.mcp import mcp_command
    from netops_agent.cli.serve import serve
    from netops_agent.cli.solve import solve

    app.command()(solve)
    app.command()(serve)
    app.command("eval")(eval_command)
    app.command("mcp")(mcp_command)
    safety_cli.register(app)
    intake_cli.register(app)
    lab_ssh.register(lab_cli.app)
    app.add_typer(lab_cli.app, name="lab")
    app.add_typer(notify_cli.app, name="notifications")


def main() -> None:
    """Entry point: every NetopsError becomes a clear message and a non-zero exit code."""
    _register_subcommands()
    try:
        code = app(standalone_mode=False)  # click returns typer.Exit(n)'s code in this mode
    except NetopsError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(exc.exit_code)
    except ValidationError as exc:  # a command-line value that failed a model's validation
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors())
        err_console.print(f"[bold red]error:[/] invalid value: {problems}", highlight=False)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("aborted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:
        # Usage errors (click's ClickException; newer typer vendors click) show themselves
        # and carry their exit code; anything else is a bug and keeps its traceback.
        if callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
