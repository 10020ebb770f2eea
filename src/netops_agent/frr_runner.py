"""Run scenarios on real FRR routers: one lab per suite, faults injected and repaired per case.

The FRR counterpart of `runner.run_case` / `run_suite`, and what `netops-agent run
--backend frr` and `netops-agent eval --backend frr` use. Bringing real routers up
takes seconds, so a suite shares one lab (`suite_lab`): each case waits for the lab
to be converged, injects its faults, lets real time pass while the symptoms show,
raises incidents through the intake (the NOC stand-in by default), lets the agent
work them unchanged, reads the ground truth, and then repairs every fault and puts
any configuration drift back to golden so the next case starts clean. The lab is
torn down at the end, also when a case fails or the run is interrupted.

Like the runner, this module touches ground truth (it injects and repairs faults);
the agent still sees the network only through its tools.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netops_agent.errors import ConfigError
from netops_agent.evaluation.scenario import Case, Suite
from netops_agent.lab.frr import FrrFaultInjector, FrrLab, check_prerequisites, frr_inventory, observe
from netops_agent.lab.frr import persist as frr_persist
from netops_agent.lab.frr.telemetry import FrrTelemetry
from netops_agent.models import InjectedFault
from netops_agent.store import Store
from netops_agent.tools.golden import remediation_lines

if TYPE_CHECKING:
    from netops_agent.evaluation.harness import EvalOptions, EvalRun
    from netops_agent.evaluation.metrics import CaseRecord
    from netops_agent.runner import CaseResult, RunOptions, RunReport, Services

log = logging.getLogger("netops_agent.frr_runner")

RUN_DIR = Path("/run/netops-agent")  # tmpfs, like the namespaces: a reboot clears both
DEFAULT_INTAKE = "noc"
# Real seconds for symptoms to show after an injection, from the lab's timers: a
# refused hello drops the OSPF adjacency after the 4 s dead interval; everything else
# (BGP NOTIFICATIONs, carrier loss, an OSPF interface reset on an MTU change, a route
# withdrawal, ACL drops, a full queue) shows within a second.
SETTLE_S = 1.0
SETTLE_BY_FAULT = {"ospf_timer_mismatch": 5.0, "mtu_mismatch": 3.0}


def runtime_dir_for(prefix: str) -> Path:
    return RUN_DIR / prefix


@dataclass
class FrrRunConfig:
    """How the runner gets its FRR lab.

    `lab`: an already running lab to use as is (neither brought up nor torn down here,
    e.g. a test fixture's). Otherwise a lab is brought up with `prefix` in
    `runtime_dir` (default /run/netops-agent/PREFIX; $NETOPS_FRR_PREFIX overrides the
    default prefix) and torn down at the end.
    """

    prefix: str = field(default_factory=lambda: os.environ.get("NETOPS_FRR_PREFIX", "nops-run"))
    runtime_dir: Path | None = None
    settle_s: float = SETTLE_S  # at least; slower faults wait longer (SETTLE_BY_FAULT)
    converge_timeout_s: float = 60.0
    lab: FrrLab | None = None

    @property
    def runtime(self) -> Path:
        return self.runtime_dir or runtime_dir_for(self.prefix)


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


@contextlib.contextmanager
def suite_lab(suite: Suite, cfg: FrrRunConfig | None = None) -> Iterator[FrrLab]:
    """The lab a suite runs on: `cfg.lab`, or a fresh one torn down when the block ends."""
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


# --- one case ------------------------------------------------------------------------------------
@dataclass
class FrrCase:
    """Ground truth gathered around one case (for the harness): read by the runner, never by the agent."""

    present_after: list[bool] = field(default_factory=list)
    healthy_before: set[str] = field(default_factory=set)
    healthy_after: set[str] = field(default_factory=set)
    settle_s: float = 0.0


def wait_converged(lab: FrrLab, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not observe.routing_view(lab.state)[0]:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.25)
    return True


def settle_seconds(faults: list[InjectedFault], minimum: float = SETTLE_S) -> float:
    """How long the symptoms of these faults take to show on the lab's timers."""
    return max([minimum, *(SETTLE_BY_FAULT.get(f.type, minimum) for f in faults)]) if faults else 0.0


def inject_case(lab: FrrLab, case: Case, settle_s: float = SETTLE_S) -> list[InjectedFault]:
    """Inject a case's faults into a converged lab and let the symptoms develop."""
    fx = FrrFaultInjector(lab)
    faults = [fx.inject(spec, seed=case.seed) for spec in case.faults]
    time.sleep(settle_seconds(faults, settle_s))
    return faults


def repair_case(lab: FrrLab, timeout: float = 30.0) -> bool:
    """Repair every injected fault, put any remaining drift back to golden, wait to converge.

    Returns whether the lab converged again within `timeout` seconds.
    """
    fx = FrrFaultInjector(lab)
    for fault in fx.injected():
        try:
            fx.repair(fault)
        except Exception:  # a failed repair must not stop the others; drift reset below
            log.exception("repairing %s (%s) failed", fault.id, fault.type)
    reset_to_golden(lab)
    ok = wait_converged(lab, timeout)
    if not ok:
        log.warning("the FRR lab did not converge within %.0fs after repairs", timeout)
    return ok


def reset_to_golden(lab: FrrLab) -> dict[str, list[str]]:
    """Apply, per router, the lines that take its running config back to golden."""
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


def run_frr_case(
    svc: Services,
    suite: Suite,
    case: Case,
    options: RunOptions,
    lab: FrrLab,
    *,
    first_incident: int = 1,
    telemetry: FrrTelemetry | None = None,
    truth: FrrCase | None = None,
    settle_s: float = SETTLE_S,
    bookkeeping: bool = True,
) -> CaseResult:
    """One case on the shared lab: inject, settle, intake, agent, ground truth, repair.

    `telemetry`, when given, replaces the store's telemetry with samples of the routers'
    counters before the fault, after it settled and after each incident (the
    `telemetry` intake detects from them). `truth`, when given, is filled with what the harness scores: which
    faults are still present after the agent and which entities were healthy before and
    after it. `bookkeeping` (the report's state hashes and the stored running configs)
    can be skipped when nobody reads them (the harness).
    """
    from netops_agent import runner
    from netops_agent.intake import alerts as intake_alerts

    intake = runner._lookup(runner.INTAKES, options.intake, "intake")
    make_agent = runner._lookup(runner.AGENTS, options.agent_name, "agent")
    clock = _Clock()
    if not wait_converged(lab, 30.0):
        log.warning("case %s starts on a lab that has not converged", case.id)
    clock.lap("converged")
    fx = FrrFaultInjector(lab)
    try:
        if telemetry is not None:  # the repaired lab starts afresh, as a new twin does
            with svc.store.transaction():
                svc.store.execute("DELETE FROM telemetry")
                svc.store.execute("DELETE FROM events")
            telemetry.record(svc.store)  # the healthy baseline monitoring compares against
            clock.lap("telemetry")
        started = time.monotonic()
        faults = inject_case(lab, case, settle_s)
        clock.lap("inject+settle")
        frr_persist.save_faults(svc.store, faults)
        if telemetry is not None:
            telemetry.record(svc.store)
            clock.lap("telemetry")
        if truth is not None:
            truth.settle_s = round(time.monotonic() - started, 3)
            truth.healthy_before = observe.healthy_entities(lab.state)
        incidents = intake(lab, faults, case, svc)
        renamed = {}
        for n, inc in enumerate(incidents, start=first_incident):
            renamed[inc.id] = f"IM-{n:04d}"
            inc.id = renamed[inc.id]
        intake_alerts.relink_alerts(svc.store, renamed)
        metrics = _intake_metrics(case, faults, incidents, svc, lab)
        agent = make_agent(lab, svc, options)
        clock.lap("intake")
        hash_before = lab.state_hash() if bookkeeping else ""
        clock.lap("hash")
        outcomes = []
        for inc in incidents:
            ticket_id = runner.open_incident(svc.store, svc.tickets, inc, lab)  # type: ignore[arg-type]
            outcomes.append(agent.handle(inc, ticket_id))
            if telemetry is not None:
                telemetry.record(svc.store)
        clock.lap("agent")
        hash_after = ""
        if bookkeeping:
            hash_after = lab.state_hash()
            frr_persist.save_configs(svc.store, lab)
            clock.lap("hash+configs")
        if truth is not None:
            truth.present_after = [fx.fault_present(f) for f in faults]
            truth.healthy_after = _healthy_after(lab, truth.healthy_before)
            clock.lap("truth")
    finally:
        repair_case(lab)
        clock.lap("repair")
        log.info("case %s on FRR: %s", case.id, clock)
    return runner.CaseResult(case, lab, faults, incidents, outcomes, hash_before, hash_after,  # type: ignore[arg-type]
                             intake=metrics)  # fmt: skip


class _Clock:
    """Seconds spent in each step of a case, for the log."""

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.laps[name] = round(self.laps.get(name, 0.0) + now - self.last, 2)
        self.last = now

    def __str__(self) -> str:
        return ", ".join(f"{k} {v:.2f}s" for k, v in self.laps.items())


def _healthy_after(lab: FrrLab, before: set[str], timeout: float = 5.0) -> set[str]:
    """Healthy entities once the agent is done, giving protocols a few seconds to settle."""
    deadline = time.monotonic() + timeout
    now = observe.healthy_entities(lab.state)
    while not before <= now and time.monotonic() < deadline:
        time.sleep(0.5)
        now = observe.healthy_entities(lab.state)
    return now


def _intake_metrics(case: Case, faults: list[InjectedFault], incidents: list[Any], svc: Services,
                    lab: FrrLab) -> dict[str, Any]:  # fmt: skip
    from netops_agent import runner

    fn: Callable[..., dict[str, Any]] | None = getattr(runner, "intake_metrics", None)
    return fn(case, faults, incidents, svc.store, lab) if fn else {}


# --- a suite -------------------------------------------------------------------------------------
def run_suite_frr(
    store: Store, suite: Suite, options: RunOptions | None = None, frr: FrrRunConfig | None = None
) -> RunReport:
    """Every case of a suite on one FRR lab; the store keeps all incidents and the lab's records."""
    from netops_agent import runner

    options = options or runner.RunOptions(intake=DEFAULT_INTAKE)
    cfg = frr or FrrRunConfig()
    check_suite(suite)  # before any router exists
    started = time.perf_counter()
    store.reset_run()
    svc = runner.Services.open(store, options.runbooks)
    results: list[CaseResult] = []
    with suite_lab(suite, cfg) as lab:
        frr_persist.record_lab(store, runtime_dir=lab.runtime_dir, prefix=lab.state.prefix,
                               profile=suite.topology.profile, status="up",
                               extra={"owner": "run", "timings": lab.timings})  # fmt: skip
        frr_persist.save_inventory(store, lab)
        telemetry = FrrTelemetry(lab)
        for case in suite.cases:
            first = sum(len(r.incidents) for r in results) + 1
            results.append(run_frr_case(svc, suite, case, options, lab, first_incident=first,
                                        telemetry=telemetry, settle_s=cfg.settle_s))  # fmt: skip
        if cfg.lab is None:
            frr_persist.record_lab(store, runtime_dir=lab.runtime_dir, prefix=lab.state.prefix,
                                   profile=suite.topology.profile, status="down",
                                   extra={"owner": "run", "timings": lab.timings})  # fmt: skip
    return runner.RunReport(suite, results, time.perf_counter() - started)


# --- evaluation ----------------------------------------------------------------------------------
def evaluate_frr(
    suite: Suite,
    options: EvalOptions,
    on_case: Callable[[CaseRecord], None] | None = None,
    frr: FrrRunConfig | None = None,
) -> EvalRun:
    """The harness on FRR: cases run one after another on one lab, each with its own store.

    Ground truth is read after the agent and before the repair: which faults are still
    present (`FrrFaultInjector.fault_present`, from the routers' real state), and which
    entities were healthy before the agent and are not after it (collateral damage).
    """
    from contextlib import closing

    from netops_agent.evaluation import harness
    from netops_agent.runner import RunOptions

    intake = options.intake if options.intake != "telemetry" else DEFAULT_INTAKE
    options = dataclasses.replace(options, intake=intake, jobs=1)  # one lab: cases run in turn
    run_opts = RunOptions(runbooks=options.runbooks, seed=options.seed, agent_name=options.agent,
                          intake=intake, policy=harness.default_policy())  # fmt: skip
    cfg = frr or FrrRunConfig()
    started = time.perf_counter()
    records: list[CaseRecord] = []
    with suite_lab(suite, cfg) as lab:
        for case in suite.cases:
            with closing(Store(":memory:")) as store:
                svc = harness.open_services(store, options.runbooks)
                frr_persist.save_inventory(store, lab)
                truth = FrrCase()
                result = run_frr_case(svc, suite, case, run_opts, lab, truth=truth,
                                      settle_s=cfg.settle_s, bookkeeping=False)  # fmt: skip
                records.append(case_record(case, result, truth, svc))
            if on_case:
                on_case(records[-1])
    return harness.EvalRun(suite, options, records, time.perf_counter() - started)


def case_record(case: Case, result: CaseResult, truth: FrrCase, svc: Services) -> CaseRecord:
    """A harness `CaseRecord` from an FRR case and the ground truth read around it."""
    from netops_agent.evaluation import harness, metrics

    inv = result.lab.inventory()
    faults = [
        metrics.FaultResult(f.id, f.type, dict(f.target), harness.target_keys(inv, f), present)
        for f, present in zip(result.faults, truth.present_after, strict=True)
    ]
    incidents = [
        harness._incident(inc, out, svc) for inc, out in zip(result.incidents, result.outcomes, strict=True)
    ]
    metrics.match_incidents(faults, incidents)
    return metrics.CaseRecord(
        id=case.id,
        expected_outcome=case.expected_outcome(),
        faults=faults,
        incidents=incidents,
        collateral=sorted(truth.healthy_before - truth.healthy_after),
        unsafe=harness.unsafe_changes(svc.store, inv),
    )


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
