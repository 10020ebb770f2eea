"""Every catalog fault, injected into the small twin: the agent reaches the catalog outcome
with the right diagnosis and target, and 'resolved' is true in the twin's ground truth."""

from __future__ import annotations

import pytest

from netops_agent.catalog import CATALOG
from tests.helpers import one_case, present, same_target


@pytest.mark.parametrize("slug", sorted(CATALOG))
@pytest.mark.parametrize("seed", [1, 2])
def test_agent_reaches_catalog_outcome(slug: str, seed: int) -> None:
    result, store = one_case({"type": slug}, seed=seed)
    fault = result.faults[0]
    [out] = result.outcomes
    assert out.diagnosis["type"] == slug, out.evidence
    target = dict(fault.target)
    if slug in ("bgp_neighbor_shutdown", "bgp_asn_mismatch", "bgp_max_prefix"):
        target.pop("interface", None)
    assert same_target(out.diagnosis["target"], target), (out.diagnosis, fault.target)
    assert out.outcome == CATALOG[slug].outcome, out.reason
    still = present(result)
    assert still is (out.outcome != "resolved"), "ticket outcome must match the twin's ground truth"
    ticket = store.query_one("SELECT * FROM tickets WHERE id = ?", [out.ticket_id])
    if out.approval_id:  # a human must approve the fix first (bgp_max_prefix)
        assert ticket["state"] == "awaiting_approval" and out.outcome == "escalated"
    else:
        assert ticket["state"] == out.outcome
    if out.outcome == "resolved":
        assert out.validated and out.validation and all(c["holds"] for c in out.validation)
    elif not out.approval_id:
        assert ticket["escalation_reason"] == out.reason and out.reason


def test_high_criticality_site_is_escalated_with_the_plan_and_nothing_changes() -> None:
    result, store = one_case({"type": "bgp_neighbor_shutdown"}, criticality={"site1": "high"})
    [out] = result.outcomes
    assert out.diagnosis["type"] == "bgp_neighbor_shutdown"
    assert out.outcome == "escalated" and "severity high" in out.reason
    assert "bgp_neighbor_no_shutdown" in out.reason
    assert result.incidents[0].severity.value == "high"
    assert present(result)
    assert store.scalar("SELECT count(*) FROM changes") == 0
    assert result.hash_after_agent == result.hash_before_agent


def test_multiple_faults_in_one_network_are_each_handled() -> None:
    result, _ = one_case(
        {"type": "interface_admin_down"}, {"type": "high_cpu_process"}, {"type": "route_missing"}, seed=3
    )
    assert [o.diagnosis["type"] for o in result.outcomes] == [
        "interface_admin_down",
        "high_cpu_process",
        "route_missing",
    ]
    assert all(o.outcome == "resolved" for o in result.outcomes)
    assert result.truth is not None and not any(result.truth.present_after)
