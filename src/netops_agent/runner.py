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
from netops_agent.intake import alerts as intake_alerts
from netops_agent.intake.pipeline import telemetry_intake
from netops_agent.knowledge import Runbook, TfidfRetriever, build_index, load_runbooks, stored_runbooks
from netops_agent.lab.sim import noc, noise, persist
from netops_agent.lab.sim.faults import SimFaults
from netops_agent.lab.sim.lab import SimLab
from netops_agent.models import Incident, InjectedFault, Inventory
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
    intake: str = "telemetry"  # a key of INTAKES
    backend: str | None = None  # "sim" or "frr"; None: the suite's `backend`


@dataclass
class CaseResult:
    case: Case
    lab: SimLab
    faults: list[InjectedFault]
    incidents: list[Incident]
    outcomes: list[Outcome]
    hash_before_agent: str = ""
    hash_after_agent: str = ""
    intake: dict[str, Any] = field(default_factory=dict)  # see intake_metrics


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
            "intake": summarize_intake([c.intake for c in self.cases]),
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


INTAKES: dict[str, IntakeFn] = {"noc": _noc_intake, "telemetry": telemetry_intake}
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
    noise.add_transient_spikes(lab, case.noise.transient_spikes, seed=case.seed)
    with svc.store.transaction():  # a fresh twin: the previous twin's observations go
        svc.store.execute("DELETE FROM telemetry")
        svc.store.execute("DELETE FROM events")
    persist.save(lab, svc.store, fresh=True)
    incidents = intake(lab, faults, case, svc)
    renamed = {}
    for n, inc in enumerate(incidents, start=first_incident):
        renamed[inc.id] = f"IM-{n:04d}"
        inc.id = renamed[inc.id]
    intake_alerts.relink_alerts(svc.store, renamed)
    _severity_overrides(case, faults, incidents, svc.store, lab.inventory())
    metrics = intake_metrics(case, faults, incidents, svc.store, lab)
    agent = make_agent(lab, svc, options)
    hash_before = lab.state_hash()
    outcomes = []
    for inc in incidents:
        ticket_id = open_incident(svc.store, svc.tickets, inc, lab)
        outcomes.append(agent.handle(inc, ticket_id))
        persist.flush(lab, svc.store)
    if options.intake == "telemetry" and incidents:
        recheck_alerts(lab, svc.store, scope=case.id)
    persist.save(lab, svc.store)
    return CaseResult(case, lab, faults, incidents, outcomes, hash_before, lab.state_hash(), intake=metrics)


def recheck_alerts(lab: SimLab, store: Store, scope: str) -> None:
    """One more detection pass after the agent: alerts whose condition cleared auto-clear."""
    from netops_agent.intake.config import load_detection
    from netops_agent.intake.pipeline import detect, flush_lab

    cfg = load_detection()
    lab.advance(max(cfg.settings.hold_s, 60.0))
    flush_lab(lab, store)
    detect(store, cfg, now=lab.now(), scope=scope)


def run_suite(store: Store, suite: Suite, options: RunOptions | None = None) -> RunReport:
    """Run every case of a suite; the store keeps all incidents and the last case's twin."""
    options = options or RunOptions()
    if (options.backend or suite.backend) == "frr":  # real routers: one lab for the suite
        from netops_agent.frr_runner import run_suite_frr

        return run_suite_frr(store, suite, options)
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


# --- intake quality (reads ground truth: the runner's job, never intake's) ------------------------
def _fault_places(fault: InjectedFault, inv: Inventory) -> tuple[set[tuple[str, str]], set[str]]:
    """(device, entity) pairs and whole devices whose alerts an injected fault explains."""
    t = fault.target
    links = {lk.id: lk for lk in inv.links}
    link = links.get(t.get("link", ""))
    if link is None and t.get("peer"):
        s = inv.session(t["device"], t["peer"])
        link = links.get(s.link_id) if s else None
    if link is None and t.get("interface"):
        link = inv.link_of(t["device"], t["interface"])
    pairs: set[tuple[str, str]] = {(t["device"], "config")}
    if link is not None:
        pairs |= set(link.ends())
        pairs |= {(s.device, s.peer_ip) for s in inv.bgp_sessions if s.link_id == link.id}
        return pairs, set()
    if t.get("interface"):
        return pairs | {(t["device"], t["interface"]), (t["device"], fault.params.get("prefix", ""))}, set()
    dev = t["device"]
    for lk in inv.links:
        if dev in (lk.a_device, lk.b_device):
            pairs.add(lk.peer_of(dev))
    pairs |= {(s.device, s.peer_ip) for s in inv.bgp_sessions if s.peer_device == dev}
    return pairs, {dev}


