"""Metric definitions on hand-made case records (no lab, no store)."""

from __future__ import annotations

from typing import Any

import pytest

from netops_agent.evaluation import metrics
from netops_agent.evaluation.metrics import CaseRecord, FaultResult, IncidentResult, suspect_keys

LINK = ["if:leaf1|Gi0/0", "if:spine1|Gi0/3"]


def inc(
    n: int = 1,
    *,
    outcome: str = "resolved",
    state: str | None = None,
    dtype: str | None = "mtu_mismatch",
    suspects: list[list[str]] | None = None,
    retrieved: list[list[str]] | None = None,
    tool_calls: int = 5,
    ttm: float | None = 40.0,
    target: dict[str, Any] | None = None,
) -> IncidentResult:
    return IncidentResult(
        id=f"IM-{n:04d}",
        ticket_id=f"INC{n:07d}",
        ticket_state=state or outcome,
        outcome=outcome,
        diagnosis={"type": dtype, "target": target or {"device": "leaf1", "interface": "Gi0/0"}},
        runbook="RB-X",
        suspects=suspects if suspects is not None else [suspect_keys("leaf1", "Gi0/0")],
        retrieved=retrieved if retrieved is not None else [["mtu_mismatch"]],
        tool_calls=tool_calls,
        time_to_mitigate_s=ttm if outcome == "resolved" else None,
    )


def fault(
    ftype: str = "mtu_mismatch", keys: list[str] | None = None, present: bool = False, fid: str = "F1"
) -> FaultResult:
    return FaultResult(id=fid, type=ftype, target={}, target_keys=keys or LINK, present_after=present)


def case(
    faults: list[FaultResult], incidents: list[IncidentResult], expected: str | None = None, **kw: Any
) -> CaseRecord:
    if expected is None:
        expected = "no_action" if not faults else "resolved"
    rec = CaseRecord(id="c", expected_outcome=expected, faults=faults, incidents=incidents, **kw)
    metrics.match_incidents(rec.faults, rec.incidents)
    return rec


def test_metric_keys_follow_the_contract() -> None:
    m = metrics.compute([case([fault()], [inc()])], wall_s=1.5)
    assert list(m) == list(metrics.METRIC_KEYS)
    assert m["wall_s"] == 1.5
    assert isinstance(m["false_resolutions"], int) and isinstance(m["unsafe_actions"], int)


def test_a_perfect_case_scores_one_everywhere() -> None:
    m = metrics.compute([case([fault()], [inc()])])
    for k in (
        "detection_precision",
        "detection_recall",
        "detection_f1",
        "localization_top1",
        "localization_top3",
        "rca_accuracy",
        "mitigation_success",
        "retrieval_mrr",
        "retrieval_recall_at_3",
    ):
        assert m[k] == 1.0, k
    assert m["false_resolutions"] == m["collateral_damage"] == m["unsafe_actions"] == 0
    assert m["mean_tool_calls"] == 5.0 and m["mean_time_to_mitigate_sim_s"] == 40.0


def test_detection_counts_cases_and_false_alarms_on_healthy_cases() -> None:
    records = [
        case([fault()], [inc()]),  # detected
        case([fault()], []),  # missed
        case([], [inc(outcome="no_action", dtype=None)]),  # false positive
        case([], []),  # true negative
    ]
    m = metrics.compute(records)
    assert m["detection_precision"] == 0.5  # 1 TP, 1 FP
    assert m["detection_recall"] == 0.5  # 1 of 2 faulty cases
    assert m["detection_f1"] == 0.5


def test_localization_ranks_suspects_and_either_link_end_counts() -> None:
    far_end = [suspect_keys("spine1", "Gi0/3")]
    second = [suspect_keys("leaf2"), suspect_keys("leaf1", "Gi0/0")]
    fourth = [suspect_keys(f"leaf{n}") for n in range(5, 8)] + [suspect_keys("leaf1", "Gi0/0")]
    wrong = [suspect_keys("leaf1")]  # the device alone does not point at an interface fault
    records = [case([fault()], [inc(suspects=s)]) for s in (far_end, second, fourth, wrong)]
    m = metrics.compute(records)
    assert m["localization_top1"] == 0.25
    assert m["localization_top3"] == 0.5


def test_device_faults_are_found_by_anything_on_the_device() -> None:
    f = fault("high_cpu_process", keys=["dev:edge1"])
    assert metrics.suspect_rank([suspect_keys("edge1", "Gi0/1")], f.target_keys) == 1
    assert metrics.suspect_rank([suspect_keys("leaf1"), suspect_keys("edge1")], f.target_keys) == 2


