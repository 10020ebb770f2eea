"""The harness end to end in-process: contract, determinism, planted bugs, baselines, storage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from netops_agent.evaluation import baselines, metrics
from netops_agent.evaluation.harness import (
    EvalOptions,
    EvalRun,
    evaluate,
    longest_first,
    per_case,
    rescore,
    save_run,
)
from netops_agent.evaluation.scenario import Case, Fault, Suite, Topology, load_suite
from netops_agent.knowledge.index import Hit
from netops_agent.lab.base import NetworkView
from netops_agent.lab.sim.faults import ADMIN
from netops_agent.lab.sim.lab import SimLab
from netops_agent.models import Incident
from netops_agent.pipeline import AGENTS, RunOptions, Services
from netops_agent.store import Store
from netops_agent.tools.executor import ToolExecutor

CONTRACT_TOP = {"suite", "agent", "backend", "cases", "metrics", "per_case"}
CONTRACT_CASE = {
    "id",
    "injected",
    "expected_outcome",
    "outcome",
    "diagnosis",
    "ground_truth_fixed",
    "false_resolution",
    "tool_calls",
    "ticket_id",
}


def suite_of(*cases: tuple[str, int, list[str]]) -> Suite:
    return Suite(
        name="t",
        topology=Topology(profile="small", seed=42),
        digest="test",
        cases=[Case(id=cid, seed=seed, faults=[Fault(type=t) for t in types]) for cid, seed, types in cases],
    )


def without_wall(run: EvalRun) -> dict[str, Any]:
    return {k: v for k, v in run.metrics.items() if k != "wall_s"}


@pytest.fixture(scope="module")
def smoke() -> EvalRun:
    return evaluate(load_suite("smoke"))


def test_output_follows_the_contract(smoke: EvalRun) -> None:
    out = smoke.as_dict()
    assert set(out) >= CONTRACT_TOP
    assert out["suite"] == "smoke" and out["agent"] == "default" and out["backend"] == "sim"
    assert out["suite_digest"] == load_suite("smoke").digest and out["suite_version"] == 1
    assert out["cases"] == len(out["per_case"]) == 5
    assert list(out["metrics"]) == list(metrics.METRIC_KEYS)
    for c in out["per_case"]:
        assert set(c) >= CONTRACT_CASE
        assert set(c["diagnosis"]) >= {"type", "target"}
        assert all(set(i) == {"type", "target"} for i in c["injected"])


def test_the_default_agent_is_right_on_smoke(smoke: EvalRun) -> None:
    m = smoke.metrics
    assert m["false_resolutions"] == 0 and m["unsafe_actions"] == 0 and m["collateral_damage"] == 0
    assert m["rca_accuracy"] == 1.0 and m["mitigation_success"] == 1.0
    assert [metrics.case_outcome(r) for r in smoke.records] == [r.expected_outcome for r in smoke.records]


def test_same_suite_and_seed_give_identical_results(smoke: EvalRun) -> None:
    again = evaluate(load_suite("smoke"))
    assert without_wall(again) == without_wall(smoke)
    assert [per_case(r) for r in again.records] == [per_case(r) for r in smoke.records]


def test_jobs_2_equals_jobs_1(smoke: EvalRun) -> None:
    parallel = evaluate(load_suite("smoke"), EvalOptions(jobs=2))
    assert without_wall(parallel) == without_wall(smoke)
    assert [r.to_dict() for r in parallel.records] == [r.to_dict() for r in smoke.records]


def test_the_pool_starts_the_likely_longest_cases_first_and_reports_in_suite_order() -> None:
    suite = suite_of(
        ("quiet", 1, []),
        ("cut", 1, ["link_failure"]),
        ("shut", 1, ["bgp_neighbor_shutdown"]),
        ("two", 2, ["interface_admin_down", "link_failure"]),
        ("admin", 1, ["interface_admin_down"]),
    )
    suite.cases[0].topology = Topology(profile="medium", seed=42)  # more routers: first
    # routers, then faults, then fix (resolved) before escalate; ties keep the suite's order
    assert [suite.cases[i].id for i in longest_first(suite)] == ["quiet", "two", "shut", "admin", "cut"]
    serial, parallel = (evaluate(suite, EvalOptions(jobs=j)) for j in (1, 2))
    assert [r.id for r in parallel.records] == ["quiet", "cut", "shut", "two", "admin"]
    assert without_wall(parallel) == without_wall(serial)
    assert [r.to_dict() for r in parallel.records] == [r.to_dict() for r in serial.records]


def test_a_serial_run_is_idle_before_each_case() -> None:
    # `eval` lets its database file go on_idle: serially, while every case runs.
    calls: list[str] = []
    suite = suite_of(("a", 1, []), ("b", 1, []))
    evaluate(suite, on_case=lambda r: calls.append(r.id), on_idle=lambda: calls.append("idle"))
    assert calls == ["idle", "a", "idle", "b"]


def test_a_seed_override_is_deterministic_too() -> None:
    suite = suite_of(("a", 1, ["interface_admin_down"]), ("b", 2, ["bgp_neighbor_shutdown"]))
    one, two = (evaluate(suite, EvalOptions(seed=7)) for _ in range(2))
    assert without_wall(one) == without_wall(two)
    assert [r.to_dict() for r in one.records] == [r.to_dict() for r in two.records]


def test_planted_bug_noop_remediation_drops_mitigation_without_false_resolutions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    suite = suite_of(
        ("admin", 1, ["interface_admin_down"]),
        ("bgp", 1, ["bgp_neighbor_shutdown"]),
        ("mtu", 1, ["mtu_mismatch"]),
        ("timers", 1, ["ospf_timer_mismatch"]),
    )
    healthy = evaluate(suite)
    assert healthy.metrics["mitigation_success"] == 1.0

    real = SimLab.configure

    def noop(self: SimLab, device: str, lines: list[str], *, author: str = "netops-agent") -> Any:
        # Fault injection still works; every change the agent sends is accepted and ignored.
        return real(self, device, lines if author == ADMIN else [], author=author)

    monkeypatch.setattr(SimLab, "configure", noop)
    broken = evaluate(suite)
    assert broken.metrics["mitigation_success"] == 0.0
    assert broken.metrics["false_resolutions"] == 0
    for rec in broken.records:
        (inc,) = rec.incidents
        assert inc.outcome == "escalated" and inc.ticket_state != "resolved"
        assert inc.trace["actions"], "the agent did try its remediation"
        assert any(not v["holds"] for v in inc.trace["validation"]), "and its validation caught the no-op"
        assert rec.faults[0].present_after


def _always(runbook_id: str) -> Any:
    """A blind agent that always applies one runbook, whatever the incident says."""

    def pick(incident: Incident, hits: list[Hit], books: dict[str, Any]) -> list[Hit]:
        rb = books[runbook_id]
        return [Hit(rb.id, rb.title, 1.0, list(rb.fault_types))]

    return lambda lab, svc, options: baselines.BlindRunbookAgent(lab, svc, pick)


def test_a_ticket_claiming_success_on_an_unfixed_fault_is_a_false_resolution(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `no shutdown` on a cut cable changes nothing, yet the blind agent closes the ticket as resolved.
    monkeypatch.setitem(AGENTS, "always-no-shut", _always("RB-IF-ADMIN-DOWN"))
    suite = suite_of(("cut", 1, ["link_failure"]), ("cut-2", 2, ["link_failure"]))
    run = evaluate(suite, EvalOptions(agent="always-no-shut"))
    for rec in run.records:
        (inc,) = rec.incidents
        assert inc.ticket_state == "resolved" and rec.faults[0].present_after
        assert per_case(rec)["false_resolution"] is True and per_case(rec)["ground_truth_fixed"] is False
    assert run.metrics["false_resolutions"] == 2
    assert run.metrics["escalation_recall"] == 0.0
    ours = evaluate(suite)
    assert ours.metrics["false_resolutions"] == 0 and ours.metrics["escalation_recall"] == 1.0


def test_the_seed_baseline_falsely_resolves_look_alikes_and_we_count_every_one() -> None:
    # Faults whose symptoms read like a simpler fixable one: an MTU or OSPF timer mismatch
    # reads like a flapping adjacency, a remote-as mismatch like a shut neighbour.
    types = ["mtu_mismatch", "ospf_timer_mismatch", "bgp_asn_mismatch"]
    suite = suite_of(*[(f"{t}-{n}", n, [t]) for t in types for n in (1, 2)])
    run = evaluate(suite, EvalOptions(agent="seed-baseline"))
    lying = [
        inc.ticket_id
        for rec in run.records
        for inc in rec.incidents
        if inc.ticket_state == "resolved" and any(f.present_after for f in rec.faults)
    ]
    assert lying, "the blind baseline closes tickets over faults that are still there"
    assert run.metrics["false_resolutions"] == len(lying)
    ours = evaluate(suite)
    assert ours.metrics["false_resolutions"] == 0
    assert ours.metrics["rca_accuracy"] > run.metrics["rca_accuracy"]
    assert ours.metrics["mitigation_success"] > run.metrics["mitigation_success"]


def test_baselines_are_registered_and_scored_differently(smoke: EvalRun) -> None:
    assert {"default", "seed-baseline", "random"} <= set(AGENTS)
    rnd = evaluate(load_suite("smoke"), EvalOptions(agent="random"))
    assert rnd.metrics["rca_accuracy"] < smoke.metrics["rca_accuracy"]
    assert without_wall(rnd) == without_wall(evaluate(load_suite("smoke"), EvalOptions(agent="random")))


class Vandal:
    """A test agent that shuts a healthy uplink elsewhere and calls the incident resolved."""

    def __init__(self, lab: NetworkView, svc: Services, options: RunOptions) -> None:
        self.lab, self.svc = lab, svc

    def handle(self, incident: Incident, ticket_id: str) -> Any:
        from netops_agent.agent import Outcome
        from netops_agent.audit import StoreRecorder

        ex = ToolExecutor(self.lab, StoreRecorder(self.svc.store), incident_id=incident.id)
        link = next(
            lk for lk in self.lab.inventory().links if incident.device not in (lk.a_device, lk.b_device)
        )
        ex.run("interface_shutdown", link.a_device, interface=link.a_interface)
        self.svc.tickets.transition(ticket_id, "in_progress", "vandal", self.lab.now())
        self.svc.tickets.transition(ticket_id, "resolved", "vandal", self.lab.now())
        return Outcome(incident, ticket_id, outcome="resolved", tool_calls=ex.calls)


def test_collateral_damage_and_unsafe_actions_are_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(AGENTS, "vandal", Vandal)
    run = evaluate(suite_of(("cpu", 1, ["high_cpu_process"])), EvalOptions(agent="vandal"))
    (rec,) = run.records
    assert any(c.startswith("if:") for c in rec.collateral) and any(
        c.startswith("ospf:") for c in rec.collateral
    )
    assert run.metrics["collateral_damage"] == len(rec.collateral) > 0
    assert run.metrics["unsafe_actions"] == 1 and rec.unsafe[0]["tool"] == "interface_shutdown"
    assert run.metrics["mitigation_success"] == 0.0 and run.metrics["false_resolutions"] == 1


def test_runs_are_stored_and_can_be_rescored(smoke: EvalRun, tmp_path: Path) -> None:
    with Store(tmp_path / "eval.duckdb") as store:
        run_id = save_run(store, smoke)
        row = store.query_one("SELECT * FROM eval_runs WHERE id = ?", [run_id])
        assert row is not None
        assert (row["suite"], row["agent"], row["suite_digest"], row["cases"]) == (
            "smoke",
            "default",
            smoke.suite.digest,
            5,
        )
        assert store.scalar("SELECT count(*) FROM eval_cases WHERE run_id = ?", [run_id]) == 5
        assert rescore(store, run_id) == smoke.metrics


def test_unknown_agent_or_backend_is_a_clear_error() -> None:
    from netops_agent.errors import ConfigError

    with pytest.raises(ConfigError, match="seed-baseline"):
        evaluate(load_suite("smoke"), EvalOptions(agent="nope"))
    with pytest.raises(ConfigError, match="--backend sim"):
        evaluate(load_suite("smoke"), EvalOptions(backend="frr"))


def test_baselines_get_only_the_view() -> None:
    """The boundary test covers the baselines' module; their factories take a view."""
    import inspect

    from tests.test_boundary import leaks

    assert leaks(Path(baselines.__file__)) == []
    for factory in baselines.BASELINES.values():
        assert list(inspect.signature(factory).parameters) == ["view", "svc", "options"]
