"""FRR daemons per router: start, configure through vtysh, check, stop.

Each router runs zebra, staticd, ospfd and bgpd inside its namespace with its own
FRR pathspace (`-N <namespace>`), so sockets, pid files and logs live in
`/var/run/frr/<namespace>/`. That directory, not the lab's runtime directory, holds
the daemons' files because the daemons drop privileges to the `frr` user, who cannot
enter a root-only runtime directory (pytest's tmp dirs are 0700). Configuration is
applied with `vtysh -f`, which routes each line to the daemon that owns it.
"""

from __future__ import annotations

import grp
import os
import pwd
import subprocess
import time
from pathlib import Path

from netops_agent.errors import BackendUnavailableError, LabError
from netops_agent.lab.frr.state import RouterState
from netops_agent.lab.frr.system import (
    DAEMONS,
    FRR_BIN,
    FRR_RUN,
    pid_alive,
    pid_matches,
    read_pidfile,
    run,
    terminate,
)

# Applied once at bring-up, before the golden config: FRR's defaults that the
# running config does not print when they are on.
BOOTSTRAP_LINES = ["ip forwarding", "ipv6 forwarding"]


def prepare_dir(router: RouterState) -> None:
    """Create the daemon directory (owned by frr) with the start and vtysh configs."""
    try:
        uid = pwd.getpwnam("frr").pw_uid
        gid = grp.getgrnam("frr").gr_gid
    except KeyError as exc:
        raise BackendUnavailableError(
            "user/group 'frr' not found: install FRR with apt-get install -y --no-install-recommends frr"
        ) from exc
    FRR_RUN.mkdir(parents=True, exist_ok=True)
    d = Path(router.dir)
    d.mkdir(parents=True, exist_ok=True)
    os.chown(d, uid, gid)
    (d / "start.conf").write_text(f"hostname {router.name}\n")
    # vtysh reads <config_dir>/<pathspace>/vtysh.conf; its hostname is the one
    # `show running-config` prints (the namespaces share the host's UTS name).
    (d / "vtysh.conf").write_text(f"hostname {router.name}\n")


def start_all(routers: list[RouterState], timeout: float = 15.0) -> dict[str, dict[str, int]]:
    """Start every router's daemons, zebra first everywhere; return pids by router."""
    _launch([(r, "zebra") for r in routers])
    _wait_for(routers, ("zebra",), timeout)
    _launch([(r, d) for r in routers for d in DAEMONS if d != "zebra"])
    return _wait_for(routers, DAEMONS, timeout)


def _launch(jobs: list[tuple[RouterState, str]]) -> None:
    """Start daemons in parallel; each forks into the background (-d) and its launcher exits."""
    procs = [(r, d, subprocess.Popen(_argv(r, d), stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
             for r, d in jobs]  # fmt: skip
    for router, daemon, proc in procs:
        output, _ = proc.communicate(timeout=30)
        if proc.returncode != 0:
            raise LabError(
                f"router {router.name}: {daemon} failed to start (exit {proc.returncode}): "
                f"{output.decode(errors='replace').strip()}"
            )


def _argv(router: RouterState, daemon: str) -> list[str]:
    d = Path(router.dir)
    return [
        "ip", "netns", "exec", router.ns, str(FRR_BIN / daemon), "-d",
        "-N", router.ns, "-f", str(d / "start.conf"),
        "-i", str(d / f"{daemon}.pid"), "--log", f"file:{d / daemon}.log", "-P", "0",
    ]  # fmt: skip


def _wait_for(
    routers: list[RouterState], names: tuple[str, ...], timeout: float
) -> dict[str, dict[str, int]]:
    """Wait until each daemon has written its pid file and opened its vty socket."""
    deadline = time.monotonic() + timeout
    while True:
        pids: dict[str, dict[str, int]] = {}
        missing: list[str] = []
        for router in routers:
            d = Path(router.dir)
            pids[router.name] = {}
            for daemon in names:
                pid = read_pidfile(d / f"{daemon}.pid")
                if pid and pid_alive(pid) and (d / f"{daemon}.vty").exists():
                    pids[router.name][daemon] = pid
                else:
                    missing.append(f"{router.name}/{daemon}")
        if not missing:
            return pids
        if time.monotonic() > deadline:
            raise LabError(
                f"FRR daemons did not come up within {timeout:.0f}s: {', '.join(missing)}; "
                f"see the logs in {FRR_RUN}/<namespace>/"
            )
        time.sleep(0.05)


def vtysh(
    router: RouterState, commands: list[str], timeout: float = 15.0
) -> subprocess.CompletedProcess[str]:
    """Run vtysh commands (each one a separate -c) against the router's daemons."""
    argv = ["vtysh", "--config_dir", str(FRR_RUN), "-N", router.ns]
    for command in commands:
        argv += ["-c", command]
    return run(argv, check=False, timeout=timeout)


def apply_config(router: RouterState, text: str, filename: str = "frr.conf") -> None:
    """Load a whole configuration through `vtysh -f` (raises on any rejected line)."""
    path = Path(router.dir) / filename
    path.write_text(text)
    proc = run(
        ["vtysh", "--config_dir", str(FRR_RUN), "-N", router.ns, "-f", str(path)],
        check=False,
        timeout=30.0,
    )
    if proc.returncode != 0:
        detail = (proc.stdout + proc.stderr).strip()
        raise LabError(f"router {router.name}: FRR rejected the configuration in {path}:\n{detail}")


def daemons_alive(router: RouterState) -> dict[str, bool]:
    return {daemon: pid_alive(router.pids.get(daemon, 0)) for daemon in DAEMONS}


def router_pids(router: RouterState) -> dict[int, str]:
    """Every pid known for the router (state + pid files), with its cmdline marker."""
    pids = {pid: router.ns for pid in router.pids.values()}
    for daemon in DAEMONS:
        pid = read_pidfile(Path(router.dir) / f"{daemon}.pid")
        if pid:
            pids[pid] = router.ns
    return {pid: marker for pid, marker in pids.items() if pid_matches(pid, marker)}


def stop_daemons(router: RouterState) -> list[int]:
    """Stop the router's daemons (only processes whose cmdline names its pathspace)."""
    return terminate(router_pids(router))
