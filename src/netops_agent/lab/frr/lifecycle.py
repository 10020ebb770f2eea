"""Bring the FRR lab up and tear it down, recording everything before creating it.

`bring_up` checks prerequisites, refuses to clobber a running lab or someone else's
namespaces, writes the state file, then creates the network and starts the daemons.
`tear_down` reads the state file and removes processes (daemons, helpers, anything
left inside the lab's namespaces), namespaces and files. It never touches a process
or namespace the state file does not name.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

from netops_agent.errors import BackendUnavailableError, LabError
from netops_agent.lab.frr import daemons
from netops_agent.lab.frr.netns import (
    create_network,
    delete_namespaces,
    namespace_pids,
    ns_exists,
    plan,
)
from netops_agent.lab.frr.state import LabState, load_state, save_state, state_path
from netops_agent.lab.frr.system import FRR_RUN, check_prerequisites, kill_all, terminate
from netops_agent.models import Inventory

OSPF_GR_FILE = FRR_RUN / "ospfd-gr.json"  # ospfd writes it on exit, outside its pathspace


def bring_up(inventory: Inventory, runtime_dir: Path, prefix: str, keep_on_failure: bool) -> LabState:
    """Create namespaces, cables and hosts and start the daemons (configs come next)."""
    check_prerequisites()
    runtime_dir = runtime_dir.resolve()
    _refuse_running(runtime_dir)
    state = plan(inventory, str(runtime_dir), prefix, datetime.now(timezone.utc).isoformat())
    clash = [ns for ns in state.namespaces() if ns_exists(ns)]
    if clash:
        raise LabError(
            f"network namespaces {', '.join(clash)} already exist (another FRR lab with prefix "
            f"{prefix!r}?); run `netops-agent lab down` on that lab or choose another prefix"
        )
    state.created_runtime_dir = not runtime_dir.exists()
    runtime_dir.mkdir(parents=True, exist_ok=True)
    state.ospf_gr_file_preexisting = OSPF_GR_FILE.exists()
    save_state(state)  # before creating anything: `down` must find whatever exists
    started = time.monotonic()
    try:
        create_network(state)
        state.timings["network_s"] = round(time.monotonic() - started, 3)
        _start_routers(state)
        state.timings["daemons_s"] = round(time.monotonic() - started - state.timings["network_s"], 3)
        save_state(state)
    except BaseException:
        if not keep_on_failure:
            tear_down(runtime_dir)
        raise
    return state


def _refuse_running(runtime_dir: Path) -> None:
    existing = load_state(runtime_dir)
    if existing is None:
        return
    alive = [ns for ns in existing.namespaces() if ns_exists(ns)]
    if existing.status == "up" and alive:
        raise LabError(
            f"an FRR lab is already running in {runtime_dir} ({len(alive)} namespaces); "
            "run `netops-agent lab down` first"
        )
    tear_down(runtime_dir)  # leftovers of a crashed or failed bring-up


def _start_routers(state: LabState) -> None:
    routers = list(state.routers.values())
    for router in routers:
        daemons.prepare_dir(router)
    pids = daemons.start_all(routers)
    for router in routers:
        router.pids = pids[router.name]
    save_state(state)


def tear_down(runtime_dir: Path) -> dict[str, list[str]]:
    """Remove everything the lab in `runtime_dir` created. Safe to call repeatedly."""
    report: dict[str, list[str]] = {"processes": [], "namespaces": [], "files": []}
    state = load_state(runtime_dir)
    if state is None:
        return report
    if os.geteuid() != 0:
        raise BackendUnavailableError(
            f"removing the FRR lab in {runtime_dir} needs root (namespaces and daemons are root's); "
            "run `netops-agent lab down` as root"
        )
    killed = terminate({h.pid: h.marker for h in state.helpers})
    for router in state.routers.values():
        killed += daemons.stop_daemons(router)
    for ns in state.namespaces():
        killed += kill_all(namespace_pids(ns), grace=2.0)  # only the lab puts processes there
    report["processes"] = [str(pid) for pid in killed]
    report["namespaces"] = delete_namespaces(state.namespaces())
    report["files"] = _remove_files(state, runtime_dir)
    return report


def _remove_files(state: LabState, runtime_dir: Path) -> list[str]:
    removed: list[str] = []
    for router in state.routers.values():
        d = Path(router.dir)
        if d.parent == FRR_RUN and d.name == router.ns and d.exists():  # never outside our pathspace
            shutil.rmtree(d, ignore_errors=True)
            removed.append(str(d))
    if not state.ospf_gr_file_preexisting and OSPF_GR_FILE.exists():
        OSPF_GR_FILE.unlink()
        removed.append(str(OSPF_GR_FILE))
    state_file = state_path(runtime_dir)
    for path in [state_file, *runtime_dir.glob(f"{state_file.name}.*.tmp")]:
        if path.exists():
            path.unlink()
            removed.append(str(path))
    if state.created_runtime_dir and runtime_dir.exists() and not any(runtime_dir.iterdir()):
        runtime_dir.rmdir()
        removed.append(str(runtime_dir))
    return removed
