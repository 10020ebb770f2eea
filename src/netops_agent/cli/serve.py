"""`netops-agent serve`: the REST API and the dashboard in one local process."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from netops_agent.cli.common import DbOption, console, settings
from netops_agent.errors import ConfigError

if TYPE_CHECKING:
    import socket

    from uvicorn import Server

    from netops_agent.notify.config import NotifyConfig
    from netops_agent.receivers.service import ReceiverOptions
    from netops_agent.serve.db import StoreAccess


def serve(
    db: DbOption = None,
    host: Annotated[
        str, typer.Option(help="Address to bind; anything but loopback needs --token.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8080,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="NETOPS_TOKEN",
            help="Require this token for every write (approve, deny, resume, runs). Or $NETOPS_TOKEN.",
            show_default=False,
        ),
    ] = None,
    exclusive: Annotated[
        bool,
        typer.Option(
            "--exclusive",
            help="Keep the database open read-write for the service's life (faster; other "
            "processes cannot write it meanwhile; runs started from the dashboard still can).",
        ),
    ] = False,
    syslog_port: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=65535,
            help="Receive syslog (UDP and TCP; RFC 3164/5424, Cisco %TAGs) on this port.",
            show_default=False,
        ),
    ] = None,
    trap_port: Annotated[
        int | None,
        typer.Option(min=0, max=65535, help="Receive SNMPv2c traps on this UDP port.", show_default=False),
    ] = None,
    auto_remediate: Annotated[
        bool,
        typer.Option(
            "--auto-remediate",
            help="Let the agent work incidents from received signals (default: they wait for a person).",
        ),
    ] = False,
    notify: Annotated[
        Path | None,
        typer.Option(help="Webhook targets for ticket transitions (or $NETOPS_NOTIFY).", show_default=False),
    ] = None,
    detection: Annotated[
        Path | None,
        typer.Option(
            help="Detection rules overriding the shipped ones (or $NETOPS_DETECTION).", show_default=False
        ),
    ] = None,
) -> None:
    """Serve the REST API (/api/v1, docs at /docs) and the NOC dashboard over the database.

    Open http://127.0.0.1:8080 for the overview (incidents, approvals, eval scores),
    the topology coloured by health, each incident's timeline and telemetry plot, and
    Approve / Deny / Resume. Writes need the token when one is set; reads never do.

    Alertmanager can post to /api/v1/intake/alertmanager (webhook_configs); with
    --syslog-port and --trap-port routers' syslog and SNMP traps come in too. Received
    signals are correlated into incidents and tickets (see docs/receivers.md).
    A `netops-agent run` in another process can write the same file meanwhile: pages
    say the database is busy and reload until it is free.
    """
    import gc

    from netops_agent.serve import is_loopback  # light: FastAPI loads after the port is bound

    # Starting makes ~80,000 long-lived objects (FastAPI, pydantic, the routes) and next to no
    # garbage, so the collector's passes meanwhile are pure cost (~60-90 ms of CPU). It runs
    # again once the service is ready, over what is made from then on (`_collect_from_now`).
    gc.disable()

    if not is_loopback(host) and not token:
        raise ConfigError(
            f"binding to {host} makes the service reachable from other machines; "
            "pass --token TOKEN (or set $NETOPS_TOKEN) so that writes need it, or bind 127.0.0.1"
        )
    # Listen first: a browser opened now waits in the backlog for the first page instead of
    # being refused while the service loads (FastAPI, the routers, the database).
    listener = _listen(host, port)
    cfg = settings(db)
    if not cfg.db_path.exists():  # a fresh file: migrated and empty, so the pages can say what to do
        from netops_agent.store import Store

        Store(cfg.db_path).close()
    from netops_agent.serve.db import StoreAccess

    access = StoreAccess(cfg.db_path, hold_s=None if exclusive else 0.5)
    access.open_early()  # DuckDB opens and checks the file while FastAPI loads
    try:
        server = _server(
            access,
            host,
            port,
            token,
            _receivers(host, syslog_port, trap_port, auto_remediate, notify, detection),
        )
        server.run(sockets=[listener])
    finally:
        access.checked()  # the early open has ended before the interpreter does
        access.close()
        gc.enable()
    console.print("stopped")


def _collect_from_now() -> None:
    """The service is ready: what starting made stays (frozen: later passes skip it), and the
    collector runs again for what requests make."""
    import gc

    gc.freeze()
    gc.enable()


def _receivers(
    host: str,
    syslog_port: int | None,
    trap_port: int | None,
    auto_remediate: bool,
    notify: Path | None,
    detection: Path | None,
) -> ReceiverOptions:
    from netops_agent.receivers.service import ReceiverOptions

    for p in (syslog_port, trap_port):
        if p:
            _check_port(host, p, udp=True)
    return ReceiverOptions(
        host=host,
        syslog_port=syslog_port,
        trap_port=trap_port,
        detection=detection,
        notify=_notify_config(notify),
        auto_remediate=auto_remediate,
    )


def _server(
    access: StoreAccess, host: str, port: int, token: str | None, receivers: ReceiverOptions
) -> Server:
    import uvicorn

    from netops_agent.serve.app import create_app

    # A bad rules file (--detection) fails here, in one line, before serving (the receivers load it).
    app = create_app(
        access.path, token, receivers=receivers, warm=True, access=access, on_start=_collect_from_now
    )
    console.print(
        f"netops-agent serve: [bold]http://{host}:{port}[/] (API /docs) · database [cyan]{access.path}[/]"
        + (" · writes need the token" if token else "")
        + (f" · syslog :{receivers.syslog_port}" if receivers.syslog_port is not None else "")
        + (f" · traps :{receivers.trap_port}" if receivers.trap_port is not None else "")
        + (" · auto-remediate" if receivers.auto_remediate else "")
        + " · Ctrl-C stops"
    )
    # Said, not detected: the app is ASGI 3 with a lifespan and serves no websockets.
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", interface="asgi3", lifespan="on", ws="none"
    )
    return uvicorn.Server(config)


def _notify_config(path: Path | None) -> NotifyConfig | None:
    """The webhook targets (checked now, in one line), or None without --notify / $NETOPS_NOTIFY."""
    import os

    from netops_agent.notify.config import ENV_VAR, load_notify

    if path is None and not os.environ.get(ENV_VAR):
        return None
    return load_notify(path)


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (handed to uvicorn), or one clear line why not."""
    import socket  # here, not at the top: `--help` builds this command without serving

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP
    # (without it every response waits ~40 ms for the client's delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port} ({exc.strerror}); pass --port N or --host ADDR"
        ) from exc
    return sock


def _check_port(host: str, port: int, *, udp: bool = False) -> None:
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port} ({exc.strerror}); pass --port N or --host ADDR"
            ) from exc
