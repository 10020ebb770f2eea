"""Boundary test (a): the agent's behaviour cannot depend on the ground truth.

A whole suite runs twice through the harness: once honestly, once with the ground
truth replaced by wrong faults after the injection and before the intake (in the
TruthStore the pipeline scores against, and in the twin's own list of injected
faults). Everything the agent did (incidents, tool calls, actions, evidence, ticket
outcomes and their timelines) must be identical; only the scores may differ.
"""

from __future__ import annotations

from typing import Any

import pytest

from netops_agent.evaluation.harness import EvalRun, evaluate
from netops_agent.evaluation.scenario import load_suite
from netops_agent.models import InjectedFault
from netops_agent.pipeline.backends import SimBackend
from netops_agent.store.truth import TruthStore


def behaviour(run: EvalRun) -> list[dict[str, Any]]:
    """What the agent did and said per case, without anything scored against ground truth."""
    out = []
    for rec in run.records:
        out.append(
            {
                "case": rec.id,
                "incidents": [
                    {
                        "suspects": inc.suspects,
                        "outcome": inc.outcome,
                        "ticket_state": inc.ticket_state,
                        "diagnosis": inc.diagnosis,
                        "runbook": inc.runbook,
                        "tool_calls": inc.tool_calls,
                        "reason": inc.reason,
                        "validated": inc.validated,
                        "trace": inc.trace,  # title, severity, evidence, plan, actions, timeline
                    }
                    for inc in rec.incidents
                ],
            }
        )
    return out


def _lie(fault: InjectedFault, n: int) -> InjectedFault:
    """A wrong fault of another type somewhere else (a device that is not faulty)."""
    return InjectedFault(id=f"L{n}", type="device_unreachable", target={"device": "site1-edge2"})


@pytest.fixture(scope="module")
def runs() -> tuple[EvalRun, EvalRun]:
    suite = load_suite("smoke")
    honest = evaluate(suite)
    with pytest.MonkeyPatch.context() as mp:
        real_record, real_settle = TruthStore.record, SimBackend.settle

        def record(self: TruthStore, scope: str, faults: list[InjectedFault], at: Any = None) -> None:
            real_record(self, scope, [_lie(f, n) for n, f in enumerate(faults)], at)

        def settle(self: SimBackend, ctl: Any, case: Any, faults: list[InjectedFault]) -> None:
            ctl.lab.ground_truth[:] = [_lie(f, n) for n, f in enumerate(faults)]  # the twin's own list
            real_settle(self, ctl, case, faults)

        mp.setattr(TruthStore, "record", record)
        mp.setattr(SimBackend, "settle", settle)
        lied = evaluate(suite)
    return honest, lied


def test_the_lie_reached_the_scores(runs: tuple[EvalRun, EvalRun]) -> None:
    honest, lied = runs
    assert [f.type for r in lied.records for f in r.faults] == ["device_unreachable"] * 4
    assert honest.metrics["rca_accuracy"] == 1.0 and lied.metrics["rca_accuracy"] == 0.0
    assert honest.metrics != lied.metrics


def test_the_agent_did_exactly_the_same(runs: tuple[EvalRun, EvalRun]) -> None:
    honest, lied = runs
    assert behaviour(honest) == behaviour(lied)
    assert sum(len(b["incidents"]) for b in behaviour(honest)) == 4  # the suite did something
