"""The interactive lab (`lab up/inject/exec`, `solve`, `resume`) on the control face.

The twin's state lives in the run database (inventory, configs, physical condition,
counters, syslog, telemetry); what was injected lives only in the TruthStore next
to it (`truth_path(db)`, scope "lab"). An FRR lab is recorded by its runtime
directory and keeps its faults in its own state file.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from netops_agent.errors import LabError
from netops_agent.intake.pipeline import telemetry_intake
from netops_agent.killpoints import killpoint
from netops_agent.lab.base import ControlFace
from netops_agent.pipeline.case import CaseResult, RunOptions, RunReport, agent_view, open_incidents
from netops_agent.pipeline.registry import AGENTS, lookup
from netops_agent.services import Services
from netops_agent.store import Store
from netops_agent.store.truth import TruthStore, truth_path

SCOPE = "lab"


def truth_for(store: Store) -> TruthStore:
    """The ground-truth store of the run database `store`."""
    return TruthStore(truth_path(store.path))


@contextmanager
def lab_control(store: Store, *, save: bool = True, with_truth: bool = False) -> Iterator[ControlFace]:
    """The control face of the lab recorded in `store` (twin or FRR).

    For the twin, `with_truth` loads the injected faults from the TruthStore (the lab
    CLI needs them to pick free targets and number faults); on leaving the block the
    twin's state is saved back (`save`) and its injected faults recorded there.
    """
    from netops_agent.lab.frr.persist import recorded_lab

    recorded = recorded_lab(store)
    if recorded is not None:
        yield frr_control(recorded)
        return
    from netops_agent.lab.sim import persist
    from netops_agent.lab.sim.control import SimControl

    lab = persist.load(store)
    if with_truth:
        with truth_for(store) as truth:
            lab.ground_truth = truth.faults(SCOPE)
    ctl = SimControl(lab)
    yield ctl
    if save:
        persist.save(lab, store)
        if with_truth:
            with truth_for(store) as truth:
                truth.record(SCOPE, lab.ground_truth, lab.clock)


def frr_control(recorded: dict[str, Any]) -> ControlFace:
    from netops_agent.lab.frr import FrrLab
    from netops_agent.lab.frr.control import FrrControl

    if recorded.get("status") != "up":
        raise LabError(
            f"no FRR lab is up (the one recorded here, prefix {recorded.get('prefix')}, is "
            f"{recorded.get('status')}); start one with `netops-agent lab up --backend frr`"
        )
    return FrrControl(FrrLab.attach(Path(recorded["runtime_dir"])))


def solve_lab(store: Store, options: RunOptions | None = None) -> RunReport:
    """Let the agent work the lab recorded in `store` (the interactive lab's `solve`).

    Monitoring runs over what the lab shows now (the telemetry intake, never the injected
    faults); alerts already in an incident are not raised again, so solving twice does not
    duplicate work. Incidents continue the lab's numbering.
    """
    from netops_agent.evaluation.scenario import Case, Suite

    options = options or RunOptions()
    started = time.perf_counter()
    svc = Services.open(store, options.runbooks)
    with lab_control(store) as ctl:
        view = ctl.view()
        opened = open_incidents(store, svc.tickets, view, lambda: telemetry_intake(view, store, SCOPE))
        incidents = [inc for inc, _ in opened]
        hash_before = ctl.state_hash()
        outcomes = []
        with agent_view(ctl, view, options) as agent_net:
            agent = lookup(AGENTS, options.agent_name, "agent")(agent_net, svc, options)
            for inc, ticket_id in opened:
                store.release()  # readers get in between incidents (the writer lock keeps writers out)
                killpoint("released")
                # One unit of record: the agent's work and the twin state it produced commit together.
                with store.transaction():
                    killpoint("incident")
                    outcomes.append(agent.handle(inc, ticket_id))
                    _save_twin(ctl, store)
        hash_after = ctl.state_hash()
        inv = ctl.inventory()
    suite = Suite(name="lab", cases=[Case(id="lab")])
    result = CaseResult(suite.cases[0], inv, [], incidents, outcomes, hash_before, hash_after)
    return RunReport(suite, [result], time.perf_counter() - started)


def work_incidents(store: Store, incidents: list[Any], options: RunOptions | None = None) -> list[Any]:
    """Let the agent work incidents already opened (with their tickets) on the recorded lab.

    For incidents raised from outside the lab's own monitoring (`serve`'s receivers with
    `--auto-remediate`): the agent gets the lab's network view, as in `solve`.
    """
    options = options or RunOptions()
    svc = Services.open(store, options.runbooks)
    tickets = {
        r["incident_id"]: r["id"]
        for r in store.query(
            "SELECT incident_id, id FROM tickets WHERE list_contains(?, incident_id)",
            [[i.id for i in incidents]],
        )
    }
    outcomes = []
    with lab_control(store) as ctl:
        agent = lookup(AGENTS, options.agent_name, "agent")(ctl.view(), svc, options)
        for inc in incidents:
            if inc.id not in tickets:
                continue
            store.release()  # readers get in between incidents, as in `solve`
            # One unit of record: the agent's work and the twin state it produced commit together.
            with store.transaction():
                outcomes.append(agent.handle(inc, tickets[inc.id]))
                _save_twin(ctl, store)
    return outcomes


def resume_lab(store: Store, policy: Any = None) -> list[dict[str, Any]]:
    """`netops-agent resume` on the lab recorded in `store`: carry every decided approval
    on (approved: act and validate; denied or expired: escalate), as `resume --json`."""
    from netops_agent.safety.policy import load_policy
    from netops_agent.safety.resume import resume_decided

    with lab_control(store, save=False) as ctl:
        # Each approval's ticket transition, `executed` mark and the twin state its change
        # produced commit in one transaction (resume_decided calls `commit_with` inside it).
        results = resume_decided(
            store,
            ctl.view(),
            Services.open(store),
            policy or load_policy(),
            commit_with=lambda: (killpoint("resume"), _save_twin(ctl, store)),
        )
    return [{"approval": r.approval_id, "decision": r.state, **r.outcome.as_dict()} for r in results]


def _save_twin(ctl: ControlFace, store: Store) -> None:
    """Save the twin's state now (FRR routers keep their own state)."""
    lab = getattr(ctl, "lab", None)
    if lab is not None:
        from netops_agent.lab.sim import persist

        persist.save(lab, store)
