"""An IOS-like interactive shell over one twin device: prompts, privilege, config mode.

This is the part of a router's vty session that is not transport: the `hostname>` /
`hostname#` prompts, `enable`, `terminal length`/`width`, `configure terminal` with its
sub-mode prompts, `end`, `write memory`, and the caret error for anything unknown.
Show commands, ping and traceroute are the twin's own (`lab.sim.cli` through
`SimLab.execute`), so a session over SSH sees exactly what `lab exec` sees.

Config lines are checked one by one as they are typed (a bad line gets `% Invalid
input` at once and is dropped) and committed to the twin together when the session
leaves config mode (`end`, Ctrl-Z, `exit`, `do ...` or a hang-up). One commit is one
`SimLab.configure` call: one syslog line and the same clock cost as the in-process
transport, which keeps a case over SSH comparable with one run in process.

Session keywords (`enable`, `terminal ...`, `configure terminal`, `end`) never touch the
twin, so logging in and preparing a session costs the twin's clock nothing.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeVar

from netops_agent.lab.sim import config as ios

if TYPE_CHECKING:
    from netops_agent.lab.sim.lab import SimLab

T = TypeVar("T")
INVALID = "% Invalid input detected at '^' marker."
_SUBMODES = {
    "interface": "config-if",
    "bgp": "config-router",
    "ospf": "config-router",
    "acl": "config-ext-nacl",
}
# exec keywords the shell answers itself, with the privilege they need
_SESSION = {
    "enable": 1,
    "disable": 1,
    "exit": 1,
    "logout": 1,
    "quit": 1,
    "terminal": 1,
    "configure": 15,
    "write": 15,
    "copy": 15,
}
# exec keywords the twin answers (lab.sim.cli / SimLab.execute)
_TWIN = {"show": 1, "ping": 1, "traceroute": 1, "clear": 15, "restart": 15}
_PRIVILEGED_SHOW = ("running-config", "startup-config")


class Twin(Protocol):
    """Access to the twin a session works on: in memory, or loaded from DuckDB per call."""

    def call(self, fn: Callable[[SimLab], T], *, write: bool = True) -> T: ...


@dataclass
class Reply:
    """What the shell answers to one line."""

    text: str = ""  # printed before the next prompt ("\n" line endings)
    close: bool = False  # the session ends (logout, or the device went away)
    secret: bool = False  # the next line is a password: read it without echo
    page: bool = False  # long output goes through --More-- when terminal length > 0


@dataclass
class IosShell:
    twin: Twin
    device: str
    username: str
    enable_secret: str
    hostname: str = ""
    privilege: int = 1
    length: int = 24
    width: int = 80
    mode: str = "exec"  # exec | config
    submode: str = ""  # "", config-if, config-router, config-ext-nacl
    pending: list[str] = field(default_factory=list)
    _want_secret: bool = False

    def __post_init__(self) -> None:
        if not self.hostname:
            self.hostname = self.twin.call(lambda lab: lab.configs[self.device].hostname, write=False)

    # --- what the client sees ------------------------------------------------------------------
    def banner(self) -> str:
        line = f"netops-agent digital twin: {self.hostname} (simulated Cisco IOS)"
        rule = "*" * (len(line) + 4)
        notice = "Authorized access only.".ljust(len(line))
        return f"\n{rule}\n* {line} *\n* {notice} *\n{rule}\n\n"

    def prompt(self) -> str:
        if self._want_secret:
            return "Password: "
        if self.mode == "config":
            return f"{self.hostname}({self.submode or 'config'})#"
        return f"{self.hostname}{'#' if self.privilege >= 15 else '>'}"

    # --- input ---------------------------------------------------------------------------------
    def handle(self, line: str) -> Reply:
        if self._want_secret:
            self._want_secret = False
            if hmac.compare_digest(line.encode(), self.enable_secret.encode()):
                self.privilege = 15
                return Reply()
            return Reply("% Access denied\n")
        if line.strip() == "\x1a":
            return self._leave_config()
        if self.mode == "config":
            return self._config(line)
        return self._exec(line)

    def hangup(self) -> None:
        """The client went away: config typed so far is kept, as on a router."""
        if self.mode == "config":
            self._commit()

    # --- exec mode -----------------------------------------------------------------------------
    def _exec(self, line: str) -> Reply:
        words = line.split()
        if not words:
            return Reply()
        known = {**_SESSION, **_TWIN}
        word = words[0].lower()
        matches = [k for k in known if k.startswith(word)]
        if word in known:
            matches = [word]
        if len(matches) > 1:
            return Reply(f'% Ambiguous command:  "{line.strip()}"\n')
        start = len(line) - len(line.lstrip())
        if not matches or known[matches[0]] > self.privilege:
            return self._caret(start)
        if self._privileged_show(matches[0], words):
            return self._caret(line.index(words[1], start + len(words[0])))
        cmd = matches[0]
        if cmd in _TWIN:
            return self._twin(line, read=cmd in ("show", "ping", "traceroute"))
        return getattr(self, f"_cmd_{cmd}")(words[1:], line)

    def _privileged_show(self, cmd: str, words: list[str]) -> bool:
        if cmd != "show" or self.privilege >= 15 or len(words) < 2:
            return False
        return any(k.startswith(words[1].lower()) for k in _PRIVILEGED_SHOW) and len(words[1]) >= 2

    def _caret(self, pos: int) -> Reply:
        return Reply(f"{' ' * (len(self.prompt()) + pos)}^\n{INVALID}\n")

    def _twin(self, line: str, *, read: bool) -> Reply:
        def run(lab: SimLab) -> tuple[str, bool]:
            out = lab.execute(self.device, line)
            return out.text, out.reachable

        text, reachable = self.twin.call(run, write=not read)
        if not reachable:  # the router died under us: the session drops
            return Reply(close=True)
        return Reply(text if text.endswith("\n") or not text else text + "\n", page=True)

    def _cmd_enable(self, args: list[str], line: str) -> Reply:
        if self.privilege >= 15:
            return Reply()
        self._want_secret = True
        return Reply(secret=True)

    def _cmd_disable(self, args: list[str], line: str) -> Reply:
        self.privilege = 1
        return Reply()

    def _cmd_exit(self, args: list[str], line: str) -> Reply:
        return Reply(close=True)

    _cmd_logout = _cmd_quit = _cmd_exit

    def _cmd_terminal(self, args: list[str], line: str) -> Reply:
        if not args:
            return Reply("% Incomplete command.\n")
        sub = [k for k in ("length", "width", "monitor", "no") if k.startswith(args[0].lower())]
        if len(sub) != 1:
            return self._caret(line.index(args[0], line.index(line.split()[0]) + 1))
        if sub[0] in ("monitor", "no"):
            return Reply()
        if len(args) != 2 or not args[1].isdigit() or int(args[1]) > 512:
            return Reply("% Incomplete command.\n") if len(args) < 2 else self._caret(line.rindex(args[-1]))
        setattr(self, sub[0], int(args[1]))
        return Reply()

    def _cmd_configure(self, args: list[str], line: str) -> Reply:
        if args and not "terminal".startswith(args[0].lower()):
            return self._caret(line.index(args[0], len(line.split()[0])))
        self.mode, self.submode, self.pending = "config", "", []
        return Reply("Enter configuration commands, one per line.  End with CNTL/Z.\n")

    def _cmd_write(self, args: list[str], line: str) -> Reply:
        if args and not "memory".startswith(args[0].lower()):
            return self._caret(line.index(args[0], len(line.split()[0])))
        return Reply("Building configuration...\n[OK]\n")

    def _cmd_copy(self, args: list[str], line: str) -> Reply:
        if [a.lower() for a in args] in (["running-config", "startup-config"], ["run", "start"]):
            return Reply("Destination filename [startup-config]? \nBuilding configuration...\n[OK]\n")
        return self._caret(len(line.split()[0]) + 1)

    # --- config mode ---------------------------------------------------------------------------
    def _config(self, line: str) -> Reply:
        text = line.strip()
        if not text or text.startswith("!"):
            return Reply()
        low = text.lower()
        if low == "end":
            return self._leave_config()
        if low.startswith("do "):
            self._commit()
            self.mode, self.submode = "exec", ""
            reply = self._exec(text[3:])
            self.mode = "config"
            return reply
        if low == "exit":
            if self.submode:
                self.pending.append("exit")
                self.submode = ""
                return Reply()
            return self._leave_config()
        text = self._canonical(text)
        mode = self.twin.call(lambda lab: _check(lab, self.device, [*self.pending, text]), write=False)
        if mode is None:
            return self._caret(len(line) - len(line.lstrip()))
        self.pending.append(text)
        self.submode = _SUBMODES.get(mode[0], "")
        return Reply()

    def _canonical(self, text: str) -> str:
        words = text.split()
        if len(words) < 2 or not "interface".startswith(words[0].lower()) or len(words[0]) < 3:
            return text
        from netops_agent.lab.sim.render_common import resolve_interface

        name = "".join(words[1:])
        resolved = self.twin.call(lambda lab: resolve_interface(lab, self.device, name), write=False)
        return f"interface {resolved or name}"

    def _leave_config(self) -> Reply:
        if self.mode != "config":
            return Reply()
        text = self._commit()
        self.mode, self.submode = "exec", ""
        return Reply(text)

    def _commit(self) -> str:
        lines, self.pending = self.pending, []
        if not lines:
            return ""

        def apply(lab: SimLab) -> tuple[str, str]:
            out = lab.configure(self.device, lines, author=self.username)
            return ("" if out.ok else out.text + "\n"), lab.configs[self.device].hostname

        text, self.hostname = self.twin.call(apply)
        return text


def _check(lab: SimLab, device: str, lines: list[str]) -> tuple[str, str] | None:
    """The config mode after `lines`, or None if the last line is not valid there."""
    candidate = lab.configs[device].copy()
    try:
        return ios.apply_lines(candidate, lines)
    except (ios.ConfigSyntaxError, KeyError, ValueError, IndexError):
        return None
