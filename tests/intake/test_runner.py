"""The telemetry intake as the pipeline's default: metrics, relinked alerts, severity from criticality."""

from __future__ import annotations

from typing import Any

import pytest

from netops_agent.evaluation.scenario import Case, Fault, Noise, Suite, Topology
from netops_agent.pipeline import RunOptions, RunReport, run_suite
from netops_agent.store import Store


@pytest.fixture(scope="module")
def report() -> tuple[RunReport, Store]:
    suite = Suite(
        name="intake-test",
        topology=Topology(profile="small", seed=42),
        cases=[
            Case(id="cut", seed=1, faults=[Fault(type="link_failure")]),
            Case(id="quiet", seed=2, noise=Noise(transient_spikes=8, counter_jitter=0.05)),
            Case(
                id="pair",
                seed=3,
                criticality={"site1-leaf2": "high"},  # the BGP fault's device: a tier-1 service
                faults=[
                    Fault(type="bgp_neighbor_shutdown", target={"device": "site1-leaf2", "peer": "10.0.0.7"}),
                    Fault(type="high_cpu_process"),
                ],
            ),
        ],
    )
    store = Store(":memory:")
    return run_suite(store, suite, RunOptions()), store


def test_telemetry_is_the_default_intake() -> None:
    assert RunOptions().intake == "telemetry"


def test_incidents_carry_alert_counts_and_ranked_suspects(report: tuple[RunReport, Store]) -> None:
    data: dict[str, Any] = report[0].as_dict()
    incs = data["incidents"]
    assert [i["id"] for i in incs] == ["IM-0001", "IM-0002", "IM-0003"]
    for inc in incs:
        assert inc["alerts"] >= 1 and inc["suspects"]
        assert {"kind", "device"} <= set(inc["suspects"][0])
    assert [c["incidents"] for c in data["cases"]] == [1, 0, 2]


def test_intake_metrics_block(report: tuple[RunReport, Store]) -> None:
    m = report[0].as_dict()["intake"]
    assert m["incidents"] == 3 and m["healthy_cases"] == 1
    assert m["false_incidents_healthy"] == 0 and m["unexplained_incidents"] == 0
    assert m["grouping_purity"] == 1.0 and m["faults_split"] == 0 and m["faults_with_alerts"] == 3
    assert m["alert_to_incident_compression"] > 3
    assert m["alerts_in_incidents"] <= m["alerts"]


def test_alerts_follow_the_runner_numbering(report: tuple[RunReport, Store]) -> None:
    store = report[1]
    linked = store.query(
        "SELECT DISTINCT scope, incident_id FROM alerts WHERE incident_id IS NOT NULL ORDER BY incident_id"
    )
    assert linked == [
        {"scope": "cut", "incident_id": "IM-0001"},
        {"scope": "pair", "incident_id": "IM-0002"},
        {"scope": "pair", "incident_id": "IM-0003"},
    ]
    ids = {r["id"] for r in store.query("SELECT id FROM incidents")}
    assert {r["incident_id"] for r in linked} <= ids


def test_inventory_criticality_raises_the_matching_incident(report: tuple[RunReport, Store]) -> None:
    pair = report[0].cases[2]
    by_kind = {i.suspects[0].kind: i for i in pair.incidents}
    assert by_kind["bgp_session"].severity.value == "high"
    assert by_kind["device"].severity.value == "medium"
    outcomes = {o.incident.suspects[0].kind: o for o in pair.outcomes}
    assert outcomes["bgp_session"].escalated and "severity high" in outcomes["bgp_session"].reason
    assert outcomes["device"].outcome == "resolved"


def test_each_case_sees_only_its_own_twin(report: tuple[RunReport, Store]) -> None:
    rep, store = report
    assert rep.cases[1].incidents == []  # the first case's cut cable did not leak in
    assert store.scalar("SELECT count(DISTINCT scope) FROM alerts") >= 2