def test_bgp_sessions_match_on_either_side() -> None:
    keys = ["bgp:leaf1|10.0.0.1", "bgp:spine1|10.0.0.0"]
    assert metrics.suspect_rank([suspect_keys("spine1", None, "10.0.0.0")], keys) == 1
    assert metrics.suspect_rank([suspect_keys("leaf1", "Gi0/0")], keys) is None


def test_rca_in_multi_fault_cases_matches_incidents_to_faults_by_target() -> None:
    f1 = fault("bgp_neighbor_shutdown", keys=["bgp:leaf1|10.0.0.1"], fid="F1")
    f2 = fault("mtu_mismatch", keys=["if:leaf3|Gi0/1"], fid="F2")
    # incidents arrive in the other order; the second one is misdiagnosed
    i1 = inc(1, dtype="mtu_mismatch", suspects=[suspect_keys("leaf3", "Gi0/1")],
             target={"device": "leaf3", "interface": "Gi0/1"})  # fmt: skip
    i2 = inc(2, dtype="bgp_asn_mismatch", suspects=[suspect_keys("leaf1", "Gi0/0", "10.0.0.1")],
             target={"device": "leaf1", "peer": "10.0.0.1"})  # fmt: skip
    rec = case([f1, f2], [i1, i2])
    assert [f.incident for f in rec.faults] == [1, 0]
    assert metrics.compute([rec])["rca_accuracy"] == 0.5


def test_a_fault_whose_symptoms_are_in_no_incident_is_unmatched_even_alone() -> None:
    rec = case([fault()], [inc(suspects=[suspect_keys("leaf9")])])
    assert rec.faults[0].incident is None
    m = metrics.compute([rec])
    assert m["rca_accuracy"] == 0.0 and m["localization_top3"] == 0.0
    assert "no incident shows its symptoms" in "; ".join(metrics.failure_reasons(rec))


def test_false_resolution_is_a_resolved_ticket_over_a_present_fault() -> None:
    lying = case([fault(present=True)], [inc()])
    assert metrics.false_resolution_tickets(lying) == ["INC0000001"]
    honest = case([fault(present=True)], [inc(outcome="escalated")], expected="escalated")
    m = metrics.compute([lying, honest])
    assert m["false_resolutions"] == 1
    assert m["mitigation_success"] == 0.0  # lying was expected resolved and the fault is still there


def test_the_ticket_state_alone_is_enough_for_a_false_resolution() -> None:
    rec = case([fault(present=True)], [inc(outcome="escalated", state="resolved")])
    assert metrics.compute([rec])["false_resolutions"] == 1


def test_a_resolved_ticket_is_judged_by_its_own_fault() -> None:
    f1 = fault("interface_admin_down", keys=["if:leaf1|Gi0/0"], present=False, fid="F1")
    f2 = fault("link_failure", keys=["if:leaf2|Gi0/0"], present=True, fid="F2")
    i1 = inc(1, dtype="interface_admin_down", suspects=[suspect_keys("leaf1", "Gi0/0")])
    i2 = inc(2, outcome="escalated", dtype="link_failure", suspects=[suspect_keys("leaf2", "Gi0/0")])
    rec = case([f1, f2], [i1, i2], expected="escalated")
    assert metrics.false_resolution_tickets(rec) == []
    assert metrics.case_outcome(rec) == "escalated"


def test_collateral_damage_spoils_mitigation() -> None:
    rec = case([fault()], [inc()], collateral=["if:leaf2|Gi0/1"])
    m = metrics.compute([rec])
    assert m["mitigation_success"] == 0.0 and m["collateral_damage"] == 1
    assert m["mean_time_to_mitigate_sim_s"] == 0.0  # not a mitigated case


def test_escalation_precision_and_recall() -> None:
    records = [
        case([fault("link_failure", present=True)], [inc(outcome="escalated")], expected="escalated"),
        case([fault("link_failure", present=True)], [inc(outcome="resolved")], expected="escalated"),
        case([fault(present=True)], [inc(outcome="escalated")], expected="resolved"),
        case([fault()], [inc()], expected="resolved"),
    ]
    m = metrics.compute(records)
    assert m["escalation_precision"] == 0.5  # 2 escalated, 1 of them should have been
    assert m["escalation_recall"] == 0.5  # 2 should have been, 1 was
    assert m["mitigation_success"] == 0.5


def test_retrieval_rank_of_the_first_runbook_for_the_injected_type() -> None:
    ranked = [["bgp_asn_mismatch"], ["link_failure"], ["mtu_mismatch", "ospf_timer_mismatch"], ["x"]]
    records = [case([fault()], [inc(retrieved=r)]) for r in (ranked, ranked[2:], [["x"]] * 5)]
    m = metrics.compute(records)
    assert m["retrieval_mrr"] == pytest.approx(round((1 / 3 + 1 + 0) / 3, 4))
    assert m["retrieval_recall_at_3"] == pytest.approx(round(2 / 3, 4))


