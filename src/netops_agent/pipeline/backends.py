"""Backend adapters: how the case pipeline gets, prepares, publishes and cleans up a lab.

An adapter hands the pipeline a `ControlFace` per case and knows what differs
between backends; everything else (inject, intake, agent, ground truth) is the
pipeline's and the same for both.

- `SimBackend`: a fresh twin per case (built, 60 s of healthy telemetry, faults,
  120 s for symptoms to develop, optional benign spikes); nothing to clean up.
- `FrrBackend`: one lab of real routers per suite (`session`), brought up in
  /run/netops-agent/PREFIX and torn down at the end, also on errors or SIGTERM.
  Each case waits for convergence, samples a healthy baseline, lets real time pass
  after the injection (1-5 s by fault), and afterwards repairs every fault and puts
  any drift back to golden so the next case starts clean.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from netops_agent.errors import ConfigError
from netops_agent.evaluation.scenario import Case, Suite
from netops_agent.lab.base import ControlFace
from netops_agent.models import InjectedFault
from netops_agent.store import Store

if TYPE_CHECKING:
    from netops_agent.lab.frr import FrrLab
    from netops_agent.lab.frr.control import FrrControl
    from netops_agent.lab.sim.control import SimControl

log = logging.getLogger("netops_agent.pipeline")

BACKENDS = ("sim", "frr")
BASELINE_S = 60.0  # twin: healthy telemetry before faults
SETTLE_S = 120.0  # twin: symptoms develop before monitoring raises incidents
RUN_DIR = Path("/run/netops-agent")  # tmpfs, like the namespaces: a reboot clears both
# Real seconds for symptoms to show after an injection, from the FRR lab's timers: a
# refused hello drops the OSPF adjacency after the 4 s dead interval; everything else
# (BGP NOTIFICATIONs, carrier loss, an OSPF interface reset on an MTU change, a route
# withdrawal, ACL drops, a full queue) shows within a second.
FRR_SETTLE_S = 1.0
# Sustained symptoms: congestion alerts once output drops held `for_s` (30 s, i.e. three
# samples `sample_s` = 10 s apart); the FRR backend polls on that grid while it waits.
FRR_SETTLE_BY_FAULT = {"ospf_timer_mismatch": 5.0, "mtu_mismatch": 3.0, "link_congestion": 30.0}


class Backend(Protocol):
    name: str
    parallel: bool  # may cases run in separate processes (each with its own lab)?

    def check(self, suite: Suite) -> None: ...

    def session(
        self, suite: Suite, store: Store | None = None
    ) -> contextlib.AbstractContextManager[None]: ...

    def start(self, suite: Suite, case: Case, seed: int | None) -> ControlFace: ...

    def settle(self, ctl: ControlFace, case: Case, faults: list[InjectedFault]) -> None: ...

    def publish(self, ctl: ControlFace, store: Store, *, fresh: bool) -> None: ...

    def flush(self, ctl: ControlFace, store: Store) -> None: ...

    def healthy_after(self, ctl: ControlFace, before: set[str]) -> set[str]: ...

    def finish(self, ctl: ControlFace) -> None: ...


def backend_for(name: str, frr: FrrRunConfig | None = None) -> Backend:
    if name == "sim":
        return SimBackend()
    if name == "frr":
        return FrrBackend(frr)
    raise ConfigError(f"unknown backend {name!r}; choose sim or frr")


# --- the twin -----------------------------------------------------------------------------------
class SimBackend:
    name = "sim"
    parallel = True

    def __init__(self) -> None:
        self.last: SimControl | None = None  # the latest case's twin (tests, the lab CLI)

    def check(self, suite: Suite) -> None:
        if suite.backend == "frr":
            raise ConfigError(f"suite {suite.name!r} is for real routers; run it with --backend frr")

    @contextlib.contextmanager
    def session(self, suite: Suite, store: Store | None = None) -> Iterator[None]:
        yield

    def start(self, suite: Suite, case: Case, seed: int | None) -> SimControl:
        from netops_agent.lab.sim.control import SimControl
        from netops_agent.lab.sim.lab import SimLab

        topo = suite.topology_for(case)
        lab = SimLab.build(
            topo.profile, topo.seed if seed is None else seed, jitter=case.noise.counter_jitter
        )
        ctl = SimControl(lab)
        ctl.advance(BASELINE_S)
        self.last = ctl
        return ctl

    def settle(self, ctl: ControlFace, case: Case, faults: list[InjectedFault]) -> None:
        from netops_agent.lab.sim import noise

        ctl.advance(SETTLE_S)
        noise.add_transient_spikes(_sim(ctl).lab, case.noise.transient_spikes, seed=case.seed)

    def publish(self, ctl: ControlFace, store: Store, *, fresh: bool) -> None:
        from netops_agent.lab.sim import persist

        persist.save(_sim(ctl).lab, store, fresh=fresh)

    def flush(self, ctl: ControlFace, store: Store) -> None:
        from netops_agent.lab.sim import persist

        persist.flush(_sim(ctl).lab, store)

    def healthy_after(self, ctl: ControlFace, before: set[str]) -> set[str]:
        return ctl.healthy_entities()

    def finish(self, ctl: ControlFace) -> None:
        pass  # a twin per case: nothing to clean up


def _sim(ctl: ControlFace) -> SimControl:
    from netops_agent.lab.sim.control import SimControl

    assert isinstance(ctl, SimControl)
    return ctl


# --- real routers --------------------------------------------------------------------------------
def runtime_dir_for(prefix: str) -> Path:
    return RUN_DIR / prefix


@dataclass
class FrrRunConfig:
    """How the FRR backend gets its lab.

    `lab`: an already running lab to use as is (neither brought up nor torn down here,
    e.g. a test fixture's). Otherwise a lab is brought up with `prefix` in
    `runtime_dir` (default /run/netops-agent/PREFIX; $NETOPS_FRR_PREFIX overrides the
    default prefix) and torn down at the end.
    """

    prefix: str = field(default_factory=lambda: os.environ.get("NETOPS_FRR_PREFIX", "nops-run"))
    runtime_dir: Path | None = None
    settle_s: float = FRR_SETTLE_S  # at least; slower faults wait longer (FRR_SETTLE_BY_FAULT)
    converge_timeout_s: float = 60.0
    lab: FrrLab | None = None

    @property
    def runtime(self) -> Path:
        return self.runtime_dir or runtime_dir_for(self.prefix)


def settle_seconds(faults: list[InjectedFault], minimum: float = FRR_SETTLE_S) -> float:
    """How long the symptoms of these faults take to show on the FRR lab's timers."""
    return max([minimum, *(FRR_SETTLE_BY_FAULT.get(f.type, minimum) for f in faults)]) if faults else 0.0


def suite_profile(suite: Suite) -> str:
    """The one profile a suite runs on (a shared lab cannot change size between cases)."""
    profile = suite.topology.profile
    other = sorted({c.topology.profile for c in suite.cases if c.topology and c.topology.profile != profile})
    if other:
        raise ConfigError(
            f"suite {suite.name!r}: on the FRR backend all cases share one lab (profile "
            f"{profile!r}); cases ask for {', '.join(other)}"
        )
    return profile


def check_suite(suite: Suite) -> None:
    """Fail before anything runs if the FRR backend cannot run this suite."""
    from netops_agent.lab.frr.fault_kinds import KINDS

    unsupported = sorted({f.type for c in suite.cases for f in c.faults if f.type not in KINDS})
    if unsupported:
        raise ConfigError(
            f"suite {suite.name!r} has faults the FRR backend cannot inject: {', '.join(unsupported)} "
            f"(FRR supports {', '.join(KINDS)}); run it on the twin with --backend sim"
        )
    suite_profile(suite)


def remove_empty_parent(runtime: Path) -> None:
    with contextlib.suppress(OSError):
        if runtime.parent == RUN_DIR and RUN_DIR.exists() and not any(RUN_DIR.iterdir()):
            RUN_DIR.rmdir()


@contextlib.contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """Turn SIGTERM into SystemExit while the lab is up, so `finally` tears it down."""
    try:
        previous = signal.signal(signal.SIGTERM, _exit_on_signal)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exit_on_signal(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def suite_lab(suite: Suite, cfg: FrrRunConfig | None = None) -> Iterator[FrrLab]:
    """The lab a suite runs on: `cfg.lab`, or a fresh one torn down when the block ends."""
    from netops_agent.lab.frr import FrrLab, check_prerequisites, frr_inventory

    cfg = cfg or FrrRunConfig()
    if cfg.lab is not None:
        yield cfg.lab
        return
    profile = suite_profile(suite)
    check_prerequisites()
    runtime = cfg.runtime
    FrrLab.down(runtime)  # leftovers of an earlier run with this prefix that was killed
    with _sigterm_as_exit():
        try:
            lab = FrrLab.up(frr_inventory(profile=profile), runtime, prefix=cfg.prefix,
                            timeout=cfg.converge_timeout_s)  # fmt: skip
            log.info("FRR lab %s up in %.1fs (all BGP Established)", cfg.prefix, lab.bringup_seconds)
            yield lab
        finally:
            FrrLab.down(runtime)
            remove_empty_parent(runtime)


def wait_converged(lab: FrrLab, timeout: float) -> bool:
    from netops_agent.lab.frr import observe

    deadline = time.monotonic() + timeout
    while not observe.routing_view(lab.state)[0]:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.25)
    return True


def reset_to_golden(lab: FrrLab) -> dict[str, list[str]]:
    """Apply, per router, the lines that take its running config back to golden."""
    from netops_agent.tools.golden import remediation_lines

    applied: dict[str, list[str]] = {}
    for device in lab.inventory().device_names():
        running = lab.execute(device, "show running-config")
        if not running.ok:
            continue
        lines = remediation_lines(running.text, lab.golden_config(device))
        if lines:
            out = lab.configure(device, lines)
            applied[device] = lines
            if not out.ok:
                log.warning("resetting %s to golden failed: %s", device, out.error)
    return applied


def repair_all(ctl: FrrControl, timeout: float = 30.0) -> bool:
    """Repair every injected fault, put any remaining drift back to golden, wait to converge."""
    for fault in ctl.injected():
        try:
            ctl.repair(fault)
        except Exception:  # a failed repair must not stop the others; drift reset below
            log.exception("repairing %s (%s) failed", fault.id, fault.type)
    reset_to_golden(ctl.lab)
    ok = wait_converged(ctl.lab, timeout)
    if not ok:
        log.warning("the FRR lab did not converge within %.0fs after repairs", timeout)
    return ok


class FrrBackend:
    name = "frr"
    parallel = False  # one lab of real routers: cases run in turn

    def __init__(self, cfg: FrrRunConfig | None = None) -> None:
        self.cfg = cfg or FrrRunConfig()
        self.control: FrrControl | None = None

    def check(self, suite: Suite) -> None:
        check_suite(suite)

    @contextlib.contextmanager
    def session(self, suite: Suite, store: Store | None = None) -> Iterator[None]:
        from netops_agent.lab.frr import persist as frr_persist
        from netops_agent.lab.frr.control import FrrControl

        with suite_lab(suite, self.cfg) as lab:
            self.control = FrrControl(lab)
            if store is not None:
                frr_persist.record_lab(store, runtime_dir=lab.runtime_dir, prefix=lab.state.prefix,
                                       profile=suite.topology.profile, status="up",
                                       extra={"owner": "run", "timings": lab.timings})  # fmt: skip
            try:
                yield
            finally:
                if store is not None and self.cfg.lab is None:
                    frr_persist.record_lab(store, runtime_dir=lab.runtime_dir, prefix=lab.state.prefix,
                                           profile=suite.topology.profile, status="down",
                                           extra={"owner": "run", "timings": lab.timings})  # fmt: skip
                self.control = None

    def start(self, suite: Suite, case: Case, seed: int | None) -> FrrControl:
        ctl = self.control
        if ctl is None:
            raise ConfigError("the FRR backend runs cases inside its session (one lab per suite)")
        if not wait_converged(ctl.lab, 30.0):
            log.warning("case %s starts on a lab that has not converged", case.id)
        ctl.restart_feeds()  # the repaired lab starts afresh, as a new twin does
        return ctl

    def settle(self, ctl: ControlFace, case: Case, faults: list[InjectedFault]) -> None:
        """Wait for the symptoms while the lab's poller samples every `sample_s` (the
        detection settings), its last sample at the end: the intake reads that one."""
        from netops_agent.intake.config import load_detection

        step = load_detection().settings.sample_s
        _frr(ctl).poll(settle_seconds(faults, self.cfg.settle_s), every=step)

    def publish(self, ctl: ControlFace, store: Store, *, fresh: bool) -> None:
        from netops_agent.lab.frr import persist as frr_persist

        lab = _frr(ctl).lab
        if fresh:
            frr_persist.save_inventory(store, lab)
        else:
            frr_persist.save_configs(store, lab)

    def flush(self, ctl: ControlFace, store: Store) -> None:
        pass  # the view's telemetry is a poll: the intake reads it when it runs

    def healthy_after(self, ctl: ControlFace, before: set[str], timeout: float = 5.0) -> set[str]:
        """Healthy entities once the agent is done, giving protocols a few seconds to settle."""
        deadline = time.monotonic() + timeout
        now = ctl.healthy_entities()
        while not before <= now and time.monotonic() < deadline:
            time.sleep(0.5)
            now = ctl.healthy_entities()
        return now

    def finish(self, ctl: ControlFace) -> None:
        repair_all(_frr(ctl))


def _frr(ctl: ControlFace) -> FrrControl:
    from netops_agent.lab.frr.control import FrrControl

    assert isinstance(ctl, FrrControl)
    return ctl
