"""The `netops-agent` command. Thin: parse arguments, call the library, render."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from netops_agent.cli import help_renderer
from netops_agent.cli.common import (
    DbOption,
    ForceOption,
    JsonOption,
    batch_arrow_memory,
    batch_gc,
    batch_gc_early,
    console,
    err_console,
    interrupt_note,
    open_store,
    print_json,
    set_interrupt_note,
    settings,
    setup_logging,
    writing,
)
from netops_agent.cli.lab_ssh import TransportOption, check_transport
from netops_agent.cli.validate import SeedOption
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


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            v = version("netops-agent")
        except PackageNotFoundError:  # running from a source tree that is not installed
            v = "unknown (not installed)"
        console.print(f"netops-agent {v}", highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    _version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", callback=_show_version, is_eager=True),
    ] = False,
) -> None:
    """A local lab and agent for closed-loop network incident remediation."""


def _quiet_flag_types() -> None:
    """Flags take no value, so help shows no `<bool>` after them (typer >= 0.20 does)."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich
    if getattr(shown, "_netops_quiet", False):
        return

    def display_type_rich(self: TyperOption, ctx: object) -> str | None:
        return None if self.is_flag else shown(self, ctx)  # type: ignore[arg-type]

    display_type_rich._netops_quiet = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


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
    seed: SeedOption = None,
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
    force: ForceOption = False,
) -> None:
    """Build the lab, inject the scenario's faults, and let the agent work every incident.

    The lab is the digital twin, or with `--backend frr` real FRR routers in network
    namespaces (one lab for the suite; faults repaired between cases; torn down at the end).

    Each run starts the lab and its records afresh in the database (use --db to keep
    several runs side by side); the runbook index is rebuilt only when runbooks change.
    """
    from netops_agent.agent import AgentConfig
    from netops_agent.cli import render, validate
    from netops_agent.pipeline import RunOptions
    from netops_agent.pipeline.staging import run_staged

    batch_gc()
    # Everything is checked before the database is opened: a bad input keeps the last run.
    if backend not in (None, "sim", "frr"):
        raise ConfigError(f"unknown backend {backend!r}; choose sim or frr")
    check_transport(transport, backend or "sim")
    suite = validate.scenario(scenario or ("frr-smoke" if backend == "frr" else "demo"))
    validate.runbooks(runbooks)
    checked_policy = validate.policy(policy)
    validate.intake(intake)
    cfg = settings(db, log)
    setup_logging(cfg.log_path, verbose, cfg.log_source)
    if (backend or suite.backend) == "frr":
        from netops_agent.lab.frr import check_prerequisites

        check_prerequisites()  # root, ip netns, FRR: say what is missing before anything runs

    opts = RunOptions(
        runbooks=runbooks,
        seed=seed,
        agent=AgentConfig(top_k=top_k, dry_run=dry_run),
        policy=checked_policy,
        intake=intake,
        backend=backend,
        transport=transport,
    )
    set_interrupt_note(
        "the run stopped and was rolled back: the database holds the previous run's records, "
        "unchanged; `netops-agent run` starts again"
    )
    from netops_agent.cli import progress

    batch_arrow_memory()
    with writing(db, "run", force=force) as store:
        label = f"suite {suite.name} ({len(suite.cases)} case(s))"
        # The run works in memory; one short transaction at the end replaces the previous
        # run's records with the new ones, so a failed or interrupted run leaves them intact
        # and readers are not locked out while it works (pipeline/staging.py).
        with progress.incidents(label, quiet=as_json):
            report = run_staged(store, suite, opts)
    data = render.present(report.as_dict())
    if as_json:
        print_json(data)
    else:
        render.run_report(data, cfg.db_path, cfg.log_path)


