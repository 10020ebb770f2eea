"""Host-side helpers for the FRR lab: running programs, validating names, checking PIDs.

Every external program the FRR backend runs goes through `run()`: an argument list
(never a shell), a timeout, and a `LabError` that names the command and its stderr
when it fails. Names and addresses that end up in a command line are validated here
first, so nothing a caller passes can smuggle extra arguments into `ip`, `nft` or
`vtysh`.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from netops_agent.errors import BackendUnavailableError, LabError

FRR_BIN = Path("/usr/lib/frr")
FRR_RUN = Path("/var/run/frr")
NETNS_DIR = Path("/run/netns")
DAEMONS: tuple[str, ...] = ("zebra", "staticd", "ospfd", "bgpd")

_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
_IFNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,14}$")
_ACL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,47}$")

INSTALL_HINT = "apt-get install -y --no-install-recommends frr iputils-ping nftables iproute2"


def run(
    argv: Sequence[str],
    *,
    check: bool = True,
    timeout: float = 20.0,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run one program without a shell; raise `LabError` (with stderr) if it fails."""
    try:
        proc = subprocess.run(
            list(argv),
            input=input_text,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise BackendUnavailableError(
            f"program {argv[0]!r} not found; install the FRR lab prerequisites: {INSTALL_HINT}"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"command timed out after {timeout:.0f}s: {' '.join(argv)}") from exc
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip()
        raise LabError(f"command failed (exit {proc.returncode}): {' '.join(argv)}\n  {detail}")
    return proc


# --- validation ------------------------------------------------------------------


def valid_name(name: str, what: str = "name") -> str:
    """A router or namespace name: lower-case letters, digits and dashes."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise LabError(
            f"invalid {what} {name!r}: use lower-case letters, digits and '-', "
            "starting with a letter, at most 31 characters"
        )
    return name


def valid_ifname(name: str) -> str:
    """A Linux interface name (at most 15 characters, no spaces or slashes)."""
    if not isinstance(name, str) or not _IFNAME_RE.match(name):
        raise LabError(
            f"invalid interface name {name!r}: Linux names are at most 15 characters "
            "of letters, digits, '.', '_' or '-' (for example eth1, lo)"
        )
    return name


def valid_acl_name(name: str) -> str:
    if not isinstance(name, str) or not _ACL_RE.match(name):
        raise LabError(f"invalid access-list name {name!r}: use letters, digits, '-' or '_'")
    return name


def valid_ip(text: str) -> str:
    """An IPv4 address in dotted form."""
    try:
        return str(ipaddress.IPv4Address(text))
    except (ipaddress.AddressValueError, ValueError) as exc:
        raise LabError(f"invalid IPv4 address {text!r}") from exc


def valid_prefix(text: str) -> str:
    """An IPv4 prefix a.b.c.d/len (host bits cleared)."""
    try:
        return str(ipaddress.IPv4Network(text, strict=False))
    except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, ValueError) as exc:
        raise LabError(f"invalid IPv4 prefix {text!r} (expected a.b.c.d/len)") from exc


# --- processes -------------------------------------------------------------------


def pid_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (killed daemons linger as Z)."""
    try:
        stat = Path(f"/proc/{int(pid)}/stat").read_text()
    except (OSError, ValueError):
        return False
    state = stat.rsplit(")", 1)[-1].split()[0] if ")" in stat else "X"
    return state not in ("Z", "X")


def pid_cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{int(pid)}/cmdline").read_bytes()
    except (OSError, ValueError):
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def pid_matches(pid: int, marker: str) -> bool:
    """Does the live process `pid` carry `marker` in its command line (guards PID reuse)?"""
    return pid_alive(pid) and marker in pid_cmdline(pid)


def read_pidfile(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def terminate(pids: dict[int, str], grace: float = 3.0) -> list[int]:
    """SIGTERM each pid whose cmdline carries its marker, then SIGKILL stragglers.

    Returns the pids that were signalled. A pid whose command line no longer
    matches is left alone: it was reused by an unrelated process.
    """
    return kill_all([pid for pid, marker in pids.items() if pid_matches(pid, marker)], grace)


def kill_all(pids: list[int], grace: float = 3.0) -> list[int]:
    """SIGTERM, wait up to `grace` seconds, SIGKILL what is left; zombies count as gone."""
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(pid_alive(p) for p in pids):
        time.sleep(0.05)
    for pid in pids:
        if pid_alive(pid):
            _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(pid_alive(p) for p in pids):
        time.sleep(0.05)
    return pids


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


# --- prerequisites ---------------------------------------------------------------


def missing_prerequisites() -> list[str]:
    """What this host lacks to run the FRR lab, each with how to get it (empty if fine)."""
    missing: list[str] = []
    if os.geteuid() != 0:
        missing.append(
            f"root privileges (running as uid {os.geteuid()}): network namespaces and "
            "FRR daemons need root; run as root (for example with sudo)"
        )
    if shutil.which("ip") is None:
        missing.append("iproute2 'ip' command: apt-get install -y iproute2")
    elif os.geteuid() == 0 and not _netns_usable():
        missing.append("'ip netns' support (ip netns list failed): a kernel with network namespaces")
    absent = [d for d in DAEMONS if not (FRR_BIN / d).exists()]
    if absent or shutil.which("vtysh") is None:
        what = ", ".join(str(FRR_BIN / d) for d in absent) or "vtysh"
        missing.append(f"FRRouting ({what} not found): apt-get install -y --no-install-recommends frr")
    for tool, package in (("ping", "iputils-ping"), ("nft", "nftables"), ("tc", "iproute2")):
        if shutil.which(tool) is None:
            missing.append(f"'{tool}' command: apt-get install -y {package}")
    return missing


def check_prerequisites() -> None:
    """Raise `BackendUnavailableError` naming everything missing and how to install it."""
    missing = missing_prerequisites()
    if missing:
        lines = "\n  - ".join(missing)
        raise BackendUnavailableError(
            f"the FRR lab backend cannot run on this host; missing:\n  - {lines}\n"
            f"  fix: as root, {INSTALL_HINT}"
        )


def _netns_usable() -> bool:
    try:
        proc = subprocess.run(["ip", "netns", "list"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0
