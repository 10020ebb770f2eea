"""The twin behind SSH listeners: per evaluation case, or as the interactive lab's server.

- `twin_over_ssh(lab)`: a context manager for one case (`--transport ssh`): the twin is
  served on free loopback ports by a `ServerThread`, and the agent gets a
  `NetworkView` whose every read and change is a real SSH session (scrapli). The
  lab, its faults and ground truth stay in process with the harness.
- `start` / `stop` / `status`: `lab up --ssh` runs `python -m
  netops_agent.lab.sim.ssh_server RUNTIME` in the background over the DuckDB file.
  RUNTIME (`<db>.ssh/` next to the database) holds the record (`ssh.json`: pid,
  ports, generated credentials; mode 0600), the generated host key, the server log
  and a Nornir inventory. `stop` terminates only the pid recorded there, and only if
  that process is our server for this runtime directory.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netops_agent.errors import LabError
from netops_agent.lab.sim.ssh_record import RECORD, read_record, runtime_for, write_record

if TYPE_CHECKING:
    from netops_agent.lab.sim.lab import SimLab

log = logging.getLogger("netops_agent.ssh")
HOST_KEY = "ssh_host_ed25519_key"
SERVER_MODULE = "netops_agent.lab.sim.ssh_server"


# --- one case over SSH ---------------------------------------------------------------------------
@contextmanager
def ssh_transport_for(lab: SimLab, *, username: str = "netops-agent") -> Iterator[Any]:
    """Serve `lab` over SSH for the duration of the block; yield an `SshTransport` to it."""
    from netops_agent.lab.sim.ssh_server import Credentials, serve_lab
    from netops_agent.lab.ssh.transport import SshTarget, SshTransport

    creds = Credentials(username, secrets.token_urlsafe(16))
    server = serve_lab(lab, creds)
    ports = server.server.ports
    transport = SshTransport(
        {d: SshTarget("127.0.0.1", p, creds.username, creds.password) for d, p in ports.items()}
    )
    try:
        yield transport
    finally:
        transport.close()
        server.stop()
        log.info(
            "ssh transport: %d sessions opened, %d commands, %d sessions served",
            transport.sessions_opened,
            transport.commands,
            server.server.sessions,
        )


@contextmanager
def twin_over_ssh(lab: SimLab, *, view: Any = None, username: str = "netops-agent") -> Iterator[Any]:
    """The agent's view of `lab` with every command over a real SSH session.

    `view` defaults to the twin's own `NetworkView`; the result is `view.with_transport(ssh)`."""
    from netops_agent.lab.sim.control import sim_view

    with ssh_transport_for(lab, username=username) as transport:
        yield (view or sim_view(lab)).with_transport(transport)


# --- the interactive lab's server ------------------------------------------------------------------
def start(
    db_path: Path,
    devices: list[str],
    *,
    port_base: int = 2200,
    username: str = "admin",
    roles: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Start the background server for the lab in `db_path`; return its record."""
    import asyncssh

    if not 0 <= port_base <= 65535 - len(devices) - 1:
        raise LabError(f"--ssh-port-base {port_base} leaves no room for {len(devices)} ports; use 1024-60000")
    stop(db_path)
    runtime = runtime_for(db_path.resolve())
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = asyncssh.generate_private_key("ssh-ed25519", comment=f"netops-agent twin {runtime.name}")
    key.write_private_key(str(runtime / HOST_KEY))
    os.chmod(runtime / HOST_KEY, 0o600)
    wanted = {d: port_base + 1 + i for i, d in enumerate(devices)} if port_base else {}
    record = {
        "db": str(db_path.resolve()),
        "devices": devices,
        "username": username,
        "password": secrets.token_urlsafe(12),
        "wanted_ports": wanted,
        "roles": roles or {},
    }
    write_record(runtime, record)
    logfile = open(runtime / "server.log", "ab")  # noqa: SIM115 (handed to the child)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.Popen(
        [sys.executable, "-m", SERVER_MODULE, str(runtime)],
        stdin=subprocess.DEVNULL,
        stdout=logfile,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=env,
        close_fds=True,
    )
    logfile.close()
    (runtime / "server.pid").write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        record = read_record(runtime)
        if "ports" in record:
            _write_inventory(runtime, record)
            return {**record, "runtime": str(runtime)}
        if "error" in record or proc.poll() is not None:
            stop(db_path)
            raise LabError(record.get("error") or f"the SSH server exited; see {runtime / 'server.log'}")
        time.sleep(0.05)
    stop(db_path)
    raise LabError(f"the SSH server did not come up in 30 s; see {runtime / 'server.log'}")


def _write_inventory(runtime: Path, record: dict[str, Any]) -> None:
    export_nornir(record, runtime / "inventory")


def export_nornir(record: dict[str, Any], directory: Path) -> list[Path]:
    """A Nornir SimpleInventory of the running twin (SSH ports and credentials)."""
    from netops_agent.lab.ssh.inventory import NornirHost, write_nornir

    roles = record.get("roles", {})
    hosts = [
        NornirHost(d, "127.0.0.1", int(p), {"role": roles.get(d, ""), "twin": True})
        for d, p in record["ports"].items()
    ]
    return write_nornir(directory, hosts, record["username"], record["password"])


def _our_server(pid: int, runtime: Path) -> bool:
    """Is `pid` alive and the SSH server we started for this runtime directory?"""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return SERVER_MODULE.encode() in cmdline and str(runtime).encode() in cmdline


def status(db_path: Path) -> dict[str, Any] | None:
    """The record of a running server for this database, or None."""
    runtime = runtime_for(db_path.resolve())
    record = read_record(runtime)
    pid = int(record.get("pid", 0))
    if not record or not pid or not _our_server(pid, runtime):
        return None
    return {**record, "runtime": str(runtime), "inventory": str(runtime / "inventory")}


def stop(db_path: Path) -> bool:
    """Stop the server recorded for this database (SIGTERM, then SIGKILL); remove its files."""
    runtime = runtime_for(db_path.resolve())
    if not runtime.exists():
        return False
    pid_file = runtime / "server.pid"
    pid = int(pid_file.read_text().strip() or 0) if pid_file.exists() else 0
    stopped = False
    if pid and _our_server(pid, runtime):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while _our_server(pid, runtime) and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.05)
        if _our_server(pid, runtime):
            os.kill(pid, signal.SIGKILL)
        _reap(pid)
        stopped = True
    for p in (runtime / RECORD, pid_file, runtime / HOST_KEY, runtime / "server.log"):
        p.unlink(missing_ok=True)
    inv = runtime / "inventory"
    for p in inv.glob("*.yaml") if inv.exists() else []:
        p.unlink()
    for d in (inv, runtime):
        with suppress(OSError):
            d.rmdir()
    return stopped


def _reap(pid: int) -> None:
    with suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
