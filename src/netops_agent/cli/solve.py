"""`netops-agent solve`: the agent works whatever is wrong in the interactive lab now."""

from __future__ import annotations

from typing import Annotated

import typer

from netops_agent.cli.common import (
    DbOption,
    JsonOption,
    console,
    print_json,
    settings,
    setup_logging,
    writing,
)


def solve(
    db: DbOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Diagnose and plan; change nothing.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also print each step.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Run monitoring over the lab as it is now and let the agent work each new incident.

    Use after `netops-agent lab up` and `lab inject`: monitoring sees only symptoms
    (telemetry, syslog, probes); the agent is never told what was injected.
    """
    from netops_agent.agent import AgentConfig
    from netops_agent.cli import progress, render
    from netops_agent.pipeline import RunOptions
    from netops_agent.pipeline.interactive import solve_lab

    cfg = settings(db)
    setup_logging(cfg.log_path, verbose, cfg.log_source)
    with writing(db, "solve") as store, progress.incidents("solving the lab", quiet=as_json):
        report = solve_lab(store, RunOptions(agent=AgentConfig(dry_run=dry_run)))
    data = render.present(report.as_dict())
    if as_json:
        print_json(data)
    elif not data["incidents"]:
        console.print("[green]no new incidents[/]: monitoring sees nothing that is not already ticketed")
    else:
        render.run_report(data, cfg.db_path, cfg.log_path)
