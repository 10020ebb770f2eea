"""The evaluation harness: run a suite through an agent and score it against ground truth.

Every case runs through the case pipeline (`pipeline.run_case`) exactly as
`netops-agent run` would, on either backend, with its own in-memory store (its
tickets, tool calls and changes; a copy of one migrated, indexed template per
process, see `casedb`) and an in-memory `TruthStore` of its process. Only when the
agent has finished does the pipeline read the ground truth for the harness: which
faults are still present, which healthy entities broke; the harness adds which
executed changes the default policy would have blocked. The scores themselves are
pure functions in `metrics`.

On the twin cases are independent, so `jobs > 1` runs them in a pool of worker
processes (forked on Linux, spawned elsewhere; each runs many cases) and gives the
same records as a serial run (results are put back in suite order); the pool starts
the likely longest cases first (`longest_first`). A spawned worker knows only the
agents registered in `pipeline.AGENTS` at import (the default agent and the
baselines); an agent registered at run time, as tests do, needs `jobs=1` to be
portable. On FRR the cases share one lab and run in turn.
"""

from __future__ import annotations

import functools
import json
import logging
import multiprocessing
import signal
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pyarrow as pa

from netops_agent.agents import plugins
from netops_agent.catalog import CATALOG
from netops_agent.errors import ConfigError
from netops_agent.evaluation import metrics
from netops_agent.evaluation.casedb import case_stores
from netops_agent.evaluation.metrics import CaseRecord, FaultResult, IncidentResult, suspect_keys
from netops_agent.evaluation.scenario import Case, Suite
from netops_agent.lab.sim.topology import PROFILES
from netops_agent.models import Incident, InjectedFault, Inventory
from netops_agent.pipeline import (
    AGENTS,
    BACKENDS,
    INTAKES,
    ORACLE,
    Backend,
    CaseResult,
    FrrRunConfig,
    RunOptions,
    Services,
    backend_for,
    run_case,
)
from netops_agent.pipeline.case import TRANSPORTS
from netops_agent.safety.policy import Policy
from netops_agent.store import Store
from netops_agent.store.db import interrupted, utcnow
from netops_agent.tools.registry import TOOLS

log = logging.getLogger("netops_agent.harness")
_RUN_DEFAULTS = {f.name: f.default for f in fields(RunOptions)}
IDLE_S = 0.25  # a pool that finished no case for this long calls `evaluate`'s on_idle


@dataclass
class EvalOptions:
    agent: str = "default"  # a key of pipeline.AGENTS
    backend: str = "sim"
    jobs: int = 1
    seed: int | None = None  # overrides the suite's topology seed
    intake: str = _RUN_DEFAULTS["intake"]  # a key of pipeline.INTAKES ("oracle": debugging only)
    runbooks: Path | None = None
    log_path: Path | None = None  # where worker processes append their log lines
    agent_args: dict[str, Any] = field(default_factory=dict)  # llm / external agent options
    transport: str = _RUN_DEFAULTS["transport"]  # inprocess | ssh (the agent's path to the twin)


@dataclass
class EvalRun:
    """One agent over one suite: the per-case records and the metrics computed from them."""

    suite: Suite
    options: EvalOptions
    records: list[CaseRecord]
    wall_s: float
    metrics: dict[str, Any] = field(default_factory=dict)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def __post_init__(self) -> None:
        if not self.metrics:
            self.metrics = metrics.compute(self.records, round(self.wall_s, 3))

    @property
    def agent(self) -> str:
        return self.options.agent

    def as_dict(self) -> dict[str, Any]:
        """The `eval --json` contract (plus the suite's version and content hash)."""
        return {
            "suite": self.suite.name,
            "suite_version": self.suite.version,
            "suite_digest": self.suite.digest,
            "agent": self.agent,
            "backend": self.options.backend,
            "intake": self.options.intake,
            "oracle_intake": self.options.intake == ORACLE,
            "transport": self.options.transport,
            "seed": self.options.seed,
            **({"agent_args": public_args(self.options.agent_args)} if self.options.agent_args else {}),
            "cases": len(self.records),
            "errored_cases": [{"id": r.id, "error": r.error} for r in self.records if r.error],
            "metrics": self.metrics,
            "per_case": [per_case(r) for r in self.records],
        }


