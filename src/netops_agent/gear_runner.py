"""`solve --backend ssh`: monitoring and the agent on real devices (no fault injection).

Open the devices of a Nornir inventory over SSH, archive every running config (the
baseline), poll telemetry a few times on an interval, run the telemetry intake over
it and let the agent work each incident. Read-only unless `allow_changes`: the
agent still diagnoses and plans, and every change it would make is refused by the
lab with a message naming the device and `--allow-changes`.
"""

from __future__ import annotations

import time
from pathlib import Path

from netops_agent.evaluation.scenario import Case, Suite
from netops_agent.intake.pipeline import telemetry_intake
from netops_agent.lab.ssh.gear import GearLab, Poller
from netops_agent.pipeline import AGENTS, CaseResult, RunOptions, RunReport, Services, lookup
from netops_agent.pipeline.case import open_incidents
from netops_agent.store import Store


def solve_gear(
    store: Store,
    inventory: Path,
    *,
    allow_changes: bool = False,
    netbox: Path | None = None,
    polls: int = 3,
    poll_s: float = 10.0,
    max_wait_s: float = 30.0,
    options: RunOptions | None = None,
) -> RunReport:
    """Work whatever monitoring finds on the devices of `inventory` now."""
    options = options or RunOptions()
    started = time.perf_counter()
    nb = None
    if netbox is not None:
        from netops_agent.lab.ssh.netbox import load_netbox

        nb = load_netbox(netbox)
    lab = GearLab.from_nornir(inventory, store, allow_changes=allow_changes, netbox=nb, max_wait_s=max_wait_s)
    try:
        lab.discover()
        lab.poller = Poller(lab, poll_s)
        for n in range(polls):
            if n:
                time.sleep(poll_s)
            lab.poller.poll()
        svc = Services.open(store, options.runbooks)
        case = Case(id="gear")
        view = lab.view()
        opened = open_incidents(store, svc.tickets, view, lambda: telemetry_intake(view, store, case.id))
        incidents = [inc for inc, _ in opened]
        hash_before = lab.state_hash()
        agent = lookup(AGENTS, options.agent_name, "agent")(view, svc, options)
        outcomes = []
        for inc, ticket_id in opened:
            outcomes.append(agent.handle(inc, ticket_id))
        result = CaseResult(case, lab.inventory(), [], incidents, outcomes, hash_before, lab.state_hash())
    finally:
        lab.close()
    suite = Suite(name="gear", cases=[case])
    return RunReport(suite, [result], time.perf_counter() - started)