def _explains(alert: dict[str, Any], places: tuple[set[tuple[str, str]], set[str]]) -> bool:
    pairs, devices = places
    return alert["device"] in devices or (alert["device"], alert["entity"]) in pairs


def _severity_overrides(
    case: Case, faults: list[InjectedFault], incidents: list[Incident], store: Store, inv: Inventory
) -> None:
    """A scenario's `severity:` override is a business priority the harness applies to the
    incident that carries that fault's alerts (like a service tier in a CMDB)."""
    alerts = store.query(
        "SELECT device, entity, incident_id FROM alerts WHERE scope = ? AND incident_id IS NOT NULL",
        [case.id],
    )
    by_id = {inc.id: inc for inc in incidents}
    for spec, fault in zip(case.faults, faults, strict=True):
        if spec.severity is None:
            continue
        places = _fault_places(fault, inv)
        hits: dict[str, int] = {}
        for a in alerts:
            if a["incident_id"] in by_id and _explains(a, places):
                hits[a["incident_id"]] = hits.get(a["incident_id"], 0) + 1
        if hits:
            inc = by_id[max(hits, key=lambda k: hits[k])]
            if spec.severity.rank > inc.severity.rank:
                inc.severity = spec.severity


def intake_metrics(
    case: Case, faults: list[InjectedFault], incidents: list[Incident], store: Store, lab: SimLab
) -> dict[str, Any]:
    """Per case: alerts raised, incidents opened, and how alerts of each fault were grouped."""
    alerts = store.query("SELECT device, entity, incident_id FROM alerts WHERE scope = ?", [case.id])
    ids = {inc.id for inc in incidents}
    inv = lab.inventory()
    purity: list[float] = []
    explained: set[str] = set()
    for fault in faults:
        places = _fault_places(fault, inv)
        mine = [a["incident_id"] for a in alerts if a["incident_id"] in ids and _explains(a, places)]
        explained.update(mine)
        if mine:
            purity.append(max(mine.count(i) for i in set(mine)) / len(mine))
    return {
        "healthy": not faults,
        "faults": len(faults),
        "alerts": len(alerts),
        "alerts_in_incidents": sum(a["incident_id"] in ids for a in alerts),
        "incidents": len(incidents),
        "purity": purity,
        "unexplained_incidents": len(ids - explained) if faults and alerts else 0,
        "false_incidents": 0 if faults else len(incidents),
    }


def summarize_intake(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """The `intake` block of `run --json`."""
    alerts = sum(c.get("alerts", 0) for c in cases)
    incidents = sum(c.get("incidents", 0) for c in cases)
    purity = [p for c in cases for p in c.get("purity", [])]
    return {
        "alerts": alerts,
        "alerts_in_incidents": sum(c.get("alerts_in_incidents", 0) for c in cases),
        "incidents": incidents,
        "alert_to_incident_compression": round(alerts / incidents, 2) if incidents and alerts else None,
        "grouping_purity": round(sum(purity) / len(purity), 3) if purity else None,
        "faults_split": sum(p < 1.0 for p in purity),
        "faults_with_alerts": len(purity),
        "false_incidents_healthy": sum(c.get("false_incidents", 0) for c in cases),
        "healthy_cases": sum(bool(c.get("healthy")) for c in cases),
        "unexplained_incidents": sum(c.get("unexplained_incidents", 0) for c in cases),
    }


def solve_lab(store: Store, options: RunOptions | None = None) -> RunReport:
    """Let the agent work the twin saved in `store` (the interactive lab's `solve`).

    Monitoring runs over what the twin shows now (the telemetry intake, never the injected
    faults); alerts already in an incident are not raised again, so solving twice does not
    duplicate work. Incidents continue the lab's numbering.
    """
    options = options or RunOptions()
    started = time.perf_counter()
    lab = persist.load(store)
    svc = Services.open(store, options.runbooks)
    incidents = telemetry_intake(lab, [], Case(id="lab"), svc)
    agent = _lookup(AGENTS, options.agent_name, "agent")(lab, svc, options)
    hash_before = lab.state_hash()
    outcomes = []
    for inc in incidents:
        ticket_id = open_incident(store, svc.tickets, inc, lab)
        outcomes.append(agent.handle(inc, ticket_id))
        persist.flush(lab, store)
    persist.save(lab, store)
    suite = Suite(name="lab", cases=[Case(id="lab")])
    result = CaseResult(suite.cases[0], lab, [], incidents, outcomes, hash_before, lab.state_hash())
    return RunReport(suite, [result], time.perf_counter() - started)
