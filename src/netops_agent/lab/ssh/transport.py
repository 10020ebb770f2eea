"""`SshTransport`: Cisco IOS devices over SSH with scrapli.

Why scrapli (`IOSXEDriver`, platform `cisco_iosxe`) and not Netmiko: scrapli finds
the prompt by pattern instead of by timed reads, so a command costs one round trip
(Netmiko's delay-based reads add tens of milliseconds per command, see
docs/ssh.md); its privilege levels (exec, privilege exec, configuration and the
config sub-modes) are explicit, `send_configs` reports each line's failure, and its
exceptions form one hierarchy we can map to "transient" and "refused". Netmiko stays
a first-class client of the twin: the tests log in with both.

One session per device is opened on first use and reused; a command that fails on a
dead or dropped session is retried once on a fresh one (reads only: a change is never
sent twice). An unreachable device is a `CommandOutput` with `reachable=False`, as on
the twin; this never raises for device-side failures. Credentials are never logged.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from netops_agent.lab.base import CommandOutput

log = logging.getLogger("netops_agent.ssh")
UNREACHABLE = "% Connection timed out; remote host not responding"
_SAFE_TO_RETRY = ("show", "ping", "traceroute")


@dataclass(frozen=True)
class SshTarget:
    """How to reach one device. `repr` hides the secrets."""

    host: str
    port: int = 22
    username: str = ""
    password: str = ""
    secret: str = ""  # enable secret (defaults to the password)
    platform: str = "cisco_ios"

    def __repr__(self) -> str:
        return f"SshTarget({self.username}@{self.host}:{self.port}, platform={self.platform})"


class SshTransport:
    """execute/configure over reused scrapli sessions."""

    def __init__(
        self,
        targets: dict[str, SshTarget],
        *,
        timeout_s: float = 15.0,
        retries: int = 1,
        backoff_s: float = 0.2,
    ) -> None:
        self.targets = targets
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.sessions_opened = 0
        self.commands = 0
        self._conns: dict[str, Any] = {}
        # paramiko logs a closed descriptor when a session ends; not news, and not ours to print
        logging.getLogger("paramiko").setLevel(logging.CRITICAL)

    # --- the two calls a network view needs ------------------------------------------------------
    def execute(self, device: str, command: str) -> CommandOutput:
        retry_sent = command.split()[0].lower().startswith(_SAFE_TO_RETRY) if command.split() else True
        return self._with_session(device, lambda c: self._command(c, command), retry_sent=retry_sent)

    def configure(self, device: str, lines: list[str]) -> CommandOutput:
        return self._with_session(device, lambda c: self._configs(c, lines), retry_sent=False)

    def close(self) -> None:
        for device in list(self._conns):
            self._drop(device)

    def __enter__(self) -> SshTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- sessions --------------------------------------------------------------------------------
    def _with_session(self, device: str, send: Any, *, retry_sent: bool) -> CommandOutput:
        from scrapli.exceptions import ScrapliAuthenticationFailed, ScrapliException

        if device not in self.targets:
            return CommandOutput(ok=False, text="", error=f"no SSH target for {device} in the inventory")
        last = ""
        for attempt in range(self.retries + 1):
            sent = False
            try:
                conn = self._session(device)
                sent = True
                self.commands += 1
                return send(conn)
            except ScrapliAuthenticationFailed:
                self._drop(device)
                msg = f"% Authentication failed for {device} (check the inventory's credentials)"
                return CommandOutput(ok=False, text="", error=msg)
            except (ScrapliException, OSError, EOFError) as exc:
                self._drop(device)
                last = type(exc).__name__
                if sent and not retry_sent:
                    break
                if attempt < self.retries:
                    log.info("ssh %s: %s, retrying on a new session", device, last)
                    time.sleep(self.backoff_s * (attempt + 1))
        log.info("ssh %s: unreachable (%s)", device, last)
        return CommandOutput(ok=False, text="", error=UNREACHABLE, reachable=False)

    def _session(self, device: str) -> Any:
        conn = self._conns.get(device)
        if conn is not None and conn.isalive():
            return conn
        from scrapli.driver.core import IOSXEDriver

        t = self.targets[device]
        conn = IOSXEDriver(
            host=t.host,
            port=t.port,
            auth_username=t.username,
            auth_password=t.password,
            auth_secondary=t.secret or t.password,
            auth_strict_key=False,
            ssh_config_file=False,
            transport="paramiko",
            timeout_socket=self.timeout_s,
            timeout_transport=self.timeout_s,
            timeout_ops=self.timeout_s,
        )
        conn.open()
        self.sessions_opened += 1
        self._conns[device] = conn
        return conn

    def _drop(self, device: str) -> None:
        conn = self._conns.pop(device, None)
        if conn is not None:
            try:
                conn.close()
            except Exception:  # a dead session may not close cleanly; it is gone either way
                log.debug("ssh %s: close failed", device)

    # --- responses -------------------------------------------------------------------------------
    @staticmethod
    def _command(conn: Any, command: str) -> CommandOutput:
        r = conn.send_command(command)
        return _output(r.result, r.failed)

    @staticmethod
    def _configs(conn: Any, lines: list[str]) -> CommandOutput:
        multi = conn.send_configs(lines, stop_on_failed=True)
        text = "\n".join(r.result for r in multi if r.result)
        return _output(text, multi.failed)


def _output(text: str, failed: bool) -> CommandOutput:
    text = text + "\n" if text and not text.endswith("\n") else text
    if not failed:
        return CommandOutput(ok=True, text=text)
    error = next((ln.strip() for ln in text.splitlines() if ln.strip().startswith("%")), text.strip())
    return CommandOutput(ok=False, text=text, error=error)
