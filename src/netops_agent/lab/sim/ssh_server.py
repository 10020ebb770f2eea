"""The twin as SSH routers: one asyncssh listener per device on the loopback.

`TwinSshServer` serves an `IosShell` per session over asyncssh with password login,
a generated host key, echo and line editing done here (no asyncssh line editor, so
the bytes on the wire are what a router sends: echo, `\\r\\n`, `--More--`).

Two ways to hold the twin behind the listeners:
- `MemoryTwin`: the `SimLab` object itself (an evaluation case: the server runs on a
  background asyncio thread next to the harness, `ServerThread`);
- `StoredTwin`: the interactive lab's DuckDB file, loaded and saved around every
  command exactly as `netops-agent lab exec` does, so a change over SSH shows in
  `lab exec`, in telemetry and in `solve`, and their changes show over SSH.

`python -m netops_agent.lab.sim.ssh_server RUNTIME_DIR` is the background process
`lab up --ssh` starts (see `lab.sim.ssh_lab`; its record is `lab.sim.ssh_record`);
SIGTERM closes every listener.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from netops_agent.errors import LabError, NetopsError, StoreError
from netops_agent.lab.sim.ios_shell import IosShell, Reply

if TYPE_CHECKING:
    import asyncssh

    from netops_agent.lab.sim.lab import SimLab

T = TypeVar("T")
log = logging.getLogger("netops_agent.ssh_server")
MORE = " --More-- "
_ERASE = "\b" * len(MORE) + " " * len(MORE) + "\b" * len(MORE)


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str  # also the enable secret

    def __repr__(self) -> str:  # never print the password by accident
        return f"Credentials(username={self.username!r}, password='***')"


# --- where the twin lives ------------------------------------------------------------------------
class MemoryTwin:
    """The twin object itself (one evaluation case); calls are serialised by a lock."""

    def __init__(self, lab: SimLab) -> None:
        self.lab = lab
        self._lock = threading.Lock()

    def call(self, fn: Callable[[SimLab], T], *, write: bool = True) -> T:
        with self._lock:
            return fn(self.lab)


class StoredTwin:
    """The interactive lab in DuckDB: load, run, save per call (like `lab exec`).

    A read (`write=False`) reuses the twin loaded last time while the database file is
    unchanged and saves nothing: polling a router over SSH does not move the saved
    twin's clock (`lab exec` and changes do), and costs no database write."""

    def __init__(self, db_path: Path, *, lock_wait_s: float = 10.0) -> None:
        self.db_path = db_path
        self.lock_wait_s = lock_wait_s
        self._cached: tuple[tuple[int, ...], SimLab] | None = None

    def _stamp(self) -> tuple[int, ...]:
        parts: list[int] = []
        for p in (self.db_path, self.db_path.with_name(self.db_path.name + ".wal")):
            try:
                st = p.stat()
                parts += [st.st_mtime_ns, st.st_size]
            except FileNotFoundError:
                parts += [0, 0]
        return tuple(parts)

    def call(self, fn: Callable[[SimLab], T], *, write: bool = True) -> T:
        from netops_agent.lab.sim import persist

        if not write and self._cached is not None and self._cached[0] == self._stamp():
            return fn(self._cached[1])
        with self._open() as store:
            lab = persist.load(store)
            result = fn(lab)
            if write:
                persist.save(lab, store)
        self._cached = (self._stamp(), lab) if not write else None
        return result

    def _open(self) -> Any:
        from netops_agent.store import Store

        deadline = time.monotonic() + self.lock_wait_s
        while True:  # another CLI command may hold the file for a moment
            try:
                return Store(self.db_path)
            except StoreError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)


