"""Fixtures for the real-router tests: one FRR lab per test module (per xdist worker).

The lab tests need root, `ip netns` and FRR; without them they skip with a reason
that names what is missing and how to install it. The lab fixture always tears the
lab down (yield + finally) and then checks that nothing it created is left behind:
no namespace, no FRR or helper process, no daemon directory, no state file.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from netops_agent.lab.frr import FrrLab, frr_inventory, missing_prerequisites
from netops_agent.lab.frr.state import load_state
from netops_agent.lab.frr.system import FRR_RUN, NETNS_DIR, pid_alive
from netops_agent.tools.frr_parsers import FRR_TOOLS


def frr_skip_reason() -> str | None:
    missing = missing_prerequisites()
    if not missing:
        return None
    return "FRR lab prerequisites missing: " + "; ".join(missing)


def lab_prefix(tag: str = "t") -> str:
    """Unique per test process (xdist worker), so parallel workers, and test runs in
    other sessions on the same host, never share namespaces."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main").removeprefix("gw")
    return f"nops-{tag}{worker}p{os.getpid()}"


def leftovers(prefix: str, runtime: Path) -> list[str]:
    """Anything of a torn-down lab still on the host (namespaces, daemon dirs, processes,
    veths that escaped into the root namespace, the state file)."""
    found = [f"namespace {p.name}" for p in NETNS_DIR.glob(f"{prefix}-*")]
    found += [f"daemon dir {p}" for p in FRR_RUN.glob(f"{prefix}-*")]
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        args = [a.decode(errors="replace") for a in cmdline]
        if state != "Z" and any(a.startswith(f"{prefix}-") for a in args):
            found.append(f"process {proc.name}: {' '.join(args)[:80]}")
    root_links = json.loads(subprocess.run(["ip", "-j", "link", "show", "type", "veth"],
                                           capture_output=True, text=True).stdout or "[]")  # fmt: skip
    # (not eth*: a container's own eth0 is often a veth)
    found += [f"veth {r['ifname']} in the root namespace" for r in root_links
              if re.fullmatch(r"l\d+[ab]|Vlan100", r.get("ifname", ""))]  # fmt: skip
    if (runtime / "frr-lab.json").exists():
        found.append(f"state file {runtime / 'frr-lab.json'}")
    return found


@pytest.fixture(scope="module")
def frr_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FrrLab]:
    reason = frr_skip_reason()
    if reason:
        pytest.skip(reason)
    prefix = lab_prefix()
    runtime = tmp_path_factory.mktemp("frr") / "lab"
    FrrLab.down(runtime)  # nothing there; proves down is safe on an empty directory
    pids: set[int] = set()
    try:
        lab = FrrLab.up(frr_inventory(), runtime, prefix=prefix, timeout=60)
        pids = {pid for r in lab.state.routers.values() for pid in r.pids.values()}
        yield lab
    finally:
        state = load_state(runtime)
        if state is not None:
            pids |= {h.pid for h in state.helpers}
        FrrLab.down(runtime)
        FrrLab.down(runtime)  # idempotent
        left = leftovers(prefix, runtime)
        left += [f"process {pid} still alive" for pid in pids if pid_alive(pid)]
        assert not left, f"lab down left things behind: {left}"


def wait_until(check: Callable[[], Any], timeout: float = 15.0, every: float = 0.2) -> Any:
    """Poll `check` until it returns something truthy; return it (or the last value)."""
    deadline = time.monotonic() + timeout
    value = check()
    while not value and time.monotonic() < deadline:
        time.sleep(every)
        value = check()
    return value


def run_tool(lab: FrrLab, name: str, device: str, **params: Any) -> Any:
    """Build the tool's FRR command, run it on the lab and parse it (like the executor)."""
    build, parse = FRR_TOOLS[name]
    out = lab.execute(device, build(params))
    assert out.ok, f"{name} on {device} failed: {out.error}"
    return parse(out, params)