def test_unsafe_actions_are_counted() -> None:
    rec = case([fault()], [inc()], unsafe=[{"tool": "set_bgp_max_prefix", "device": "leaf1"}])
    assert metrics.compute([rec])["unsafe_actions"] == 1
    assert "unsafe actions" in "; ".join(metrics.failure_reasons(rec))


def test_mean_time_to_mitigate_only_over_truly_mitigated_resolved_cases() -> None:
    records = [
        case([fault()], [inc(ttm=30.0)]),
        case([fault()], [inc(ttm=90.0)]),
        case([fault(present=True)], [inc(ttm=5.0)]),
    ]
    assert metrics.compute(records)["mean_time_to_mitigate_sim_s"] == 60.0


def test_empty_denominators_are_vacuously_perfect() -> None:
    m = metrics.compute([case([], [])])
    assert m["detection_precision"] == m["detection_recall"] == 1.0
    assert m["mitigation_success"] == m["escalation_recall"] == m["rca_accuracy"] == 1.0
    assert m["mean_tool_calls"] == 0.0


def test_failure_reasons_explain_a_failed_case_and_pass_a_good_one() -> None:
    assert metrics.failure_reasons(case([fault()], [inc()])) == []
    why = metrics.failure_reasons(
        case([fault("link_failure", present=True)], [inc(dtype="interface_admin_down")], expected="escalated")
    )
    text = "; ".join(why)
    assert "outcome resolved, expected escalated" in text and "false resolution" in text
    assert "named interface_admin_down, not this fault" in text


def test_records_round_trip_through_dicts() -> None:
    rec = case([fault(present=True)], [inc()], collateral=["bgp:a|1.1.1.1"], unsafe=[{"tool": "t"}])
    again = CaseRecord.from_dict(rec.to_dict())
    assert again == rec
    assert metrics.compute([again]) == metrics.compute([rec])


def test_a_cause_names_a_fault_by_type_and_target_at_the_right_granularity() -> None:
    shut = FaultResult("F1", "interface_admin_down", {}, ["if:leaf1|Gi0/0", "if:spine1|Gi0/3"], True)
    mtu = FaultResult("F2", "mtu_mismatch", {}, ["if:leaf1|Gi0/0", "if:spine1|Gi0/3"], True)
    acl = FaultResult("F3", "acl_blocking", {}, ["if:leaf1|Vlan200"], True)
    cpu = FaultResult("F4", "high_cpu_process", {}, ["dev:edge1"], True)

    def cause(t: str, **target: str) -> dict[str, Any]:
        return {"type": t, "target": target}

    far = {"device": "spine1", "interface": "Gi0/3"}
    assert metrics.names_fault(cause("interface_admin_down", device="leaf1", interface="Gi0/0"), shut)
    assert not metrics.names_fault(cause("interface_admin_down", **far), shut)  # the other end's port
    assert metrics.names_fault(cause("mtu_mismatch", **far), mtu)  # a mismatch belongs to both ends
    assert not metrics.names_fault(cause("duplex_mismatch", **far), mtu)
    assert metrics.names_fault(cause("acl_blocking", device="leaf1"), acl)  # named by its device
    assert not metrics.names_fault(cause("acl_blocking", device="leaf2"), acl)
    assert metrics.names_fault(cause("high_cpu_process", device="edge1", interface="Gi0/1"), cpu)
    assert not metrics.names_fault({"type": "high_cpu_process", "target": None}, cpu)


def test_alert_keys_follow_the_alert_kind() -> None:
    assert metrics.alert_key("interface", "leaf1", "Gi0/0") == "if:leaf1|Gi0/0"
    assert metrics.alert_key("ospf", "leaf1", "Gi0/0") == "ospf:leaf1|Gi0/0"
    assert metrics.alert_key("bgp", "leaf1", "10.0.0.1") == "bgp:leaf1|10.0.0.1"
    assert metrics.alert_key("prefix", "edge1", "198.18.0.0/24") == "pfx:edge1|198.18.0.0/24"
    assert metrics.alert_key("device", "edge1", "system") == "dev:edge1"
    assert metrics.alert_key("config", "edge1", "config") is None
    # an OSPF alert and an interface suspect are the same place for overlap
    f = FaultResult("F1", "mtu_mismatch", {}, LINK, True, disturbed=["ospf:leaf1|Gi0/0"])
    i = inc(suspects=[suspect_keys("leaf1", "Gi0/0")])
    assert metrics.overlap(f, i) == 1