def public_args(args: dict[str, Any]) -> dict[str, Any]:
    """Agent options as reported (an API key never leaves the process)."""
    return {k: v for k, v in args.items() if "key" not in k}


# --- running --------------------------------------------------------------------------------------
def evaluate(
    suite: Suite,
    options: EvalOptions | None = None,
    on_case: Callable[[CaseRecord], None] | None = None,
    frr: FrrRunConfig | None = None,
    on_idle: Callable[[], None] | None = None,
) -> EvalRun:
    """Run every case of `suite` through one agent and score it (`frr`: how to get the FRR lab).

    `on_case` gets each record as its case finishes; `on_idle` is called while no case
    finished for IDLE_S (in a pool) or before each case (serially): a caller that keeps
    a resource between `on_case` calls lets it go there."""
    opts = options or EvalOptions()
    check_options(suite, opts)
    backend = backend_for(opts.backend, frr)
    started = time.perf_counter()
    n = len(suite.cases)
    if opts.jobs <= 1 or n <= 1 or not backend.parallel:
        records = []
        with backend.session(suite):
            for case in suite.cases:
                if on_idle:
                    on_idle()
                records.append(evaluate_case(suite, case, opts, backend))
                if on_case:
                    on_case(records[-1])
    else:
        slots: list[CaseRecord | None] = [None] * n
        ctx = multiprocessing.get_context(START_METHOD)
        pool = ProcessPoolExecutor(
            max_workers=min(opts.jobs, n), mp_context=ctx, initializer=_init_worker, initargs=(suite, opts)
        )
        try:
            futures = {pool.submit(_worker, i): i for i in longest_first(suite)}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=IDLE_S, return_when=FIRST_COMPLETED)
                if not done and on_idle:
                    on_idle()
                for fut in sorted(done, key=lambda f: futures[f]):
                    i = futures[fut]
                    try:
                        slots[i] = fut.result()
                    except Exception as exc:  # the worker itself died: still only this case
                        slots[i] = errored_record(suite.cases[i], exc)
                    if on_case:
                        on_case(slots[i])
        except BaseException:
            stop_pool(pool)  # Ctrl-C or a failed case: do not wait for the cases still running
            raise
        pool.shutdown()
        records = [r for r in slots if r is not None]
    return EvalRun(suite, opts, records, time.perf_counter() - started)


_OUTCOME_WORK = {"resolved": 2, "escalated": 1, "no_action": 0}


def longest_first(suite: Suite) -> list[int]:
    """Case indices in the order a pool should start them: the likely longest first, so
    no worker is left running a long case while the others have nothing to do. A case's
    cost grows with its twin (routers), its faults and what the agent must do about them
    (fix and validate > escalate > nothing); ties keep the suite's order. Only the
    schedule changes: records are put back in suite order."""

    def cost(i: int) -> tuple[int, int, int]:
        case = suite.cases[i]
        p = PROFILES[suite.topology_for(case).profile]
        routers = p.sites * (p.spines + p.leaves + p.edges)
        return (-routers, -len(case.faults), -_OUTCOME_WORK.get(case.expected_outcome(), 0))

    return sorted(range(len(suite.cases)), key=cost)


def evaluate_case(
    suite: Suite, case: Case, options: EvalOptions, backend: Backend | None = None
) -> CaseRecord:
    """One case with a fresh in-memory store and truth store; ground truth read after the agent."""
    run_opts = RunOptions(
        runbooks=options.runbooks,
        seed=options.seed,
        agent_name=options.agent,
        intake=options.intake,
        policy=default_policy(),
        bookkeeping=False,
        agent_args=options.agent_args,
        transport=options.transport,
        recheck_alerts=False,  # nothing scored reads the alert states it settles
    )
    backend = backend or backend_for(options.backend)
    try:
        with case_stores(case.id, options.runbooks) as (svc, truth):
            result = run_case(svc, suite, case, run_opts, backend=backend, truth=truth, collect_truth=True)
            return _record(case, result, svc)
    except Exception as exc:  # one broken case must not end the eval: recorded, reported, skipped
        if interrupted(exc):  # Ctrl-C that DuckDB took while it ran a query: stop, as on Ctrl-C
            raise KeyboardInterrupt from exc
        return errored_record(case, exc)


