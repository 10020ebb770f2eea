"""`SimLab`: the digital twin as a Lab backend.

It keeps configuration (running and golden), physical condition, a simulated clock,
monotonic interface counters and a syslog buffer. Every change goes through
`_commit`, which re-derives protocol state and logs what changed, so the twin cannot
show a symptom without its cause. Persisted to DuckDB by `lab.sim.persist`.
"""

from __future__ import annotations

import gc
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa

from netops_agent.lab.base import CommandOutput
from netops_agent.lab.sim import config as ios
from netops_agent.lab.sim.config import DeviceConfig
from netops_agent.lab.sim.routing import Routing
from netops_agent.lab.sim.state import Conditions, Derived, derive, key
from netops_agent.lab.sim.syslog import LogEvent, diff_events, make
from netops_agent.lab.sim.telemetry import (
    Gauges,
    InterfaceIndex,
    Layout,
    Rates,
    compute_rates,
    layout,
    rate_columns,
    sample,
    sample_values,
)
from netops_agent.lab.sim.ticks import Ticks
from netops_agent.lab.sim.topology import generated, own_inventory
from netops_agent.models import InjectedFault, Inventory

EPOCH = datetime(2026, 1, 5, 8, 0, 0)
TICK_S = 10.0
COMMAND_S = 2.0  # a CLI round-trip on the twin's clock
CONFIG_S = 3.0
TIMEOUT_TEXT = "% Connection timed out; remote host not responding"
BASE_PROCESSES = [
    ("Check heaps", 0.2),
    ("IP Input", 1.1),
    ("ARP Input", 0.3),
    ("OSPF-1 Hello", 0.4),
    ("BGP Router", 0.9),
    ("BGP I/O", 0.3),
    ("SNMP ENGINE", 0.5),
    ("IP SNMP", 0.2),
    ("Net Background", 0.1),
    ("CDP Protocol", 0.1),
    ("Exec", 0.0),
    ("TCP Timer", 0.1),
]


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: the twin's bulk builds (a network's configs,
    derived state, routing views, a sweep of pings) make tens of thousands of containers,
    and each collection they trigger walks every object the process holds (on the large
    profile, more than the build itself). Collection resumes after, where it left off."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class SimLab:
    """A seeded twin; build with `SimLab.build(profile, seed)` or load from a Store."""

    backend = "sim"
    platform = "cisco_ios"

    def __init__(
        self,
        inv: Inventory,
        golden: dict[str, DeviceConfig],
        *,
        profile: str = "small",
        seed: int = 42,
        running: dict[str, DeviceConfig] | None = None,
        conditions: Conditions | None = None,
        clock: datetime = EPOCH,
        counters: np.ndarray | None = None,
        jitter: float = 0.0,
    ) -> None:
        self.inv = inv
        self.golden = golden
        self.profile = profile
        self.seed = seed
        self.configs = running if running is not None else {k: v.copy() for k, v in golden.items()}
        # device -> the running config made as a copy of its golden one and not replaced
        # since (configs are never changed in place: a change is a new object), whose
        # text is therefore the golden text (see config_text)
        self._pristine: dict[str, DeviceConfig] = {} if running is not None else dict(self.configs)
        self.cond = conditions or Conditions()
        self.clock = clock
        self.jitter = jitter
        self.idx = InterfaceIndex.of(inv)
        self.counters = counters if counters is not None else self._initial_counters()
        self.rng = np.random.default_rng([seed, int(clock.timestamp())])
        dev_rng = np.random.default_rng(seed + 1)
        self.base_cpu = {d.name: float(dev_rng.uniform(6, 22)) for d in inv.devices}
        self.base_mem = {d.name: float(dev_rng.uniform(32, 48)) for d in inv.devices}
        self.events: list[LogEvent] = []  # new since the last save
        self.history: list[LogEvent] = []  # loaded from the store (for show logging)
        self.telemetry = Ticks()  # every tick sampled in this process (Arrow tables)
        self.spikes: dict[str, float] = {}  # key(dev, if) -> until epoch seconds (benign noise)
        self._derived: Derived | None = derive(inv, self.configs, self.cond)  # eager: the
        # first commit() must compare against the state before the first change
        self._cache: dict[str, object] = {}  # views of the derived state, cleared by commit()
        # see layout(): (the sessions, their layout, the derived state they were read from)
        self._layout: tuple[tuple[tuple[str, str], ...], Layout, Derived] | None = None
        self._gauges: Gauges | None = None  # see gauges()
        # config texts (see config_text): device -> (the config rendered, its text)
        self._texts: dict[str, tuple[DeviceConfig, str]] = {}  # running: cleared by commit()
        self._golden_texts: dict[str, tuple[DeviceConfig, str]] = {}  # golden never changes
        self._concurrent: int | None = None  # commands issued inside concurrent()
        self.ground_truth: list[InjectedFault] = []  # read only by faults.py and the harness

    @classmethod
    def build(cls, profile: str = "small", seed: int = 42, jitter: float = 0.0) -> SimLab:
        with gc_paused():
            inv, golden = generated(profile, seed)  # generated once per process, shared
            return cls(own_inventory(inv), dict(golden), profile=profile, seed=seed, jitter=jitter)

    def _initial_counters(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed + 2)
        c = np.zeros((len(self.idx.keys), 9))
        c[:, 0:4] = rng.uniform(1e9, 5e11, (len(self.idx.keys), 4)).round()
        return c

    # --- derived views (recomputed after every change) ----------------------------------------
    @property
    def derived(self) -> Derived:
        if self._derived is None:
            self._derived = derive(self.inv, self.configs, self.cond)
        return self._derived

    @property
    def routing(self) -> Routing:
        if "routing" not in self._cache:
            with gc_paused():
                self._cache["routing"] = Routing(self.inv, self.configs, self.derived)
        return self._cache["routing"]  # type: ignore[return-value]

    @property
    def rates(self) -> Rates:
        if "rates" not in self._cache:
            self._cache["rates"] = compute_rates(self.inv, self.idx, self.derived, self.cond, self.configs)
        return self._cache["rates"]  # type: ignore[return-value]

    def commit(self) -> None:
        """Re-derive state after a change and log what routers would log about it."""
        before = self.derived
        self._derived = None
        self._cache.clear()
        self._texts.clear()
        with gc_paused():
            after = self.derived
            down = set(self.cond.down_devices)
            self.events.extend(diff_events(self.inv, before, after, self.clock, down))

    def restore_golden(self, device: str) -> None:
        """Put the device's running config back to a copy of its golden one (no commit)."""
        self.configs[device] = self._pristine[device] = self.golden[device].copy()

    def log(self, device: str, tag: str, message: str) -> None:
        self.events.append(make(self.clock, device, tag, message))

    # --- the Lab protocol ---------------------------------------------------------------------
    def inventory(self) -> Inventory:
        return self.inv

    def golden_config(self, device: str) -> str:
        self.inv.device(device)
        return self.config_text(device, golden=True)

    def config_text(self, device: str, *, golden: bool = False) -> str:
        """`ios.render` of the device's running (or golden) config, rendered once per state:
        a save and a state hash render every device. Running texts are kept until the next
        commit() (every change commits; a config changed by `configure` is a new object)
        and only for the very object rendered; golden configs are never changed. A running
        config still the copy of the golden one made by the twin (`_pristine`, the same
        object) has the golden text: rendered once for both."""
        if not golden and self._pristine.get(device) is self.configs[device]:
            golden = True  # a copy of the golden config, unchanged: the same text
        texts = self._golden_texts if golden else self._texts
        cfg = self.golden[device] if golden else self.configs[device]
        kept = texts.get(device)
        if kept is None or kept[0] is not cfg:
            kept = texts[device] = (cfg, ios.render(cfg))
        return kept[1]

    def now(self) -> datetime:
        return self.clock

    def reachable(self, device: str) -> bool:
        return device not in self.cond.down_devices

    def execute(self, device: str, command: str) -> CommandOutput:
        from netops_agent.lab.sim.cli import run_command

        self.inv.device(device)
        if self._concurrent is None:
            self.advance(COMMAND_S)
        else:
            self._concurrent += 1
        if not self.reachable(device):
            return CommandOutput(ok=False, text="", error=TIMEOUT_TEXT, reachable=False)
        words = command.split()
        if words[:2] == ["restart", "process"] and len(words) > 2:
            return self._restart_process(device, " ".join(words[2:]))
        if words[:3] == ["clear", "ip", "bgp"] and len(words) == 4:
            return CommandOutput(ok=True, text="")  # sessions re-derive; nothing is cached
        return run_command(self, device, command)

    @contextmanager
    def concurrent(self) -> Iterator[None]:
        """Commands issued inside run side by side (a poller's sweep, many sessions at once):
        the clock moves one command time for the batch, not one per command."""
        if self._concurrent is not None:
            yield
            return
        self._concurrent = 0
        try:
            with gc_paused():  # a sweep: hundreds of pings, each memoising its path
                yield
        finally:
            issued, self._concurrent = self._concurrent, None
            if issued:
                self.advance(COMMAND_S)

    def _restart_process(self, device: str, name: str) -> CommandOutput:
        """Restart a process (twin exec command): clears a runaway process's CPU hog."""
        known = {n for n, _ in self.cpu_processes(device)}
        if name not in known:
            return CommandOutput(ok=False, text=f"% No such process: {name}", error="no such process")
        hogs = self.cond.cpu_hogs.get(device, {})
        hogs.pop(name, None)
        if not hogs:
            self.cond.cpu_hogs.pop(device, None)
        self.log(device, "%SYS-5-RESTART", f"Process {name} restarted by netops-agent")
        self.commit()
        return CommandOutput(ok=True, text=f"Process {name} restarted")

    def configure(self, device: str, lines: list[str], *, author: str = "netops-agent") -> CommandOutput:
        self.inv.device(device)
        self.advance(CONFIG_S)
        if not self.reachable(device):
            return CommandOutput(ok=False, text="", error=TIMEOUT_TEXT, reachable=False)
        candidate = self.configs[device].copy()
        try:
            ios.apply_lines(candidate, lines)
        except ios.ConfigSyntaxError as exc:
            text = f"% Invalid input detected at '^' marker.\n({exc})"
            return CommandOutput(ok=False, text=text, error=text)
        self._clear_err_disabled_on_bounce(device, lines)
        self.configs[device] = candidate
        self.log(device, "%SYS-5-CONFIG_I", f"Configured from console by {author} on vty0 (10.0.0.254)")
        self.commit()
        return CommandOutput(ok=True, text="")

    def _clear_err_disabled_on_bounce(self, device: str, lines: list[str]) -> None:
        """`shutdown` on an err-disabled port recovers it unless the cause persists."""
        current = ""
        for raw in lines:
            line = raw.strip()
            if line.startswith("interface "):
                current = line.split(None, 1)[1]
            elif line == "shutdown" and current:
                info = self.cond.err_disabled.get(key(device, current))
                if info is not None and not info.get("persistent"):
                    del self.cond.err_disabled[key(device, current)]

    def advance(self, seconds: float) -> None:
        """Move the clock; counters grow at the current rates; telemetry is sampled per tick."""
        remaining = float(seconds)
        stamp = self.clock.timestamp()  # read once per step: the clock's, until it moves
        while remaining > 0:
            to_tick = TICK_S - (stamp % TICK_S)
            step = min(remaining, to_tick)
            self.counters += self.rates.per_s * step
            self.clock += timedelta(seconds=step)
            remaining -= step
            stamp = self.clock.timestamp()
            if stamp % TICK_S < 1e-6:
                # `self.sample()`, kept without its stamp column (see Ticks)
                cpu, mem = self.gauges()
                lay, rates = self.layout(), self.rates
                tail = None
                if not self.jitter:  # the rates' columns, the same every tick until a change
                    kept = self._cache.get("rate columns")
                    if kept is None or kept[0] is not rates:  # type: ignore[index]
                        kept = self._cache["rate columns"] = (rates, rate_columns(rates, 1.0))
                    tail = kept[1]  # type: ignore[index]
                tick = sample_values(lay, rates, self.counters, cpu, mem, self.rng, self.jitter, tail)
                self.telemetry.append_stamped(tick, self.clock)

    def sample(self) -> pa.Table:
        cpu, mem = self.gauges()
        return sample(self.layout(), self.rates, self.counters, cpu, mem, self.clock, self.rng, self.jitter)

    def gauges(self) -> tuple[np.ndarray, np.ndarray]:
        """`telemetry.device_gauges` for this twin now (CPU and memory per device)."""
        g = self._gauges
        if g is None or not g.fits(self.inv, self.base_cpu, self.base_mem):
            g = self._gauges = Gauges(self.inv, self.base_cpu, self.base_mem)
        return g(self.cond, self.clock)

    def layout(self) -> Layout:
        """The names of a tick's rows: every interface and device (fixed for the twin) and
        the configured BGP sessions, so kept until a change adds or removes a session (the
        same Arrow buffers tick after tick: the store maps them to series ids once)."""
        d = self.derived
        if self._layout is not None and self._layout[2] is d:  # no change since: the same
            return self._layout[1]
        sessions = tuple(d.bgp)
        if self._layout is None or self._layout[0] != sessions:
            self._layout = (sessions, layout(self.inv, self.idx, self.rates), d)
        else:
            self._layout = (sessions, self._layout[1], d)
        return self._layout[1]

    # --- monitoring feeds (what the NetworkView hands the intake) ------------------------------
    def telemetry_since(self, since: datetime | None = None) -> pa.Table:
        """Samples taken after `since` (every sample this process took for None)."""
        from netops_agent.lab.base import TELEMETRY_SCHEMA

        ticks = self.telemetry.since(since)
        if not ticks:
            return TELEMETRY_SCHEMA.empty_table()
        return pa.concat_tables(ticks, promote_options="permissive")  # zero-copy: the ticks' buffers

    def logs_since(self, since: datetime | None = None) -> pa.Table:
        """Syslog messages logged after `since` (every new one in this process for None)."""
        from netops_agent.lab.base import LOG_SCHEMA

        evs = [e for e in self.events if since is None or e.ts > since]
        return pa.table(
            {
                "ts": pa.array([e.ts for e in evs], pa.timestamp("us")),
                "device": pa.array([e.device for e in evs], pa.string()),
                "facility": pa.array([e.facility for e in evs], pa.string()),
                "severity": pa.array([e.severity for e in evs], pa.int32()),
                "mnemonic": pa.array([e.mnemonic for e in evs], pa.string()),
                "message": pa.array([e.message for e in evs], pa.string()),
            },
            schema=LOG_SCHEMA,
        )

    def state_hash(self) -> str:
        body = {
            "running": {d: self.config_text(d) for d in sorted(self.configs)},
            "conditions": self.cond.to_json(),
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    # --- helpers for renderers ------------------------------------------------------------------
    def cpu_processes(self, device: str) -> list[tuple[str, float]]:
        """(process, 5-second CPU %) for the device, hogs included."""
        base = self.base_cpu[device]
        scale = base / sum(p for _, p in BASE_PROCESSES)
        procs = [(name, pct * scale) for name, pct in BASE_PROCESSES]
        hogs = self.cond.cpu_hogs.get(device, {})
        procs = [(n, p + hogs.get(n, 0.0)) for n, p in procs]
        procs += [(n, p) for n, p in hogs.items() if n not in dict(BASE_PROCESSES)]
        return sorted(procs, key=lambda x: -x[1])

    def device_gauges(self, device: str) -> tuple[float, float]:
        cpu, mem = self.gauges()
        n = self.inv.device_names().index(device)
        return float(cpu[n]), float(mem[n])
