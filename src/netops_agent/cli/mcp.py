"""`netops-agent mcp`: serve the interactive lab to any MCP client (an IDE, an agent SDK)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from netops_agent.cli.common import DbOption, err_console, settings, setup_logging


def mcp_command(
    db: DbOption = None,
    transport: Annotated[
        str,
        typer.Option(
            "--transport", "-t", help="stdio (an MCP client launches us) or http (Streamable HTTP)."
        ),
    ] = "stdio",
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="--transport http: port on 127.0.0.1.")
    ] = 8765,
    intake: Annotated[
        bool,
        typer.Option(
            "--intake/--no-intake", help="Run monitoring once first, so current symptoms get tickets."
        ),
    ] = True,
) -> None:
    """Serve the lab in the database over the Model Context Protocol.

    Tools: list/read incidents and their alerts, search runbooks, every read-only show
    tool (parsed rows plus raw text), propose_change (policy-gated; may answer
    approval_required), validate, rollback, update_ticket. Resources: the inventory and
    the runbooks. Every call is audited in the database like the built-in agent's, and a
    ticket is resolved only after a validation that ran after the last change passed.

    Start a lab first (`netops-agent lab up`, `lab inject ...`). While the server runs it
    holds the database; stop it (Ctrl-C, or close the client) before other commands.
    """
    from netops_agent.errors import ConfigError

    if transport not in ("stdio", "http"):
        raise ConfigError(f"unknown transport {transport!r}; choose --transport stdio or --transport http")
    cfg = settings(db)
    setup_logging(cfg.log_path, verbose=False)  # stdout belongs to the protocol on stdio
    from netops_agent.pipeline.interactive import lab_control
    from netops_agent.services import Services
    from netops_agent.store import Store

    with Store(cfg.db_path) as store:
        svc = Services.open(store)
        with lab_control(store) as ctl:  # the twin is saved when the server stops
            wb = _workbench(ctl.view(), svc, intake)
            _serve(wb, transport, port)
    err_console.print("MCP server stopped; the lab and its records are saved")


def _serve(wb: Any, transport: str, port: int) -> None:
    try:
        if transport == "stdio":
            from netops_agent.mcp_server.server import serve_stdio

            serve_stdio(wb)
        else:
            from netops_agent.mcp_server.server import HttpServer

            server = HttpServer(wb, port)
            err_console.print(f"MCP server on [cyan]{server.url}[/] (Ctrl-C stops it)")
            server.serve_forever()
    except KeyboardInterrupt:
        pass


def _workbench(view: Any, svc: Any, intake: bool) -> Any:
    """The workbench over the lab's view (never its control face); monitoring first if asked."""
    from netops_agent.agents.workbench import Workbench
    from netops_agent.audit import StoreRecorder
    from netops_agent.intake.pipeline import telemetry_intake
    from netops_agent.pipeline import RunOptions, open_incidents
    from netops_agent.pipeline.interactive import SCOPE

    if intake:  # alerts already in an incident are not raised again
        open_incidents(svc.store, svc.tickets, view, lambda: telemetry_intake(view, svc.store, SCOPE))
    return Workbench(
        view,
        store=svc.store,
        runbooks=svc.runbooks,
        retriever=svc.retriever,
        tickets=svc.tickets,
        policy=RunOptions().policy,
        recorder=StoreRecorder(svc.store),
        agent_name="mcp-client",
    )