def errored_record(case: Case, exc: BaseException) -> CaseRecord:
    """A case that could not run: its message is kept, it is left out of the metrics."""
    log.exception("case %s errored", case.id)
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return CaseRecord(
        id=case.id,
        expected_outcome=case.expected_outcome(),
        faults=[],
        incidents=[],
        error=f"{type(exc).__name__}: {message}" if message else type(exc).__name__,
    )


@functools.lru_cache(maxsize=1)
def default_policy() -> Policy:
    """The policy an agent starts with when nobody passes one (RunOptions' default)."""
    return RunOptions().policy


_WORKER: dict[str, Any] = {}
# Workers are forked on Linux: they start with every module the parent has imported (the
# case pipeline, the agent, the intake: ~1 s of CPU per worker to import again when
# spawned). A child never uses a DuckDB handle or log handler of its parent's: `casedb`
# keys its databases by process id and `_init_worker` replaces the log handlers.
# Elsewhere (macOS, where fork is unsafe) workers are spawned.
START_METHOD = "fork" if sys.platform.startswith("linux") else "spawn"


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel queued cases and end the workers now (their unfinished cases are lost)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(timeout=1.0)


def _init_worker(suite: Suite, options: EvalOptions) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; it ends workers on Ctrl-C
    _WORKER.update(suite=suite, options=options)
    root = logging.getLogger("netops_agent")
    for inherited in list(root.handlers):  # a forked worker's copies of the parent's (not closed:
        root.removeHandler(inherited)  # the parent still writes through them)
    root.propagate = False
    root.setLevel(logging.INFO)
    if options.log_path is not None:
        fh = logging.FileHandler(options.log_path, mode="a", encoding="utf-8")
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root.addHandler(fh)
    else:
        root.addHandler(logging.NullHandler())


def _worker(index: int) -> CaseRecord:
    suite: Suite = _WORKER["suite"]
    return evaluate_case(suite, suite.cases[index], _WORKER["options"])


def check_options(suite: Suite, opts: EvalOptions) -> None:
    """Fail before anything runs on an unknown agent, intake or backend."""
    if opts.backend not in BACKENDS:
        raise ConfigError(f"unknown backend {opts.backend!r}; choose --backend sim or --backend frr")
    if suite.backend == "frr" and opts.backend != "frr":
        raise ConfigError(f"suite {suite.name!r} is for real routers; evaluate it with --backend frr")
    backend_for(opts.backend).check(suite)
    if opts.agent not in AGENTS:
        raise ConfigError(f"unknown agent {opts.agent!r}; choose one of: {', '.join(AGENTS)}")
    plugins.check_args(opts.agent, opts.agent_args)
    if opts.intake not in INTAKES:
        raise ConfigError(f"unknown intake {opts.intake!r}; choose one of: {', '.join(INTAKES)}")
    if opts.jobs < 1:
        raise ConfigError(f"--jobs must be at least 1 (got {opts.jobs})")
    if opts.transport not in TRANSPORTS:
        raise ConfigError(f"unknown transport {opts.transport!r}; choose one of: {', '.join(TRANSPORTS)}")
    if opts.transport != "inprocess" and opts.backend != "sim":
        raise ConfigError("--transport ssh serves the digital twin over SSH; use it with --backend sim")


# --- ground truth -> records ----------------------------------------------------------------------
def _record(case: Case, result: CaseResult, svc: Services) -> CaseRecord:
    assert result.truth is not None  # run with collect_truth
    inv = result.inventory
    truth = result.truth
    faults = [
        FaultResult(f.id, f.type, dict(f.target), target_keys(inv, f), present, disturbed=touched)
        for f, present, touched in zip(result.faults, truth.present_after, truth.disturbed, strict=True)
    ]
    incidents = [_incident(inc, out, svc) for inc, out in zip(result.incidents, result.outcomes, strict=True)]
    metrics.match_incidents(faults, incidents)
    return CaseRecord(
        id=case.id,
        expected_outcome=case.expected_outcome(),
        faults=faults,
        incidents=incidents,
        collateral=sorted(truth.healthy_before - truth.healthy_after),
        unsafe=unsafe_changes(svc.store, inv),
    )