# --- the server ---------------------------------------------------------------------------------
class TwinSshServer:
    """Listeners for every device of a twin; `start()` returns {device: port}."""

    def __init__(
        self,
        twin: MemoryTwin | StoredTwin,
        devices: list[str],
        creds: Credentials,
        *,
        host_key: asyncssh.SSHKey | None = None,
        host: str = "127.0.0.1",
        ports: dict[str, int] | None = None,
    ) -> None:
        import asyncssh

        self.twin = twin
        self.devices = devices
        self.creds = creds
        self.host = host
        self.host_key = host_key or asyncssh.generate_private_key("ssh-ed25519")
        self.wanted = ports or {}
        self.ports: dict[str, int] = {}
        self.sessions = 0  # sessions served (a benchmark reads it)
        self._acceptors: list[Any] = []
        self._conns: set[Any] = set()

    async def start(self) -> dict[str, int]:
        import asyncssh

        for device in self.devices:
            try:
                acceptor = await asyncssh.create_server(
                    partial(_device_server_class(), self, device),
                    self.host,
                    self.wanted.get(device, 0),
                    server_host_keys=[self.host_key],
                    process_factory=partial(self._session, device),
                    line_editor=False,
                    encoding="utf-8",
                    keepalive_interval=0,
                    login_timeout=30,
                )
            except OSError as exc:
                await self.close()
                raise LabError(
                    f"cannot listen for {device} on {self.host}:{self.wanted.get(device, 0)}: "
                    f"{exc.strerror or exc}; pick another --ssh-port-base (or 0 for free ports)"
                ) from exc
            self._acceptors.append(acceptor)
            self.ports[device] = acceptor.sockets[0].getsockname()[1]
        return self.ports

    async def close(self) -> None:
        for acceptor in self._acceptors:
            acceptor.close()
        for conn in list(self._conns):
            conn.close()
        for acceptor in self._acceptors:
            with contextlib.suppress(Exception):
                await acceptor.wait_closed()
        self._acceptors = []

    def reachable(self, device: str) -> bool:
        return self.twin.call(lambda lab: lab.reachable(device), write=False)

    async def _session(self, device: str, process: asyncssh.SSHServerProcess) -> None:
        import asyncssh

        self.sessions += 1
        shell = IosShell(self.twin, device, process.get_extra_info("username"), self.creds.password)
        io = _Terminal(process)
        try:
            io.write(shell.banner() + shell.prompt())
            while True:
                line = await io.readline(echo=True)
                if line is None:
                    break
                reply = shell.handle(line)
                if reply.close:
                    break
                await self._answer(io, shell, reply)
                if reply.secret:
                    io.write(shell.prompt())
                    secret = await io.readline(echo=False)
                    if secret is None:
                        break
                    await self._answer(io, shell, shell.handle(secret))
                io.write(shell.prompt())
        except (asyncssh.Error, BrokenPipeError, ConnectionError):
            pass
        except NetopsError as exc:  # e.g. the lab was taken down under the session
            io.write(f"\n% {exc}\n")
        finally:
            shell.hangup()
            with contextlib.suppress(Exception):
                process.exit(0)

    async def _answer(self, io: _Terminal, shell: IosShell, reply: Reply) -> None:
        lines = reply.text.split("\n")[:-1] if reply.text else []
        page = shell.length - 1
        if not reply.page or shell.length == 0 or len(lines) <= page:
            io.write(reply.text)
            return
        shown = 0
        step = page
        while shown < len(lines):
            io.write("".join(ln + "\n" for ln in lines[shown : shown + step]))
            shown += step
            if shown >= len(lines):
                break
            io.write(MORE)
            key = await io.readkey()
            io.write(_ERASE)
            if key == " ":
                step = page
            elif key in ("\r", "\n"):
                step = 1
            else:  # q, Ctrl-C or anything else ends the listing
                break


@functools.cache
def _device_server_class() -> type:
    """asyncssh server callbacks for one device's listener: password login only.

    Built on first use so importing this module does not import asyncssh."""
    import asyncssh

    class DeviceServer(asyncssh.SSHServer):
        def __init__(self, server: TwinSshServer, device: str) -> None:
            self.server = server
            self.device = device

        def connection_made(self, conn: Any) -> None:
            self.server._conns.add(conn)
            if not self.server.reachable(self.device):  # a dead router does not answer
                conn.close()

        def connection_lost(self, exc: Exception | None) -> None:
            self.server._conns = {c for c in self.server._conns if not c.is_closed()}

        def begin_auth(self, username: str) -> bool:
            return True

        def password_auth_supported(self) -> bool:
            return True

        def validate_password(self, username: str, password: str) -> bool:
            c = self.server.creds
            user_ok = hmac.compare_digest(username.encode(), c.username.encode())
            return hmac.compare_digest(password.encode(), c.password.encode()) and user_ok

    return DeviceServer