@app.command("show-db")
def show_db(
    table: Annotated[str | None, typer.Option("--table", "-t", help="Show rows of one table.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Rows to show with --table.")] = 20,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List every table with its row count, or show rows of one table."""
    from netops_agent.cli import render

    cfg = settings(db)
    with open_store(db, read_only=True) as store:
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
    from netops_agent.cli import render, validate
    from netops_agent.knowledge import TfidfRetriever
    from netops_agent.services import ensure_index

    validate.runbooks(runbooks)
    with open_store(db) as store:
        ensure_index(store, runbooks)
        hits = TfidfRetriever(store).retrieve(text, k=top_k)
    data = [{"id": h.id, "title": h.title, "score": h.score, "fault_types": h.fault_types} for h in hits]
    print_json(data) if as_json else render.hits(text, data)


@app.command()
def faults(as_json: JsonOption = False) -> None:
    """List the fault catalog: slug, target kind, expected outcome, description."""
    from netops_agent.catalog import catalog_rows
    from netops_agent.cli import render

    data = catalog_rows()
    print_json(data) if as_json else render.faults(data)


# Commands kept in their own modules: name -> (module, function).
MODULE_COMMANDS = {
    "solve": ("netops_agent.cli.solve", "solve"),
    "serve": ("netops_agent.cli.serve", "serve"),
    "eval": ("netops_agent.cli.eval", "eval_command"),
    "mcp": ("netops_agent.cli.mcp", "mcp_command"),
    "doctor": ("netops_agent.cli.doctor", "doctor"),
}


def _register_subcommands() -> None:
    import importlib

    from netops_agent.cli import intake as intake_cli
    from netops_agent.cli import lab as lab_cli
    from netops_agent.cli import lab_ssh
    from netops_agent.cli import notify as notify_cli
    from netops_agent.cli import safety as safety_cli

    for name, (module, function) in MODULE_COMMANDS.items():
        app.command(name)(getattr(importlib.import_module(module), function))
    safety_cli.register(app)
    intake_cli.register(app)
    lab_ssh.register(lab_cli.app)
    app.add_typer(lab_cli.app, name="lab")
    app.add_typer(notify_cli.app, name="notifications")


def main() -> None:
    """Entry point: every NetopsError becomes a clear message and a non-zero exit code."""
    import logging

    batch_gc_early(sys.argv[1:2])
    # A command that logs before (or without) set-up must not leak raw lines to the terminal.
    logging.getLogger("netops_agent").addHandler(logging.NullHandler())
    cli = _one_command(sys.argv[1:2])
    if cli is None:
        _register_subcommands()
        cli = app
    _quiet_flag_types()
    if help_renderer.wanted(sys.argv[1:]):
        help_renderer.load()  # typer's help renderer without rich.markdown / rich.traceback
    try:
        code = cli(standalone_mode=False)  # click returns typer.Exit(n)'s code in this mode
    except NetopsError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        _interrupted()
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:
        if _is_validation_error(exc):  # a command-line value that failed a model's validation
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}"
                for e in exc.errors()  # type: ignore[attr-defined]
            )
            err_console.print(
                f"[bold red]error:[/] invalid value: {problems}", highlight=False, soft_wrap=True
            )
            sys.exit(2)
        store_db = sys.modules.get("netops_agent.store.db")  # loaded if DuckDB could have raised
        if store_db is not None and store_db.interrupted(exc):  # Ctrl-C that DuckDB took mid-query
            _interrupted()
        # Usage errors (click's ClickException; newer typer vendors click) show themselves
        # and carry their exit code; anything else is a bug and keeps its traceback.
        if callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    if code == 130:  # typer turns Ctrl-C inside a command into exit code 130, silently
        _interrupted()
    if isinstance(code, int) and code:
        sys.exit(code)


def _one_command(args: list[str]) -> typer.Typer | None:
    """The CLI with only the command that `args` names (`run`, `serve`, ...) beside the root
    options, so that a start neither imports the other commands' modules nor builds them
    (tens of milliseconds); what it parses, prints and refuses is the full CLI's. None when
    `args` names no such command (`--help`, a group such as `lab`, a typo): the full CLI."""
    import importlib

    from typer.main import get_command_name

    name = args[0] if args else ""
    if not name or name.startswith("-"):
        return None
    one = typer.Typer(
        name=app.info.name,
        help=app.info.help,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    one.registered_callback = app.registered_callback
    if name in MODULE_COMMANDS:
        module, function = MODULE_COMMANDS[name]
        one.command(name)(getattr(importlib.import_module(module), function))
        return one
    own = [
        c
        for c in app.registered_commands
        if (c.name or get_command_name(getattr(c.callback, "__name__", ""))) == name
    ]
    if not own:
        return None
    one.registered_commands = own
    return one


def _is_validation_error(exc: Exception) -> bool:
    """A pydantic ValidationError, checked without importing pydantic (`--help` never needs it):
    one can only have been raised if pydantic is loaded."""
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(exc, pydantic.ValidationError)


def _interrupted() -> None:
    """Ctrl-C: one line saying what was kept and how to go on; exit code 130.

    Everything worth keeping is committed (or rolled back) by now, so the process ends
    at once: tearing down the interpreter (twins, in-memory databases, a worker pool)
    could take seconds more, and Ctrl-C should stop within two.
    """
    import logging

    note = interrupt_note() or "stopped; nothing more was done"
    err_console.print(f"[bold yellow]interrupted[/]: {note}", highlight=False, soft_wrap=True)
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(130)


def entry() -> None:
    """The `netops-agent` command: `main`, and after a command that succeeded, out of the
    process without tearing the interpreter down."""
    main()
    _leave()


def _leave() -> None:
    """Exit 0 now, the way a finished command would, minus the interpreter's teardown:
    freeing every object and module one by one and the DuckDB instance with its thread
    pool took 50-200 ms after `run` (more on a loaded machine), for a process about to
    end. Output is flushed and the atexit handlers run first (logging's flush and close,
    `weakref.finalize` hooks); with another non-daemon thread still running, or output
    that cannot be flushed, Python exits as usual."""
    import atexit
    import threading

    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    if run_exitfuncs is None or any(t.is_alive() and not t.daemon for t in others):
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: Python's own exit reports it
        return
    run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(0)


if __name__ == "__main__":
    entry()
