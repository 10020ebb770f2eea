"""Issue 11: every cause of an incident, the right scope, changes the agent can always undo.

All cases use the telemetry intake (what monitoring really raises), explicit targets on
the small profile (seed 42: every leaf/edge Gi0/0 goes to spine1, Gi0/1 to spine2; leaf1
Gi0/0 lands on spine1 Gi0/3, leaf3 Gi0/0 on spine1 Gi0/2).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netops_agent.evidence import CheckResult, confirms
from netops_agent.models import ToolResult, ToolStatus
from netops_agent.safety.policy import load_policy
from netops_agent.tools.executor import ToolExecutor
from tests.helpers import one_case


def _ticket(store, out) -> dict:  # type: ignore[no-untyped-def]
    row = store.query("SELECT state, causes, changes_in_network FROM tickets WHERE id = ?", [out.ticket_id])[
        0
    ]
    return {k: json.loads(v) if k != "state" and isinstance(v, str) else v for k, v in row.items()}


def test_two_causes_on_one_device_are_both_found_and_the_fixable_one_fixed() -> None:
    dev = {"device": "site1-leaf3"}
    result, store = one_case(
        {"type": "high_cpu_process", "target": dev},
        {"type": "memory_leak", "target": dev},
        intake="telemetry",
    )
    outs = [o for o in result.outcomes if o.incident.device == "site1-leaf3"]
    types = {c["type"] for o in outs for c in o.causes}
    assert {"high_cpu_process", "memory_leak"} <= types
    assert result.truth is not None
    cpu_present, leak_present = result.truth.present_after
    assert not cpu_present, "the runaway process was restarted"
    assert leak_present
    assert all(o.outcome == "escalated" for o in outs if any(c["type"] == "memory_leak" for c in o.causes))
    t = _ticket(store, outs[0])
    assert {c["type"] for c in t["causes"]} == {c["type"] for c in outs[0].causes}


def test_both_ends_of_a_cable_shut_are_both_fixed_in_one_incident() -> None:
    result, store = one_case(
        {
            "type": "interface_admin_down",
            "target": {"device": "site1-leaf1", "interface": "GigabitEthernet0/0"},
        },
        {
            "type": "interface_admin_down",
            "target": {"device": "site1-spine1", "interface": "GigabitEthernet0/3"},
        },
        intake="telemetry",
    )
    assert result.truth is not None and not any(result.truth.present_after)
    [out] = [o for o in result.outcomes if o.causes]
    assert out.outcome == "resolved" and len(out.causes) == 2
    assert {c["target"]["device"] for c in out.causes} == {"site1-leaf1", "site1-spine1"}
    assert out.as_dict()["causes"] == out.causes and out.diagnosis["type"] == "interface_admin_down"
    assert _ticket(store, out)["state"] == "resolved"


def test_isolated_leaf_is_diagnosed_on_its_links_never_closed_as_no_fault() -> None:
    result, _ = one_case(
        {
            "type": "interface_admin_down",
            "target": {"device": "site1-leaf2", "interface": "GigabitEthernet0/0"},
        },
        {
            "type": "interface_admin_down",
            "target": {"device": "site1-leaf2", "interface": "GigabitEthernet0/1"},
        },
        intake="telemetry",
    )
    assert result.outcomes
    for out in result.outcomes:
        assert out.outcome != "no_action", out.reason
        assert out.diagnosis["type"] == "interface_admin_down"
        assert out.diagnosis["target"]["device"] == "site1-leaf2"
    # The same runbook holds on both uplinks: two causes, both named (the human gets both).
    named = {
        (c["target"]["device"], c["target"]["interface"])
        for out in result.outcomes
        for c in out.causes
        if c["type"] == "interface_admin_down"
    }
    assert named == {("site1-leaf2", "GigabitEthernet0/0"), ("site1-leaf2", "GigabitEthernet0/1")}


def test_a_link_runbook_that_reads_only_its_own_end_fits_where_the_far_end_is_unknown() -> None:
    from netops_agent.diagnosis import fits, inputs, place
    from netops_agent.knowledge.schema import load_runbooks

    rbs = {rb.id: rb for rb in load_runbooks()}
    near = {"device": "r1", "interface": "GigabitEthernet0/0"}  # gear listed without cables
    both = {**near, "peer_device": "r2", "peer_interface": "GigabitEthernet0/1"}
    admin, optic = rbs["RB-IF-ADMIN-DOWN"], rbs["RB-OPTIC-DEGRADED"]
    assert inputs(admin) == {"device", "interface"} and fits(admin, near)
    assert "peer_device" in inputs(optic) and not fits(optic, near) and fits(optic, both)
    assert not fits(admin, {"device": "r1"})  # a link runbook always needs an interface
    duplex = rbs["RB-DUPLEX-MISMATCH"]
    assert "peer_duplex" not in inputs(duplex)  # captured by its own evidence, not an input
    far = {
        "device": "r2",
        "interface": "GigabitEthernet0/1",
        "peer_device": "r1",
        "peer_interface": "GigabitEthernet0/0",
    }
    assert place(duplex, both) == place(duplex, far)  # one mismatch, seen from either end
    assert place(admin, both) != place(admin, far)  # each end shut is a cause of its own


def test_congestion_is_confirmed_by_sustained_utilisation_drops_only_support() -> None:
    assert confirms([CheckResult("util >= 95 x3", True), CheckResult("drops rising", False, support=True)])
    assert not confirms([CheckResult("drops rising", True, support=True)])
    result, _ = one_case(
        {"type": "link_congestion", "target": {"device": "site1-spine1", "interface": "GigabitEthernet0/2"}},
        intake="telemetry",
    )
    [out] = result.outcomes
    assert out.diagnosis["type"] == "link_congestion"
    assert out.diagnosis["target"]["device"] == "site1-spine1"
    assert any(e.get("support") for e in out.evidence)


def _policy(tmp_path: Path, rules: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(f"version: 1\nrules:\n{rules}\nseverity: {{auto_max: high}}\n")
    return path


def test_the_agents_own_rollback_is_reserved_even_when_policy_forbids_rollbacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from netops_agent.tools.registry import TOOLS

    tool = TOOLS.get("bgp_neighbor_no_shutdown")  # a fix that changes config but not the cause
    monkeypatch.setitem(tool.build, "cisco_ios", lambda p: {"bgp": "bgp log-neighbor-changes"})
    policy = load_policy(
        _policy(
            tmp_path,
            "  - {tool: [rollback_config], action: deny}\n  - {risk: [read, low, medium], action: auto}",
        )
    )
    result, store = one_case({"type": "bgp_neighbor_shutdown"}, intake="telemetry", policy=policy)
    [out] = result.outcomes
    assert out.outcome == "escalated" and out.rolled_back, out.reason
    assert not out.changes_in_network
    reasons = [
        r["reason"] for r in store.query("SELECT reason FROM policy_decisions WHERE tool = 'rollback_config'")
    ]
    assert reasons and all("reserved" in r for r in reasons)


def test_a_refused_rollback_names_the_change_still_in_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    from netops_agent.tools.registry import TOOLS

    tool = TOOLS.get("bgp_neighbor_no_shutdown")
    monkeypatch.setitem(tool.build, "cisco_ios", lambda p: {"bgp": "bgp log-neighbor-changes"})
    real_run = ToolExecutor.run

    def run(self, name, device, **params):  # type: ignore[no-untyped-def]
        if name == "rollback_config":
            return ToolResult(
                tool=name,
                device=device,
                command="rollback",
                status=ToolStatus.unreachable,
                error="session lost",
            )
        return real_run(self, name, device, **params)

    monkeypatch.setattr(ToolExecutor, "run", run)
    result, store = one_case({"type": "bgp_neighbor_shutdown"}, intake="telemetry")
    [out] = result.outcomes
    assert out.outcome == "escalated" and out.changes_in_network
    assert "STILL IN THE NETWORK" in out.reason and out.changes_in_network[0]["device"] in out.reason
    ticket = _ticket(store, out)
    assert ticket["state"] == "escalated" and ticket["changes_in_network"] == out.changes_in_network