class _Terminal:
    """Echo, line endings, backspace and single keys on an SSH channel, like a vty."""

    def __init__(self, process: asyncssh.SSHServerProcess) -> None:
        self.process = process
        self.buf = ""
        self.last_cr = False

    def write(self, text: str) -> None:
        if text and not self.process.stdout.is_closing():
            self.process.stdout.write(text.replace("\r\n", "\n").replace("\n", "\r\n"))

    async def _more(self) -> bool:
        import asyncssh

        while True:
            try:
                data = await self.process.stdin.read(4096)
            except asyncssh.TerminalSizeChanged:
                continue
            except asyncssh.BreakReceived:
                data = "\x03"
            if not data:
                return False
            self.buf += data
            return True

    async def readkey(self) -> str:
        while not self.buf:
            if not await self._more():
                return "q"
        key, self.buf = self.buf[0], self.buf[1:]
        if key == "\r" and self.buf.startswith("\n"):
            self.buf = self.buf[1:]
        return key

    async def readline(self, *, echo: bool) -> str | None:
        line: list[str] = []
        while True:
            if not self.buf and not await self._more():
                return None
            ch, self.buf = self.buf[0], self.buf[1:]
            if ch == "\n" and self.last_cr:  # the \n of a \r\n pair
                self.last_cr = False
                continue
            self.last_cr = ch == "\r"
            if ch in ("\r", "\n"):
                self.write("\n")
                return "".join(line)
            if ch in ("\x08", "\x7f"):
                if line:
                    line.pop()
                    if echo:
                        self.write("\b \b")
            elif ch == "\x1a":  # Ctrl-Z: leave config mode
                self.write("^Z\n")
                return "\x1a"
            elif ch == "\x03":  # Ctrl-C: drop the line
                self.write("^C\n")
                return ""
            elif ch >= " " or ch == "\t":
                line.append(ch)
                if echo:
                    self.write(ch)


def quiet_transport_logs() -> None:
    """A client that hangs up first makes asyncio warn about writes to a dead socket and
    paramiko log the closed descriptor; neither is news for a lab router."""
    logging.getLogger("asyncio").setLevel(logging.ERROR)
    logging.getLogger("asyncssh").setLevel(logging.WARNING)
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)


# --- a server on a background thread (evaluation cases, tests) ------------------------------------
class ServerThread:
    """Run a `TwinSshServer` on its own asyncio loop in a daemon thread."""

    def __init__(self, server: TwinSshServer) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="twin-ssh", daemon=True)

    def start(self) -> dict[str, int]:
        quiet_transport_logs()
        self.thread.start()
        return asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(timeout=30)

    def stop(self) -> None:
        if not self.thread.is_alive():
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

    def __enter__(self) -> ServerThread:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@functools.cache
def _case_host_key() -> Any:
    """One generated host key per process for the short-lived per-case servers."""
    import asyncssh

    return asyncssh.generate_private_key("ssh-ed25519")


def serve_lab(lab: SimLab, creds: Credentials) -> ServerThread:
    """Serve an in-memory twin on free loopback ports; the caller stops it."""
    devices = [d.name for d in lab.inventory().devices]
    thread = ServerThread(TwinSshServer(MemoryTwin(lab), devices, creds, host_key=_case_host_key()))
    thread.start()
    return thread


# --- the background process of `lab up --ssh` -------------------------------------------------------
async def _serve_forever(runtime: Path) -> None:
    import asyncssh

    from netops_agent.lab.sim.ssh_record import read_record, write_record

    record = read_record(runtime)
    creds = Credentials(record["username"], record["password"])
    key = asyncssh.read_private_key(str(runtime / "ssh_host_ed25519_key"))
    server = TwinSshServer(
        StoredTwin(Path(record["db"])),
        list(record["devices"]),
        creds,
        host_key=key,
        ports={d: int(p) for d, p in record.get("wanted_ports", {}).items()},
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        ports = await server.start()
    except LabError as exc:
        write_record(runtime, {**record, "error": str(exc)})
        raise SystemExit(2) from exc
    write_record(runtime, {**record, "pid": os.getpid(), "ports": ports})
    log.info("serving %d devices on 127.0.0.1", len(ports))
    await stop.wait()
    await server.close()
    log.info("listeners closed")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m netops_agent.lab.sim.ssh_server RUNTIME_DIR")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    quiet_transport_logs()
    runtime = Path(args[0])
    asyncio.run(_serve_forever(runtime))
    with contextlib.suppress(FileNotFoundError):
        (runtime / "server.pid").unlink()


if __name__ == "__main__":
    main()