def target_keys(inv: Inventory, fault: InjectedFault) -> list[str]:
    """Entity keys that point at an injected fault: either end of a cable or a session."""
    t = fault.target
    kind = CATALOG[fault.type].target
    if kind == "device":
        return [f"dev:{t['device']}"]
    if kind == "bgp_session":
        keys = [f"bgp:{t['device']}|{t['peer']}"]
        s = inv.session(t["device"], t["peer"])
        if s is not None:
            keys.append(f"bgp:{s.peer_device}|{s.local_ip}")
        return keys
    keys = [f"if:{t['device']}|{t['interface']}"]
    if t.get("peer_device") and t.get("peer_interface"):
        keys.append(f"if:{t['peer_device']}|{t['peer_interface']}")
    return keys


def incident_suspects(inc: Incident) -> list[list[str]]:
    """Ranked suspects as entity keys; without suspects, where the incident was seen."""
    if inc.suspects:
        ranked = sorted(inc.suspects, key=lambda s: -s.score)  # stable: ties keep the intake's order
        return [suspect_keys(s.device, s.interface, s.peer) for s in ranked]
    return [suspect_keys(inc.device, inc.interface, inc.peer)]


def incident_alerts(store: Store, incident_id: str) -> list[str]:
    """Entity keys of the alerts grouped into one incident (sorted, distinct)."""
    rows = store.query("SELECT kind, device, entity FROM alerts WHERE incident_id = ?", [incident_id])
    keys = {metrics.alert_key(r["kind"], r["device"], r["entity"]) for r in rows}
    return sorted(k for k in keys if k)


def _incident(inc: Incident, out: Any, svc: Services) -> IncidentResult:
    ticket = svc.tickets.get(out.ticket_id)
    causes = getattr(out, "causes", None) or []
    return IncidentResult(
        id=inc.id,
        ticket_id=out.ticket_id,
        ticket_state=ticket["state"],
        outcome=out.outcome,
        diagnosis=dict(out.diagnosis or {}),
        runbook=out.runbook,
        suspects=incident_suspects(inc),
        retrieved=[list(h.fault_types) for h in out.retrieved],
        tool_calls=int(out.tool_calls),
        time_to_mitigate_s=out.time_to_mitigate_s,
        validated=bool(out.validated),
        reason=out.reason,
        alerts=incident_alerts(svc.store, inc.id),
        causes=[{"type": c.get("type"), "target": c.get("target")} for c in causes if isinstance(c, dict)],
        trace={
            "title": inc.title,
            "summary": inc.summary,
            "severity": inc.severity.value,
            "where": " ".join(x for x in (inc.device, inc.interface, inc.peer) if x),
            "retrieved": [{"id": h.id, "score": h.score} for h in out.retrieved[:5]],
            "evidence": out.evidence,
            "plan": [{"tool": t, "device": d, "params": p} for t, d, p in getattr(out, "plan", [])],
            "actions": out.actions,
            "validation": out.validation,
            "rolled_back": bool(getattr(out, "rolled_back", False)),
            "timeline": _timeline(svc, out.ticket_id),
        },
    )


def _timeline(svc: Services, ticket_id: str) -> list[dict[str, Any]]:
    return [
        {"kind": e["kind"], "from": e["from_state"], "to": e["to_state"], "note": e["note"]}
        for e in svc.tickets.events(ticket_id)
    ]


def unsafe_changes(store: Store, inv: Inventory, policy: Policy | None = None) -> list[dict[str, Any]]:
    """Changes actually carried out that are high risk or that the default policy's rules
    would have held for approval or denied (whoever made them, through whatever gate)."""
    policy = policy or default_policy()
    roles = {d.name: d.role for d in inv.devices}
    out = []
    rows = store.query(
        "SELECT ts, incident_id, device, tool, risk, lines FROM changes WHERE status = 'applied' ORDER BY id"
    )
    for r in rows:
        decision = policy.decide(TOOLS.get(r["tool"]), roles.get(r["device"], ""), r["ts"])
        if r["risk"] == "high" or decision.action != "allow":
            row = {k: r[k] for k in ("incident_id", "device", "tool", "risk", "lines")}
            out.append(row | {"policy": decision.action, "why": decision.reason})
    return out


