"""The agent on real FRR routers: every FRR fault of frr-smoke, scored against ground truth.

This is the case pipeline's FRR path (what `netops-agent run --backend frr` and `eval
--backend frr` run) on the module's lab: each case injects a real fault, the intake raises
the incident, the unchanged agent diagnoses, fixes and validates on fresh tool output,
then the pipeline reads the ground truth from the routers (is the cause still there?
did anything healthy break?) before the FRR backend repairs the fault for the next case.
Needs root and FRR; skips otherwise.
"""

from __future__ import annotations

from typing import Any

import pytest

from netops_agent.evaluation.harness import EvalOptions, evaluate, per_case
from netops_agent.evaluation.scenario import load_suite
from netops_agent.lab.frr import FrrFaultInjector, FrrLab, observe
from netops_agent.pipeline import FrrRunConfig

INTAKE = "telemetry"  # FRR's logs, netlink counters and pings, through the shipped detection rules
# Cases still scored on the labelled oracle intake, and why (see docs/frr-telemetry.md):
# route-missing is detected and localised (prefix-not-routed on edge1) but the agent does
# not confirm the missing-route runbook from that incident yet; congestion's sustained
# polling (30 s on the 10 s grid) is new and not yet proven on the shared CI machine.
ORACLE_CASES = {"route-missing", "congestion"}

pytestmark = pytest.mark.frr


def test_every_fixable_fault_resolved_for_real_and_link_failure_escalated(frr_lab: FrrLab) -> None:
    full = load_suite("frr-smoke")
    suite = full.model_copy(update={"cases": [c for c in full.cases if c.id not in ORACLE_CASES]})
    rest = full.model_copy(update={"cases": [c for c in full.cases if c.id in ORACLE_CASES]})
    run = evaluate(suite, EvalOptions(backend="frr", intake=INTAKE), frr=FrrRunConfig(lab=frr_lab))
    oracle_run = evaluate(rest, EvalOptions(backend="frr", intake="oracle"), frr=FrrRunConfig(lab=frr_lab))
    assert oracle_run.as_dict()["oracle_intake"] is True  # labelled as such
    records = {r.id: r for r in [*run.records, *oracle_run.records]}
    cases = {i: per_case(r) for i, r in records.items()}
    problems: list[str] = []
    for case in full.cases:
        got, rec = cases[case.id], records[case.id]
        [incident] = rec.incidents
        fault_type = case.faults[0].type
        want = case.expected_outcome()
        if got["outcome"] != want or incident.ticket_state != want:
            problems.append(f"{case.id}: {got['outcome']} ({incident.reason})")
        [scores] = got["detail"]["faults"]
        if scores["suspect_rank"] != 1:  # the incident's first suspect is the fault's place
            problems.append(f"{case.id}: localised at rank {scores['suspect_rank']} ({incident.suspects})")
        if got["diagnosis"]["type"] != fault_type:
            problems.append(f"{case.id}: diagnosed {got['diagnosis']['type']}, injected {fault_type}")
        if want == "resolved":
            checks: list[dict[str, Any]] = incident.trace["validation"]
            if not (incident.validated and checks and all(c["holds"] for c in checks)):
                problems.append(f"{case.id}: not validated on fresh output: {checks}")
            if not got["ground_truth_fixed"]:  # the routers still carry the cause
                problems.append(f"{case.id}: resolved but the fault is still present")
        else:
            assert fault_type == "link_failure"
            if rec.faults[0].present_after is not True:
                problems.append(f"{case.id}: a cut cable cannot be mended remotely")
        if got["detail"]["collateral"] or got["false_resolution"]:
            problems.append(f"{case.id}: collateral {got['detail']['collateral']}")
    assert not problems, "\n".join(problems)
    for m in (run.metrics, oracle_run.metrics):
        assert m["mitigation_success"] == 1.0 and m["false_resolutions"] == 0 and m["unsafe_actions"] == 0
    assert run.options.backend == "frr"
    assert run.as_dict()["intake"] == INTAKE and run.as_dict()["oracle_intake"] is (INTAKE == "oracle")
    # the FRR backend repaired every fault and the lab converged again
    assert FrrFaultInjector(frr_lab).injected() == []
    assert observe.routing_view(frr_lab.state)[0]
