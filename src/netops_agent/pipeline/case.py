"""One case pipeline for every backend: lab, baseline, inject, settle, intake, agent, truth.

`run_case` is what `netops-agent run`, `solve` (see `interactive`) and the
evaluation harness all go through:

    backend.start        a fresh twin, or the suite's FRR lab converged (healthy baseline)
    inject               through the control face, isolation faults last; the faults
                         go to the TruthStore
    backend.settle       symptoms develop
    intake               the view's telemetry, syslog and probes -> incidents
    agent                gets the NetworkView and the incidents, nothing else
    re-detect            alerts whose condition cleared auto-clear
    read ground truth    (only with `collect_truth`) faults still present, health after,
                         the entities each fault disturbs (for matching faults to incidents)
    backend.finish       the FRR lab is repaired and reset to golden for the next case

Ground truth is read from the `TruthStore` (never the agent's database) after
injection, so whatever is recorded there is what the case is scored against; the
agent's behaviour cannot depend on it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from netops_agent.agent import AgentConfig, Outcome
from netops_agent.errors import ConfigError
from netops_agent.evaluation.scenario import Case, Suite
from netops_agent.intake import alerts as intake_alerts
from netops_agent.intake.pipeline import recheck, recheck_wait
from netops_agent.killpoints import killpoint
from netops_agent.lab.base import NetworkView
from netops_agent.models import Incident, InjectedFault, Inventory
from netops_agent.pipeline import oracle
from netops_agent.pipeline.backends import Backend, FrrRunConfig, backend_for
from netops_agent.pipeline.quality import intake_metrics, summarize_intake
from netops_agent.pipeline.registry import AGENTS, INTAKES, ORACLE, lookup
from netops_agent.safety.policy import Policy, load_policy
from netops_agent.services import Services
from netops_agent.store import Store
from netops_agent.store.truth import TruthStore, truth_path
from netops_agent.tickets import TicketService

log = logging.getLogger("netops_agent.pipeline")


@dataclass
class RunOptions:
    runbooks: Any = None  # Path | None: the runbook YAML (default: the shipped one)
    agent: AgentConfig = field(default_factory=AgentConfig)
    policy: Policy = field(default_factory=load_policy)
    seed: int | None = None  # overrides the suite's topology seed
    agent_name: str = "default"  # a key of AGENTS
    intake: str = "telemetry"  # a key of INTAKES ("oracle" reads ground truth: debugging only)
    backend: str | None = None  # "sim" or "frr"; None: the suite's `backend`
    bookkeeping: bool = True  # state hashes and stored running configs (the harness skips them)
    agent_args: dict[str, Any] = field(default_factory=dict)  # options of the llm / external agents
    transport: str = "inprocess"  # how the agent reaches the devices: inprocess | ssh (sim only)
    # After the agent, one more detection pass lets alerts whose condition cleared auto-clear
    # (`intake.recheck`). The harness turns it off: it only changes alert states and adds
    # telemetry in the case's store, which the harness drops; nothing it scores reads them
    # (tickets, their events, the alerts linked to incidents and the changes are final by
    # then, and the pass links no alert to an incident). The twin's clock still moves on by
    # the pass's wait, so the ground truth is read at the same moment either way.
    recheck_alerts: bool = True


@dataclass
class CaseTruth:
    """Ground truth read after the agent (and before a shared lab's repair)."""

    present_after: list[bool] = field(default_factory=list)
    healthy_before: set[str] = field(default_factory=set)
    healthy_after: set[str] = field(default_factory=set)
    disturbed: list[list[str]] = field(default_factory=list)  # per fault: entity keys it disturbs


@dataclass
class CaseResult:
    case: Case
    inventory: Inventory
    faults: list[InjectedFault]  # as recorded in the TruthStore
    incidents: list[Incident]
    outcomes: list[Outcome]
    hash_before_agent: str = ""
    hash_after_agent: str = ""
    intake: dict[str, Any] = field(default_factory=dict)  # see quality.intake_metrics
    truth: CaseTruth | None = None


@dataclass
class RunReport:
    suite: Suite
    cases: list[CaseResult]
    wall_s: float
    intake_name: str = "telemetry"

    @property
    def outcomes(self) -> list[Outcome]:
        return [o for c in self.cases for o in c.outcomes]

    def as_dict(self) -> dict[str, object]:
        outs = self.outcomes
        return {
            "suite": self.suite.name,
            "intake_source": self.intake_name,
            "oracle_intake": self.intake_name == ORACLE,
            "incidents": [o.as_dict() for o in outs],
            "summary": {
                "incidents": len(outs),
                "resolved": sum(o.outcome == "resolved" for o in outs),
                "escalated": sum(o.outcome == "escalated" for o in outs),
                "no_action": sum(o.outcome == "no_action" for o in outs),
                "awaiting_approval": sum(o.approval_id is not None and o.outcome != "resolved" for o in outs),
                "tool_calls": sum(o.tool_calls for o in outs),
                "wall_s": round(self.wall_s, 3),
            },
            "cases": [
                {
                    "id": c.case.id,
                    "incidents": len(c.incidents),
                    "state_hash_before_agent": c.hash_before_agent,
                    "state_hash_after_agent": c.hash_after_agent,
                    "network_changed": c.hash_before_agent != c.hash_after_agent,
                }
                for c in self.cases
            ],
            "intake": summarize_intake([c.intake for c in self.cases]),
        }


def check_run(suite: Suite, options: RunOptions, backend: Backend) -> None:
    """Fail before anything runs on an unknown agent or intake, or a suite the backend cannot run."""
    lookup(AGENTS, options.agent_name, "agent")
    lookup(INTAKES, options.intake, "intake")
    backend.check(suite)


def run_case(
    svc: Services,
    suite: Suite,
    case: Case,
    options: RunOptions,
    *,
    backend: Backend,
    truth: TruthStore,
    first_incident: int = 1,
    collect_truth: bool = False,
) -> CaseResult:
    """One case (see the module docstring); `svc.store` keeps its incidents and records."""
    make_agent = lookup(AGENTS, options.agent_name, "agent")
    intake = lookup(INTAKES, options.intake, "intake")
    started = time.monotonic()
    ctl = backend.start(suite, case, options.seed)
    try:
        ctl.set_criticality(suite.criticality_for(case))
        injected = ctl.inject_all(list(case.faults), seed=case.seed)  # isolation last
        truth.record(case.id, injected, ctl.now())
        backend.settle(ctl, case, injected)
        faults = truth.faults(case.id)  # from here on, the recorded ground truth is the truth
        healthy_before = ctl.healthy_entities() if collect_truth else set()
        store = svc.store
        store.clear(("telemetry_samples", "telemetry_series", "events"))  # a fresh lab's observations
        backend.publish(ctl, store, fresh=True)
        view: NetworkView = ctl.view()
        if intake is None:  # the oracle: debugging only, labelled in every result

            def find() -> list[Incident]:
                return oracle.incidents_for(view, faults, seed=case.seed)
        else:

            def find() -> list[Incident]:
                return intake(view, store, case.id)

        opened = open_incidents(store, svc.tickets, view, find, first=first_incident)
        incidents = [inc for inc, _ in opened]
        metrics = intake_metrics(case.id, faults, incidents, store, ctl.inventory())
        hash_before = ctl.state_hash() if options.bookkeeping else ""
        outcomes = []
        with agent_view(ctl, view, options) as agent_net:
            agent = make_agent(agent_net, svc, options)
            for inc, ticket_id in opened:
                # One unit of record: the agent's work and the lab state it produced commit
                # together. In memory (a staged `run`, an eval case) a crash keeps nothing, so
                # the twin's state is saved once, after the last incident, not after each.
                # Its telemetry and syslog still go with each incident: one append of all
                # the demo's agent-time samples at the end peaked ~12 MiB higher.
                with store.transaction():
                    killpoint("incident")
                    outcomes.append(agent.handle(inc, ticket_id))
                    backend.flush(ctl, store)
                    if store.persistent and options.bookkeeping:
                        backend.publish(ctl, store, fresh=False)
                store.release()  # between incidents, other processes may read (a file store)
        if intake is not None and incidents:
            if options.recheck_alerts:
                recheck(view, store, scope=case.id)
            else:
                view.wait(recheck_wait())
        hash_after = ""
        if options.bookkeeping:
            hash_after = ctl.state_hash()
            backend.publish(ctl, store, fresh=False)
        case_truth = None
        if collect_truth:  # the agent is done: now the pipeline may look
            case_truth = CaseTruth(
                present_after=[ctl.fault_present(f) for f in faults],
                healthy_before=healthy_before,
                healthy_after=backend.healthy_after(ctl, healthy_before),
                disturbed=[sorted(ctl.disturbed(f)) for f in faults],
            )
        inv = snapshot_inventory(ctl.inventory())
    finally:
        backend.finish(ctl)
    log.info("case %s on %s: %.2fs", case.id, backend.name, time.monotonic() - started)
    return CaseResult(case, inv, faults, incidents, outcomes, hash_before, hash_after, metrics, case_truth)


def snapshot_inventory(inv: Inventory) -> Inventory:
    """The inventory as it is at the end of a case, for the case's result. Only the
    criticality of sites and devices is ever set on a lab's inventory (`apply_criticality`,
    each case on a shared FRR lab); nothing else in it is mutated. So those records are
    copied and the rest shared: the same as a deep copy (which cost ~0.3 s on 500 routers)."""
    snap = inv.model_copy(
        update={
            "sites": [s.model_copy() for s in inv.sites],
            "devices": [d.model_copy() for d in inv.devices],
            "interfaces": list(inv.interfaces),
            "links": list(inv.links),
            "bgp_sessions": list(inv.bgp_sessions),
            "prefixes": {d: list(ps) for d, ps in inv.prefixes.items()},
        }
    )
    for cached in set(snap.__dict__) - set(Inventory.model_fields):
        del snap.__dict__[cached]  # lookup indexes stashed on the original point at its records
    return snap


TRANSPORTS = ("inprocess", "ssh")


@contextmanager
def agent_view(ctl: Any, view: NetworkView, options: RunOptions) -> Iterator[NetworkView]:
    """The view the agent gets: as is, or with every command over real SSH (`--transport ssh`)."""
    if options.transport == "inprocess":
        yield view
        return
    if options.transport != "ssh" or getattr(ctl, "backend", "") != "sim":
        raise ConfigError(
            f"transport {options.transport!r} is not available here; use inprocess or ssh on sim"
        )
    from netops_agent.lab.sim.ssh_lab import twin_over_ssh

    with twin_over_ssh(ctl.lab, view=view) as ssh_view:  # the control side serves its own twin
        yield ssh_view


def run_suite(
    store: Store,
    suite: Suite,
    options: RunOptions | None = None,
    *,
    truth: TruthStore | None = None,
    frr: FrrRunConfig | None = None,
) -> RunReport:
    """Every case of a suite; the store keeps all incidents and the last lab's records.

    Ground truth goes to `truth` (default: the TruthStore next to the store's file,
    `truth_path(store.path)`, or memory for an in-memory store).
    """
    options = options or RunOptions()
    backend = backend_for(options.backend or suite.backend, frr)
    check_run(suite, options, backend)
    started = time.perf_counter()
    own = truth is None
    truth = truth or TruthStore(truth_path(store.path))
    try:
        truth.clear()
        store.reset_run()
        svc = Services.open(store, options.runbooks)
        results: list[CaseResult] = []
        with backend.session(suite, store):
            for case in suite.cases:
                first = sum(len(r.incidents) for r in results) + 1
                results.append(
                    run_case(svc, suite, case, options, backend=backend, truth=truth, first_incident=first)
                )
    finally:
        if own:
            truth.close()
    return RunReport(suite, results, time.perf_counter() - started, options.intake)


def open_incidents(
    store: Store,
    tickets: TicketService,
    view: NetworkView,
    find: Callable[[], list[Incident]],
    *,
    first: int | None = None,
) -> list[tuple[Incident, str]]:
    """Run monitoring (`find`) and record what it found in one transaction: the alerts
    linked to their incidents, the incident rows and their tickets, opened. A crash can
    no longer leave alerts pointing at incidents that were never written.

    `first` renumbers the incidents from IM-<first> (a run numbers them across cases).
    """
    with store.transaction():
        incidents = find()
        if first is not None:
            renamed = {}
            for n, inc in enumerate(incidents, start=first):
                renamed[inc.id] = f"IM-{n:04d}"
                inc.id = renamed[inc.id]
            intake_alerts.relink_alerts(store, renamed)
        opened = [(inc, open_incident(store, tickets, inc, view)) for inc in incidents]
        killpoint("opened")
    return opened


def open_incident(store: Store, tickets: TicketService, inc: Incident, view: NetworkView) -> str:
    """Record the incident and open its ticket together (the rows are written with the
    ticket's just before the transaction commits: `Store.append_rows`)."""
    with store.transaction():
        store.append_rows(
            "incidents",
            [
                {
                    "id": inc.id,
                    "title": inc.title,
                    "summary": inc.summary,
                    "severity": inc.severity.value,
                    "device": inc.device,
                    "interface": inc.interface,
                    "peer": inc.peer,
                    "prefix": inc.prefix,
                    "suspects": [s.model_dump() for s in inc.suspects],
                    "alerts": inc.alerts,
                    "status": "open",
                    "opened_at": view.now(),
                }
            ],
        )
        return tickets.open(inc, view.now())