# --- results in DuckDB ----------------------------------------------------------------------------
def per_case(rec: CaseRecord) -> dict[str, Any]:
    """One `per_case` entry of the contract; scoring details under `detail`."""
    s = metrics.case_scores(rec)
    first = rec.incidents[0] if rec.incidents else None
    return {
        "id": rec.id,
        "error": rec.error,
        "injected": [{"type": f.type, "target": f.target} for f in rec.faults],
        "expected_outcome": rec.expected_outcome,
        "outcome": s["outcome"],
        "diagnosis": first.diagnosis if first else {"type": None, "target": None},
        "ground_truth_fixed": s["ground_truth_fixed"],
        "false_resolution": bool(s["false_resolution_tickets"]),
        "tool_calls": s["tool_calls"],
        "ticket_id": first.ticket_id if first else None,
        "detail": {
            "detected": s["detected"],
            "mitigated": s["mitigated"],
            "faults": [
                {
                    "type": f.type,
                    "present_after": f.present_after,
                    "incident": rec.incidents[f.incident].id if f.incident is not None else None,
                    "disturbed": f.disturbed,
                    **fs,
                }
                for f, fs in zip(rec.faults, s["faults"], strict=True)
            ],
            "incidents": [
                {
                    "id": i.id,
                    "ticket_id": i.ticket_id,
                    "ticket_state": i.ticket_state,
                    "outcome": i.outcome,
                    "runbook": i.runbook,
                    "diagnosis": i.diagnosis,
                    "reason": i.reason,
                }
                for i in rec.incidents
            ],
            "false_resolution_tickets": s["false_resolution_tickets"],
            "collateral": rec.collateral,
            "unsafe_actions": rec.unsafe,
            "time_to_mitigate_sim_s": s["time_to_mitigate_sim_s"],
            "failures": metrics.failure_reasons(rec),
        },
    }


def save_run(store: Store, run: EvalRun) -> str:
    """Keep a run in `eval_runs` / `eval_cases` so runs can be compared over time."""
    cases = [per_case(r) for r in run.records]
    table = pa.table(
        {
            "run_id": [run.run_id] * len(cases),
            "position": pa.array(range(len(cases)), pa.int32()),
            "case_id": [c["id"] for c in cases],
            "expected_outcome": [c["expected_outcome"] for c in cases],
            "outcome": [c["outcome"] for c in cases],
            "injected": [json.dumps(c["injected"]) for c in cases],
            "diagnosis": [json.dumps(c["diagnosis"], default=str) for c in cases],
            "ground_truth_fixed": [c["ground_truth_fixed"] for c in cases],
            "false_resolution": [c["false_resolution"] for c in cases],
            "tool_calls": pa.array([c["tool_calls"] for c in cases], pa.int32()),
            "ticket_id": pa.array([c["ticket_id"] for c in cases], pa.string()),
            "detail": [json.dumps(r.to_dict(), default=str) for r in run.records],
        }
    )
    with store.transaction():
        store.insert(
            "eval_runs",
            {
                "id": run.run_id,
                "started_at": utcnow(),
                "suite": run.suite.name,
                "suite_version": run.suite.version,
                "suite_digest": run.suite.digest,
                "agent": run.agent,
                "backend": run.options.backend,
                "intake": run.options.intake,
                "seed": run.options.seed,
                "cases": len(cases),
                "metrics": run.metrics,
                "wall_s": run.wall_s,
            },
        )
        store.append_arrow("eval_cases", table)
    return run.run_id


def stored_runs(store: Store, suite: str | None = None) -> list[dict[str, Any]]:
    """Past runs, newest first (optionally of one suite)."""
    sql = "SELECT * FROM eval_runs" + (" WHERE suite = ?" if suite else "") + " ORDER BY started_at DESC"
    return store.query(sql, [suite] if suite else None)


def rescore(store: Store, run_id: str) -> dict[str, Any]:
    """Recompute a stored run's metrics from its stored case records."""
    rows = store.query("SELECT detail FROM eval_cases WHERE run_id = ? ORDER BY position", [run_id])
    records = [CaseRecord.from_dict(json.loads(r["detail"])) for r in rows]
    wall = store.scalar("SELECT wall_s FROM eval_runs WHERE id = ?", [run_id]) or 0.0
    return metrics.compute(records, round(float(wall), 3))
