"""`FrrLab`: real FRR routers in Linux network namespaces behind the `Lab` protocol.

`FrrLab.up()` builds the network from an inventory (namespaces, cables, customer
hosts, daemons, golden configs) and waits until every BGP session is Established
and every OSPF adjacency FULL. `FrrLab.attach()` reopens a running lab from its
state file (another process, e.g. the next CLI call). `FrrLab.down()` removes every
namespace, process and file the lab created, also after a crash.

Commands and configuration go to the real routers: `execute()` runs vtysh, iproute2
or ping inside the router's namespace; `configure()` applies IOS/FRR-style lines
through vtysh and applies what FRR cannot do itself (MTU, interface ACLs) to the
kernel (see `translate.py`).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from netops_agent.errors import LabError
from netops_agent.lab.base import CommandOutput
from netops_agent.lab.frr import daemons, netns, observe
from netops_agent.lab.frr.commands import CONFIG_LOG, CommandRejected, parse_command, read_logs
from netops_agent.lab.frr.lifecycle import bring_up, tear_down
from netops_agent.lab.frr.state import HelperProcess, LabState, RouterState, load_state, save_state
from netops_agent.lab.frr.system import run, terminate
from netops_agent.lab.frr.topology import render_frr_config
from netops_agent.lab.frr.translate import (
    KernelAction,
    augment_running_config,
    parse_access_lists,
    render_nft,
    translate,
)
from netops_agent.models import Inventory

_CONTEXT_ONLY = ("interface ", "router ", "exit", "address-family ")
_RATE_WINDOW_S = 30.0


class FrrLab:
    """A running FRR lab (see module docstring). Build with `up()` or `attach()`."""

    backend = "frr"
    platform = "frr"

    def __init__(self, state: LabState, *, max_advance: float = 3.0) -> None:
        self._state = state
        self.max_advance = max_advance
        self._samples: dict[str, tuple[float, dict[str, tuple[int, int]]]] = {}
        self._children: list[subprocess.Popen[bytes]] = []

    # --- lifecycle ---------------------------------------------------------------------
    @classmethod
    def up(
        cls,
        inventory: Inventory,
        runtime_dir: Path | str,
        *,
        prefix: str = "nops",
        timeout: float = 60.0,
        keep_on_failure: bool = False,
    ) -> FrrLab:
        """Create and start the lab; `lab.timings` holds the measured bring-up seconds."""
        lab = cls(bring_up(inventory, Path(runtime_dir), prefix, keep_on_failure))
        try:
            lab._apply_golden_and_wait(timeout)
        except BaseException:
            if not keep_on_failure:
                tear_down(Path(runtime_dir))
            raise
        return lab

    @classmethod
    def attach(cls, runtime_dir: Path | str) -> FrrLab:
        """Reopen the lab running in `runtime_dir` (raises LabError if there is none)."""
        state = load_state(Path(runtime_dir))
        if state is None or state.status != "up":
            raise LabError(
                f"no FRR lab is running in {runtime_dir}; start one with "
                "`netops-agent lab up --backend frr`"
            )
        missing = [ns for ns in state.namespaces() if not netns.ns_exists(ns)]
        if missing:
            raise LabError(
                f"the FRR lab in {runtime_dir} is broken: namespaces {', '.join(missing)} are "
                "gone; run `netops-agent lab down` and bring it up again"
            )
        return cls(state)

    @classmethod
    def down(cls, runtime_dir: Path | str) -> dict[str, list[str]]:
        """Remove everything the lab in `runtime_dir` created; idempotent, crash-safe."""
        return tear_down(Path(runtime_dir))

    def _apply_golden_and_wait(self, timeout: float) -> None:
        started = time.monotonic()
        for name, router in self._state.routers.items():
            tr = translate(self.golden_config(name).splitlines())
            if tr.errors:
                raise LabError(f"golden config of {name} does not translate: {tr.errors}")
            daemons.apply_config(router, "\n".join([*daemons.BOOTSTRAP_LINES, *tr.vtysh_lines]))
            self._apply_kernel(router, tr.kernel)
            self._sync_acls(router)
        self._state.timings["config_s"] = round(time.monotonic() - started, 3)
        converged = observe.wait_converged(self._state, timeout, started)
        before = self._state.timings.get("network_s", 0.0) + self._state.timings.get("daemons_s", 0.0)
        self._state.timings.update({k: round(v + before, 3) for k, v in converged.items()})
        self._state.timings["bringup_s"] = self._state.timings["bgp_established_s"]
        self._state.status = "up"
        self._save()

    # --- Lab protocol ------------------------------------------------------------------
    def inventory(self) -> Inventory:
        return self._state.inventory

    def golden_config(self, device: str) -> str:
        return render_frr_config(self._state.inventory, device)

    def execute(self, device: str, command: str) -> CommandOutput:
        router = self._router(device)
        if not netns.ns_exists(router.ns):
            return _unreachable(device)
        try:
            parsed = parse_command(command)
        except CommandRejected as exc:
            return CommandOutput(ok=False, text="", error=str(exc))
        if parsed.kind == "running-config":
            return self._running_config(router)
        if parsed.kind == "logging":
            return CommandOutput(ok=True, text=read_logs(Path(router.dir)))
        if parsed.kind == "vtysh":
            return self._vtysh(router, parsed.args[0], parsed.json)
        if parsed.kind == "ip":
            return self._ip(router, list(parsed.args), parsed.json)
        proc = run(["ip", "netns", "exec", router.ns, "ping", *parsed.args], check=False,
                   timeout=parsed.timeout)  # fmt: skip
        text = proc.stdout + proc.stderr
        ok = proc.returncode in (0, 1) or "unreachable" in text or "local error" in text
        return CommandOutput(ok=ok, text=text, error="" if ok else text.strip(),
                             meta={"count": parsed.count})  # fmt: skip

    def configure(self, device: str, lines: list[str]) -> CommandOutput:
        router = self._router(device)
        if not netns.ns_exists(router.ns):
            return _unreachable(device)
        tr = translate(lines)
        if tr.errors:
            return CommandOutput(ok=False, text="", error="; ".join(tr.errors))
        text, error = "", ""
        if any(not line.startswith(_CONTEXT_ONLY) for line in tr.vtysh_lines):
            proc = daemons.vtysh(router, ["configure terminal", *tr.vtysh_lines])
            text = (proc.stdout + proc.stderr).strip()
            if proc.returncode != 0:
                error = text or f"vtysh exited with {proc.returncode}"
        if not error:
            try:
                self._apply_kernel(router, tr.kernel)
                if tr.touches_acl or tr.kernel:
                    self._sync_acls(router)
            except LabError as exc:
                error = str(exc)
        self._log_config(router, lines)
        return CommandOutput(ok=not error, text=text, error=error)

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def advance(self, seconds: float) -> None:
        """Real time passes on real routers; sleep at most `max_advance` seconds."""
        time.sleep(max(0.0, min(float(seconds), self.max_advance)))

    def state_hash(self) -> str:
        digest = hashlib.sha256()
        for name in sorted(self._state.routers):
            router = self._state.routers[name]
            digest.update(name.encode())
            running = self._running_config(router).text.splitlines()
            digest.update("\n".join(x for x in running if not x.startswith(("Building", "Current"))).encode())
            for row in sorted(observe.links(router.ns), key=lambda r: r.get("ifname", "")):
                digest.update(f"{row.get('ifname')}|{sorted(row.get('flags', []))}|{row.get('mtu')}".encode())
            for q in observe.qdiscs(router.ns):
                digest.update(f"{q.get('dev')}|{q.get('kind')}|{q.get('options')}".encode())
            digest.update(observe.nft_text(router.ns).encode())
        for row in observe.links(self._state.wire_ns):
            digest.update(f"{row.get('ifname')}|{'UP' in row.get('flags', [])}".encode())
        return digest.hexdigest()

    # --- extras: status, timings, helpers for the fault injector ---------------------------
    @property
    def state(self) -> LabState:
        return self._state

    @property
    def runtime_dir(self) -> Path:
        return Path(self._state.runtime_dir)

    @property
    def timings(self) -> dict[str, float]:
        return dict(self._state.timings)

    @property
    def bringup_seconds(self) -> float:
        return self._state.timings.get("bringup_s", 0.0)

    def status(self) -> list[dict[str, Any]]:
        """One row per router: daemons alive, BGP Established and OSPF FULL counts."""
        return [observe.router_status(self._state, name) for name in self._state.routers]

    def router(self, device: str) -> RouterState:
        return self._router(device)

    def reload_state(self) -> None:
        """Re-read the state file (another process may have injected or repaired faults)."""
        state = load_state(self.runtime_dir)
        if state is not None:
            self._state = state

    def save(self) -> None:
        self._save()

    def start_helper(self, device: str, argv: list[str], purpose: str, fault_id: str) -> int:
        """Start a long-running program in a router's namespace (e.g. a traffic load)."""
        router = self._router(device)
        proc = subprocess.Popen(
            ["ip", "netns", "exec", router.ns, *argv],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        self._children.append(proc)
        self._state.helpers.append(
            HelperProcess(pid=proc.pid, ns=router.ns, marker=argv[0], purpose=purpose, fault_id=fault_id)
        )
        self._save()
        return proc.pid

    def stop_helpers(self, fault_id: str) -> None:
        mine = [h for h in self._state.helpers if h.fault_id == fault_id]
        terminate({h.pid: h.marker for h in mine})
        self._state.helpers = [h for h in self._state.helpers if h.fault_id != fault_id]
        self._save()
        for child in self._children:
            child.poll()  # reap, so a killed helper does not linger as a zombie

    # --- internals ---------------------------------------------------------------------
    def _router(self, device: str) -> RouterState:
        self._state.inventory.device(device)  # UnknownDeviceError with the known names
        return self._state.router(device)

    def _save(self) -> None:
        save_state(self._state)

    def _vtysh(self, router: RouterState, command: str, as_json: bool) -> CommandOutput:
        proc = daemons.vtysh(router, [command])
        text = proc.stdout
        if proc.returncode != 0 or "failed to connect" in proc.stderr:
            reachable = "failed to connect" not in (proc.stdout + proc.stderr)
            return CommandOutput(ok=False, text=text, error=(proc.stderr or text).strip(),
                                 reachable=reachable)  # fmt: skip
        if not as_json:
            return CommandOutput(ok=True, text=text)
        try:
            return CommandOutput(ok=True, text=text, fmt="json", data=json.loads(text or "{}"))
        except json.JSONDecodeError:
            return CommandOutput(ok=False, text=text, error=f"FRR did not return JSON: {text[:200]}")

    def _ip(self, router: RouterState, args: list[str], as_json: bool) -> CommandOutput:
        stats = "-s" in args and any(a in ("link", "l") for a in args)
        proc = run(["ip", "-n", router.ns, *args], check=False)
        if proc.returncode != 0:
            return CommandOutput(ok=False, text=proc.stdout, error=proc.stderr.strip())
        if not as_json:
            return CommandOutput(ok=True, text=proc.stdout)
        data = json.loads(proc.stdout or "[]")
        meta: dict[str, Any] = {}
        if stats:
            data, text, meta = self._with_rates(router, args, data, proc.stdout)
            return CommandOutput(ok=True, text=text, fmt="json", data=data, meta=meta)
        return CommandOutput(ok=True, text=proc.stdout, fmt="json", data=data, meta=meta)

    def _with_rates(
        self, router: RouterState, args: list[str], data: list[dict[str, Any]], text: str
    ) -> tuple[list[dict[str, Any]], str, dict[str, Any]]:
        """Attach input/output rates (from two counter reads), qdisc drops and bandwidth."""
        now = time.monotonic()
        prev = self._samples.get(router.name)
        if prev is None or now - prev[0] > _RATE_WINDOW_S:
            prev = (now, _byte_counters(data))
            time.sleep(0.5)
            proc = run(["ip", "-n", router.ns, *args], check=False)
            if proc.returncode == 0:
                text, data = proc.stdout, json.loads(proc.stdout or "[]")
            now = time.monotonic()
        current = _byte_counters(data)
        dt = max(now - prev[0], 1e-3)
        rates = {
            name: (
                int(max(0, rx - prev[1].get(name, (rx, tx))[0]) * 8 / dt),
                int(max(0, tx - prev[1].get(name, (rx, tx))[1]) * 8 / dt),
            )
            for name, (rx, tx) in current.items()
        }
        self._samples[router.name] = (now, current)
        drops: dict[str, int] = {}
        for q in observe.qdiscs(router.ns, stats=True):
            drops[q.get("dev", "")] = drops.get(q.get("dev", ""), 0) + int(q.get("drops", 0))
        bandwidth = {
            i.name: i.speed_mbps * 1000 for i in self._state.inventory.interfaces if i.device == router.name
        }
        meta = {"rates_bps": rates, "qdisc_drops": drops, "bandwidth_kbps": bandwidth,
                "sample_interval_s": round(dt, 3)}  # fmt: skip
        return data, text, meta

    def _running_config(self, router: RouterState) -> CommandOutput:
        proc = daemons.vtysh(router, ["show running-config"])
        if proc.returncode != 0:
            return CommandOutput(ok=False, text=proc.stdout, error=(proc.stderr or proc.stdout).strip(),
                                 reachable="failed to connect" not in proc.stderr)  # fmt: skip
        p2p = {i.name for i in self._state.inventory.interfaces
               if i.device == router.name and i.kind == "p2p"}  # fmt: skip
        mtus = {row["ifname"]: int(row["mtu"]) for row in observe.links(router.ns) if row.get("ifname") in p2p}
        bindings = self._state.acl_bindings.get(router.name, {})
        return CommandOutput(ok=True, text=augment_running_config(proc.stdout, mtus, bindings))

    def _apply_kernel(self, router: RouterState, actions: list[KernelAction]) -> None:
        for action in actions:
            if action.kind == "mtu":
                run(["ip", "-n", router.ns, "link", "set", "dev", action.interface, "mtu", str(action.mtu)])
                continue
            if observe.link(router.ns, action.interface) is None:
                raise LabError(f"{router.name} has no interface {action.interface}")
            bound = self._state.acl_bindings.setdefault(router.name, {}).setdefault(action.interface, {})
            if action.kind == "acl_bind":
                bound[action.direction] = action.acl
            elif not action.acl or bound.get(action.direction) == action.acl:
                bound.pop(action.direction, None)
        self._save()

    def _sync_acls(self, router: RouterState) -> None:
        """Rebuild the namespace's nftables ACL table from FRR access-lists + bindings."""
        proc = daemons.vtysh(router, ["show running-config"])
        acls = parse_access_lists(proc.stdout)
        script = render_nft(self._state.acl_bindings.get(router.name, {}), acls)
        run(["ip", "netns", "exec", router.ns, "nft", "-f", "-"], input_text=script)

    def _log_config(self, router: RouterState, lines: list[str]) -> None:
        stamp = datetime.now().strftime("%Y/%m/%d %H:%M:%S")
        summary = "; ".join(line.strip() for line in lines if line.strip())[:400]
        entry = f"{stamp} SYS: %CONFIG_I: Configured from vty by netops: {summary}\n"
        path = Path(router.dir) / CONFIG_LOG
        with path.open("a") as fh:
            fh.write(entry)
        os.chmod(path, 0o640)


def _unreachable(device: str) -> CommandOutput:
    return CommandOutput(
        ok=False, text="", reachable=False,
        error=f"{device} is not running (its namespace is missing); run `netops-agent lab up --backend frr`",
    )  # fmt: skip


def _byte_counters(data: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    out = {}
    for row in data:
        stats = row.get("stats64", {})
        out[row["ifname"]] = (int(stats.get("rx", {}).get("bytes", 0)), int(stats.get("tx", {}).get("bytes", 0)))
    return out

