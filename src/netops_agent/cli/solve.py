"""`netops-agent solve`: the agent works whatever is wrong in the interactive lab now."""

from __future__ import annotations

from pathlib import Path
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
from netops_agent.cli.lab_ssh import TransportOption, check_transport
from netops_agent.errors import ConfigError


def solve(
    db: DbOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Diagnose and plan; change nothing.")] = False,
    backend: Annotated[
        str, typer.Option("--backend", "-b", help="sim (the interactive lab) or ssh (real devices).")
    ] = "sim",
    transport: TransportOption = "inprocess",
    inventory: Annotated[
        Path | None, typer.Option(help="ssh: Nornir SimpleInventory (directory or hosts.yaml).")
    ] = None,
    netbox: Annotated[
        Path | None, typer.Option(help="ssh: NetBox export (devices, interfaces, cables) for the topology.")
    ] = None,
    allow_changes: Annotated[
        bool,
        typer.Option(
            "--allow-changes",
            help="ssh: let the agent change configuration (default: read-only). Changes still pass "
            "the policy and approvals, and each is preceded by a config archive.",
        ),
    ] = False,
    polls: Annotated[int, typer.Option(min=1, help="ssh: telemetry polls before monitoring runs.")] = 3,
    poll_s: Annotated[float, typer.Option(min=0.5, help="ssh: seconds between polls.")] = 10.0,
    max_wait_s: Annotated[
        float, typer.Option(min=0, help="ssh: longest real wait for convergence after a change.")
    ] = 30.0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also print each step.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Run monitoring over the lab as it is now and let the agent work each new incident.

    Use after `netops-agent lab up` and `lab inject`: monitoring sees only symptoms
    (telemetry, syslog, probes); the agent is never told what was injected.

    With `--backend ssh --inventory DIR` the network is real Cisco IOS gear listed in a
    Nornir inventory: telemetry is polled over SSH, nothing is injected, and the agent
    is read-only unless `--allow-changes`. Credentials come from the inventory or
    $NETOPS_SSH_USERNAME / $NETOPS_SSH_PASSWORD and are never logged.
    """
    from netops_agent.agent import AgentConfig
    from netops_agent.cli import progress, render
    from netops_agent.pipeline import RunOptions
    from netops_agent.pipeline.interactive import solve_lab

    if backend not in ("sim", "ssh"):
        raise ConfigError(f"unknown backend {backend!r}; choose --backend sim or --backend ssh")
    if backend == "ssh" and inventory is None:
        raise ConfigError("--backend ssh needs --inventory PATH (a Nornir SimpleInventory directory)")
    check_transport(transport, "sim" if backend == "sim" else "ssh-gear")
    cfg = settings(db)
    setup_logging(cfg.log_path, verbose, cfg.log_source)
    options = RunOptions(agent=AgentConfig(dry_run=dry_run), transport=transport)
    with writing(db, "solve") as store, progress.incidents("solving the lab", quiet=as_json):
        if backend == "ssh":
            from netops_agent.gear_runner import solve_gear

            assert inventory is not None
            report = solve_gear(
                store,
                inventory,
                allow_changes=allow_changes,
                netbox=netbox,
                polls=polls,
                poll_s=poll_s,
                max_wait_s=max_wait_s,
                options=options,
            )
        else:
            report = solve_lab(store, options)
    data = render.present(report.as_dict())
    if as_json:
        print_json(data)
    elif not data["incidents"]:
        console.print("[green]no new incidents[/]: monitoring sees nothing that is not already ticketed")
    else:
        render.run_report(data, cfg.db_path, cfg.log_path)
