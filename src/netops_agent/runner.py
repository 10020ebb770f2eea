"""Run scenarios end to end: build the twin, inject faults, raise incidents, let the agent work.

This is the orchestration behind `netops-agent run` and the evaluation harness. It
is the only place (with the harness) that touches ground truth: it injects faults,
and hands the agent nothing but the lab's tools and the incidents.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netops_agent.agent import Agent, AgentConfig, Outcome
from netops_agent.audit import StoreRecorder
from netops_agent.errors import ConfigError
from netops_agent.evaluation.scenario import Case, Suite
from netops_agent.knowledge import Runbook, TfidfRetriever, build_index, load_runbooks, stored_runbooks
from netops_agent.lab.sim import noc, persist
from netops_agent.lab.sim.faults import SimFaults
from netops_agent.lab.sim.lab import SimLab
from netops_agent.models import Incident, InjectedFault
from netops_agent.safety.approvals import ApprovalService
from netops_agent.safety.policy import Policy, load_policy
from netops_agent.store import Store
from netops_agent.tickets import TicketService

log = logging.getLogger("netops_agent.runner")

BASELINE_S = 60.0  # healthy telemetry before faults
SETTLE_S = 120.0  # symptoms develop before monitoring raises incidents


@dataclass
class RunOptions:
    runbooks: Path | None = None
    agent: AgentConfig = field(default_factory=AgentConfig)
    policy: Policy = field(default_factory=load_policy)
    seed: int | None = None  # overrides the suite's topology seed
    agent_name: str = "default"  # a key of AGENTS
    intake: str = "noc"  # a key of INTAKES


@dataclass
class CaseResult:
    case: Case
    lab: SimLab
    faults: list[InjectedFault]
    incidents: list[Incident]
    outcomes: list[Outcome]
    hash_before_agent: str = ""
    hash_after_agent: str = ""


@dataclass
class RunReport:
    suite: Suite
    cases: list[CaseResult]
    wall_s: float

    @property
    def outcomes(self) -> list[Outcome]:
        return [o for c in self.cases for o in c.outcomes]

    def as_dict(self) -> dict[str, object]:
        outs = self.outcomes
        return {
            "suite": self.suite.name,
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
        }


@dataclass
class Services:
    """What every case shares: the store, the runbooks and their index, the ticket system."""

    store: Store
    runbooks: dict[str, Runbook]
    retriever: TfidfRetriever
    tickets: TicketService

    @classmethod
    def open(cls, store: Store, runbooks: Path | None = None) -> Services:
        books = ensure_index(store, runbooks)
        return cls(store, books, TfidfRetriever(store), TicketService(store))


# Incident sources: (lab, injected faults, case, services) -> incidents. The harness and
# the scenario runner are the only callers that may pass ground truth in.
IntakeFn = Callable[[SimLab, list[InjectedFault], Case, Services], list[Incident]]
# Agent factories: (lab, services, options) -> an object with handle(incident, ticket_id).
AgentFactory = Callable[[SimLab, Services, RunOptions], Any]


def _noc_intake(lab: SimLab, faults: list[InjectedFault], case: Case, svc: Services) -> list[Incident]:
    return noc.incidents_for(lab, faults, seed=case.seed)


def _default_agent(lab: SimLab, svc: Services, options: RunOptions) -> Agent:
    return Agent(
        lab,
        retriever=svc.retriever,
        runbooks=svc.runbooks,
        tickets=svc.tickets,
        recorder=StoreRecorder(svc.store),
        policy=options.policy,
        config=options.agent,
        approvals=ApprovalService(svc.store),
    )


INTAKES: dict[str, IntakeFn] = {"noc": _noc_intake}
AGENTS: dict[str, AgentFactory] = {"default": _default_agent}


def _lookup(registry: dict[str, Any], name: str, what: str) -> Any:
    try:
        return registry[name]
    except KeyError:
        raise ConfigError(f"unknown {what} {name!r}; choose one of: {', '.join(registry)}") from None


def ensure_index(store: Store, runbooks: Path | None = None) -> dict[str, Runbook]:
    """Load and validate runbooks; rebuild the TF-IDF index only if they changed."""
    books = load_runbooks(runbooks)
    build_index(store, books)
    return stored_runbooks(store)


def build_case(suite: Suite, case: Case, seed: int | None = None) -> tuple[SimLab, list[InjectedFault]]:
    topo = suite.topology_for(case)
    lab = SimLab.build(topo.profile, topo.seed if seed is None else seed, jitter=case.noise.counter_jitter)
    lab.advance(BASELINE_S)
    fx = SimFaults(lab)
    faults = [fx.inject(spec, seed=case.seed) for spec in case.faults]
    lab.advance(SETTLE_S)
    return lab, faults


def run_case(
    svc: Services, suite: Suite, case: Case, options: RunOptions, *, first_incident: int = 1
) -> CaseResult:
    """One case in a fresh twin: faults in, incidents raised, the agent works each one."""
    intake = _lookup(INTAKES, options.intake, "intake")
    make_agent = _lookup(AGENTS, options.agent_name, "agent")
    lab, faults = build_case(suite, case, options.seed)
    persist.save(lab, svc.store, fresh=True)
    incidents = intake(lab, faults, case, svc)
    for n, inc in enumerate(incidents, start=first_incident):
        inc.id = f"IM-{n:04d}"
    agent = make_agent(lab, svc, options)
    hash_before = lab.state_hash()
    outcomes = []
    for inc in incidents:
        ticket_id = open_incident(svc.store, svc.tickets, inc, lab)
        outcomes.append(agent.handle(inc, ticket_id))
        persist.flush(lab, svc.store)
    persist.save(lab, svc.store)
    return CaseResult(case, lab, faults, incidents, outcomes, hash_before, lab.state_hash())


def run_suite(store: Store, suite: Suite, options: RunOptions | None = None) -> RunReport:
    """Run every case of a suite; the store keeps all incidents and the last case's twin."""
    options = options or RunOptions()
    started = time.perf_counter()
    store.reset_run()
    svc = Services.open(store, options.runbooks)
    results: list[CaseResult] = []
    for case in suite.cases:
        first = sum(len(r.incidents) for r in results) + 1
        results.append(run_case(svc, suite, case, options, first_incident=first))
    return RunReport(suite, results, time.perf_counter() - started)


def open_incident(store: Store, tickets: TicketService, inc: Incident, lab: SimLab) -> str:
    """Record the incident and open its ticket together."""
    with store.transaction():
        store.insert(
            "incidents",
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
                "opened_at": lab.now(),
            },
        )
        return tickets.open(inc, lab.now())
