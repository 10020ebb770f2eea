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
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from netops_agent.errors import LabError
from netops_agent.lab.base import CommandOutput
from netops_agent.lab.frr import counters, daemons, netns, observe
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


class FrrLab:
    """A running FRR lab (see module docstring). Build with `up()` or `attach()`."""

    backend = "frr"
    platform = "frr"

    # advance(): waits of at least CONVERGE_WAIT_S are waits for convergence after a change
    CONVERGE_WAIT_S = 20.0

    def __init__(
        self,
        state: LabState,
        *,
        max_advance: float = 2.0,
        min_settle: float = 1.0,
        quiet_s: float = 3.0,
        max_settle: float = 20.0,
    ) -> None:
        self._state = state
        self.max_advance = max_advance
        self.min_settle = min_settle
        self.quiet_s = quiet_s
        self.max_settle = max_settle
        self._rates = counters.RateSampler()
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
        """Create and start the lab, then wait until it has converged (up to `timeout` s).

        `lab.timings` holds the measurements: `network_s`, `daemons_s` and `config_s`
        per step; `bgp_established_s`, `ospf_full_s` and `routes_s` counted from the
        first namespace created; `bringup_s` (= all BGP sessions Established) and
        `total_s` (the whole call). On failure everything created is removed again
        unless `keep_on_failure` (then `down()` removes it later).
        """
        started = time.monotonic()
        lab = cls(bring_up(inventory, Path(runtime_dir), prefix, keep_on_failure))
        try:
            lab._apply_golden_and_wait(timeout)
        except BaseException:
            if not keep_on_failure:
                tear_down(Path(runtime_dir))
            raise
        lab._state.timings["total_s"] = round(time.monotonic() - started, 3)
        lab._save()
        return lab

    @classmethod
    def attach(cls, runtime_dir: Path | str) -> FrrLab:
        """Reopen the lab running in `runtime_dir` (raises LabError if there is none)."""
        state = load_state(Path(runtime_dir))
        if state is None or state.status != "up":
            raise LabError(
                f"no FRR lab is running in {runtime_dir}; start one with `netops-agent lab up --backend frr`"
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
        self._state.frr_version = _frr_version(next(iter(self._state.routers.values())))
        self._save()
        with ThreadPoolExecutor(max_workers=len(self._state.routers)) as pool:
            list(pool.map(self._load_golden, self._state.routers.values()))  # re-raises errors
        self._save()
        self.sync_carrier()
        self._state.timings["config_s"] = round(time.monotonic() - started, 3)
        converged = observe.wait_converged(self._state, timeout, started)
        before = self._state.timings.get("network_s", 0.0) + self._state.timings.get("daemons_s", 0.0)
        self._state.timings.update({k: round(v + before, 3) for k, v in converged.items()})
        self._state.timings["bringup_s"] = self._state.timings["bgp_established_s"]
        self._state.status = "up"
        self._save()

    def _load_golden(self, router: RouterState) -> None:
        """Apply one router's golden config (FRR lines via vtysh, the rest to the kernel)."""
        tr = translate(self.golden_config(router.name).splitlines())
        if tr.errors:
            raise LabError(f"golden config of {router.name} does not translate: {tr.errors}")
        daemons.apply_config(router, "\n".join([*daemons.BOOTSTRAP_LINES, *tr.vtysh_lines]))
        self._apply_kernel(router, tr.kernel, save=False)
        self._sync_acls(router)

    # --- Lab protocol ------------------------------------------------------------------
    def inventory(self) -> Inventory:
        return self._state.inventory

    def golden_config(self, device: str) -> str:
        return render_frr_config(self._state.inventory, device, self._state.frr_version)

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
        self.reload_state()  # another process may have changed bindings, cuts or faults
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
        self.sync_carrier(device)
        self._log_config(router, lines)
        return CommandOutput(ok=not error, text=text, error=error)

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def advance(self, seconds: float) -> None:
        """Let real time pass on the real routers.

        A wait shorter than `CONVERGE_WAIT_S` (e.g. between two counter reads) sleeps
        for it, at most `max_advance` s. A longer one is a wait for convergence after a
        change: after `min_settle` s it ends as soon as the network has converged (every
        BGP session Established, every OSPF adjacency FULL, every route present) or
        routing has been quiet (no session, adjacency or route changing) for `quiet_s`
        and no BGP session that is down has a start timer due before the wait's end, so a
        fault elsewhere does not hold it up but a session backing off after a fixed OPEN
        error is waited for; never longer than `min(seconds, max_settle)`. All of it is
        read from the routers.
        """
        seconds = max(0.0, float(seconds))
        if seconds < self.CONVERGE_WAIT_S:
            time.sleep(min(seconds, self.max_advance))
            return
        started = time.monotonic()
        deadline = started + min(seconds, self.max_settle)
        time.sleep(min(seconds, self.min_settle))
        last, since = "", time.monotonic()
        while time.monotonic() < deadline:
            converged, digest, due = observe.routing_watch(self._state)
            now = time.monotonic()
            if digest != last:
                last, since = digest, now
            pending = due is not None and now + due < deadline  # bgpd will try again in time
            if converged or (now - since >= self.quiet_s and not pending):
                return
            time.sleep(0.25)

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

    def reloaded(self) -> LabState:
        self.reload_state()
        return self._state

    def save(self) -> None:
        self._save()

    def sync_carrier(self, device: str | None = None) -> None:
        """Propagate admin state and cut cables to the far ends (see `netns.sync_carrier`)."""
        self.reload_state()
        links = self._state.inventory.links
        ids = [lk.id for lk in links if device is None or device in (lk.a_device, lk.b_device)]
        netns.sync_carrier(self._state, ids)

    def start_helper(self, device: str, argv: list[str], purpose: str, fault_id: str, marker: str) -> int:
        """Start a long-running program in a router's namespace (e.g. a traffic load).

        `marker` must be one of the program's arguments: `down` checks it before
        signalling the pid, so a reused pid is never killed.
        """
        if marker not in argv:
            raise LabError(f"helper marker {marker!r} must be one of its arguments")
        self.reload_state()
        router = self._router(device)
        proc = subprocess.Popen(
            ["ip", "netns", "exec", router.ns, *argv],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        self._children.append(proc)
        self._state.helpers.append(
            HelperProcess(pid=proc.pid, ns=router.ns, marker=marker, purpose=purpose, fault_id=fault_id)
        )
        self._save()
        return proc.pid

    def stop_helpers(self, fault_id: str) -> None:
        self.reload_state()
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
        if proc.returncode != 0:
            # "failed to connect to any daemons": the router is dead, not the command wrong
            reachable = "failed to connect" not in proc.stdout + proc.stderr
            return CommandOutput(
                ok=False, text=text, error=(proc.stderr or text).strip(), reachable=reachable
            )
        if not as_json:
            return CommandOutput(ok=True, text=text)
        try:
            return CommandOutput(ok=True, text=text, fmt="json", data=json.loads(text or "{}"))
        except json.JSONDecodeError:
            return CommandOutput(ok=False, text=text, error=f"FRR did not return JSON: {text[:200]}")

    def _ip(self, router: RouterState, args: list[str], as_json: bool) -> CommandOutput:
        proc = run(["ip", "-n", router.ns, *args], check=False)
        if proc.returncode != 0:
            return CommandOutput(ok=False, text=proc.stdout, error=proc.stderr.strip())
        if not as_json:
            return CommandOutput(ok=True, text=proc.stdout)
        rows = json.loads(proc.stdout or "[]")
        if "-s" not in args or not {"link", "l"} & set(args):
            return CommandOutput(ok=True, text=proc.stdout, fmt="json", data=rows)

        def fetch() -> list[dict[str, Any]] | None:
            again = run(["ip", "-n", router.ns, *args], check=False)
            return json.loads(again.stdout or "[]") if again.returncode == 0 else None

        rows, meta = self._rates.read(router.name, rows, fetch)
        meta["qdisc_drops"] = counters.qdisc_drops(router.ns)
        meta["bandwidth_kbps"] = counters.bandwidth_kbps(self._state.inventory, router.name)
        return CommandOutput(ok=True, text=json.dumps(rows), fmt="json", data=rows, meta=meta)

    def _running_config(self, router: RouterState) -> CommandOutput:
        proc = daemons.vtysh(router, ["show running-config"])
        if proc.returncode != 0:
            return CommandOutput(ok=False, text=proc.stdout, error=(proc.stderr or proc.stdout).strip(),
                                 reachable="failed to connect" not in proc.stderr)  # fmt: skip
        p2p = {i.name for i in self._state.inventory.interfaces
               if i.device == router.name and i.kind == "p2p"}  # fmt: skip
        mtus = {
            row["ifname"]: int(row["mtu"]) for row in observe.links(router.ns) if row.get("ifname") in p2p
        }
        bindings = self._state.acl_bindings.get(router.name, {})
        return CommandOutput(ok=True, text=augment_running_config(proc.stdout, mtus, bindings))

    def _apply_kernel(self, router: RouterState, actions: list[KernelAction], save: bool = True) -> None:
        for action in actions:
            if observe.link(router.ns, action.interface) is None:
                raise LabError(f"{router.name} has no interface {action.interface}")
            if action.kind == "mtu":
                run(["ip", "-n", router.ns, "link", "set", "dev", action.interface, "mtu", str(action.mtu)])
                continue
            bound = self._state.acl_bindings.setdefault(router.name, {}).setdefault(action.interface, {})
            if action.kind == "acl_bind":
                bound[action.direction] = action.acl
            elif not action.acl or bound.get(action.direction) == action.acl:
                bound.pop(action.direction, None)
        if save:
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


def _frr_version(router: RouterState) -> str | None:
    proc = daemons.vtysh(router, ["show version"])
    m = re.search(r"FRRouting (\S+)", proc.stdout)
    return m.group(1) if m else None
