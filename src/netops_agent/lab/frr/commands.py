"""What `FrrLab.execute` accepts, validated before anything runs.

Four families of commands reach a router:
- `show ...` (and `clear ip bgp ...`) go to vtysh as one argument;
- `ip ...` runs iproute2 in the router's namespace, read-only subcommands only;
- `ping ...` runs iputils ping in the namespace, with a fixed set of options;
- `show logging` and `show running-config` are answered by the lab itself
  (FRR's log files; FRR's config plus the kernel-held lines).

Anything else is refused with a message listing what is supported. Validation is
by whitelist, never by escaping: no token may carry a shell metacharacter, a pipe
or a newline, and `ip` may not change anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from netops_agent.errors import LabError
from netops_agent.lab.frr.system import DAEMONS, valid_ifname, valid_ip

SUPPORTED = (
    "`show ...` (vtysh, add `json` for JSON), `clear ip bgp ...`, `show logging`, "
    "`ip [-s] [-j] link|addr|route|neigh show ...` (read-only), "
    "`ping [-c N] [-s N] [-W N] [-i SEC] [-M do|dont] [-I SRC] A.B.C.D`"
)
_SAFE_TOKEN = re.compile(r"^[A-Za-z0-9._:/-]+$")
_VTYSH_TEXT = re.compile(r"^[A-Za-z0-9 ._:/-]+$")
_IP_OBJECTS = {"link", "l", "addr", "address", "a", "route", "r", "neigh", "n", "rule", "maddr"}
_IP_VERBS = {"show", "list", "ls", "lst", "get"}
_IP_OPTIONS = {"-s", "-stats", "-j", "-json", "-d", "-details", "-br", "-brief", "-4", "-p", "-pretty"}
_IP_FORBIDDEN = {"add", "del", "delete", "set", "change", "replace", "flush", "append", "prepend",
                 "save", "restore", "monitor", "exec", "netns", "-n", "-netns", "-b", "-batch",
                 "-force"}  # fmt: skip
_PING_VALUE_FLAGS = {"-c", "-s", "-W", "-i", "-M", "-I", "-w"}
_PING_BARE_FLAGS = {"-q", "-n"}


class CommandRejected(ValueError):
    """The command is not one the lab runs; the message says why and what is allowed."""


@dataclass(frozen=True)
class Parsed:
    kind: str  # vtysh | running-config | logging | ip | ping
    args: tuple[str, ...] = ()
    json: bool = False
    count: int = 0  # ping: packets requested
    timeout: float = 20.0


def parse_command(command: str) -> Parsed:
    """Classify and validate one exec-mode command (raises CommandRejected)."""
    if any(ord(ch) < 32 for ch in command):
        raise CommandRejected("commands may not contain control characters or newlines")
    words = command.split()
    if not words:
        raise CommandRejected(f"empty command; supported: {SUPPORTED}")
    text = " ".join(words)
    if text in ("show running-config", "show run", "show running"):
        return Parsed("running-config")
    if text in ("show logging", "show log"):
        return Parsed("logging")
    if words[0] == "show" or words[:3] in (["clear", "ip", "bgp"], ["clear", "bgp", "ipv4"]):
        if not _VTYSH_TEXT.match(text):
            raise CommandRejected(f"unsupported characters in {text!r} (no pipes or quotes)")
        return Parsed("vtysh", (text,), json=words[-1] == "json")
    if words[0] == "ip":
        return _ip(words[1:])
    if words[0] == "ping":
        return _ping(words[1:])
    raise CommandRejected(f"unsupported command {text!r}; supported: {SUPPORTED}")


def _ip(tokens: list[str]) -> Parsed:
    for tok in tokens:
        if not _SAFE_TOKEN.match(tok):
            raise CommandRejected(f"unsupported token {tok!r} in ip command")
        if tok in _IP_FORBIDDEN:
            raise CommandRejected(f"`ip ... {tok}` changes the router; only read-only ip commands run")
    options = [t for t in tokens if t.startswith("-")]
    rest = [t for t in tokens if not t.startswith("-")]
    bad = [o for o in options if o not in _IP_OPTIONS]
    if bad or not rest or rest[0] not in _IP_OBJECTS:
        raise CommandRejected(f"unsupported ip command; supported: {SUPPORTED}")
    if len(rest) > 1 and rest[1] not in _IP_VERBS and rest[1] != "dev":
        raise CommandRejected(f"`ip {rest[0]} {rest[1]}` is not a read-only subcommand")
    return Parsed("ip", tuple(tokens), json=bool({"-j", "-json"} & set(options)))


def _ping(tokens: list[str]) -> Parsed:
    args: list[str] = []
    dest = ""
    count, interval, wait = 5, 1.0, 1.0
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in _PING_BARE_FLAGS:
            args.append(tok)
        elif tok in _PING_VALUE_FLAGS:
            if i + 1 >= len(tokens):
                raise CommandRejected(f"ping option {tok} needs a value")
            value = _ping_value(tok, tokens[i + 1])
            args += [tok, value]
            count = int(value) if tok == "-c" else count
            interval = float(value) if tok == "-i" else interval
            wait = float(value) if tok == "-W" else wait
            i += 1
        elif not dest:
            dest = _checked(valid_ip, tok, "ping destination")
        else:
            raise CommandRejected(f"unexpected ping argument {tok!r}; supported: {SUPPORTED}")
        i += 1
    if not dest:
        raise CommandRejected("ping needs a destination address")
    if "-c" not in args:
        args = ["-c", str(count), *args]
    return Parsed("ping", (*args, dest), count=count, timeout=count * interval + wait + 10)


def _ping_value(flag: str, value: str) -> str:
    numeric = {"-c": (1, 100), "-s": (0, 65507), "-W": (1, 10), "-w": (1, 60)}
    if flag in numeric:
        low, high = numeric[flag]
        if not value.isdigit() or not low <= int(value) <= high:
            raise CommandRejected(f"ping {flag} expects an integer {low}-{high}, got {value!r}")
        return value
    if flag == "-i":
        try:
            seconds = float(value)
        except ValueError:
            seconds = -1.0
        if not 0.001 <= seconds <= 10:
            raise CommandRejected(f"ping -i expects seconds between 0.001 and 10, got {value!r}")
        return value
    if flag == "-M":
        if value not in ("do", "dont", "want", "probe"):
            raise CommandRejected("ping -M expects do, dont, want or probe")
        return value
    # -I: a source address or an interface name
    if re.match(r"^\d+\.\d+\.\d+\.\d+$", value):
        return _checked(valid_ip, value, "ping source")
    return _checked(valid_ifname, value, "ping source interface")


def _checked(check: Callable[[str], str], value: str, what: str) -> str:
    try:
        return check(value)
    except LabError as exc:
        raise CommandRejected(f"{what}: {exc}") from None


# --- the router's log buffer ---------------------------------------------------------

_STAMP = re.compile(r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}")
CONFIG_LOG = "config.log"


def read_logs(router_dir: Path, limit: int = 1000) -> str:
    """The daemons' log files and the config-change log merged in time order."""
    entries: list[tuple[str, int, str]] = []
    for n, name in enumerate([*(f"{d}.log" for d in DAEMONS), CONFIG_LOG]):
        path = router_dir / name
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            if _STAMP.match(line):
                entries.append((line[:19], n, line))
            elif entries and line.strip():
                stamp, order, prev = entries[-1]
                entries[-1] = (stamp, order, f"{prev} {line.strip()}")
    entries.sort(key=lambda e: e[0])  # stable: within a second, file order is kept
    return "\n".join(e[2] for e in entries[-limit:]) + ("\n" if entries else "")
