"""Change safety: approvals pause and resume, denial changes nothing, path-cutting steps are
blocked or caught as collateral damage and rolled back, dry-run leaves the twin untouched."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import yaml

from netops_agent.errors import InputFileError
from netops_agent.knowledge.schema import default_path
from netops_agent.safety.approvals import ApprovalService
from netops_agent.safety.policy import Policy, load_policy
from netops_agent.safety.resume import resume_decided
from netops_agent.services import Services
from netops_agent.tools import TOOLS
from tests.helpers import one_case, one_case_with_lab, present


def _decide(store, approve: bool) -> None:  # type: ignore[no-untyped-def]
    [row] = ApprovalService(store).list("pending")
    ApprovalService(store).decide(
        row["id"], approve, "alice", "checked with the peer", datetime(2026, 1, 5, 9)
    )


def test_high_risk_step_waits_then_approval_resumes_and_validates() -> None:
    result, store, ctl = one_case_with_lab({"type": "bgp_max_prefix"})
    [out] = result.outcomes
    assert out.approval_id and out.outcome == "escalated"
    ticket = store.query_one("SELECT * FROM tickets WHERE id = ?", [out.ticket_id])
    assert ticket["state"] == "awaiting_approval"
    [approval] = ApprovalService(store).list("pending")
    assert "maximum-prefix 10000" in approval["diff"] and approval["risk"] == "high"
    assert store.scalar("SELECT count(*) FROM changes WHERE status = 'applied'") == 0
    _decide(store, approve=True)
    [res] = resume_decided(store, ctl.view(), Services.open(store), load_policy())
    assert res.outcome.outcome == "resolved" and res.outcome.validated
    assert not ctl.fault_present(result.faults[0])
    assert store.scalar("SELECT state FROM tickets WHERE id = ?", [out.ticket_id]) == "resolved"
    decisions = store.query("SELECT decision, reason FROM policy_decisions WHERE tool = 'set_bgp_max_prefix'")
    assert {"allow"} == {d["decision"] for d in decisions} and "approved by alice" in decisions[0]["reason"]


def test_denied_approval_escalates_and_changes_nothing() -> None:
    _, store, ctl = one_case_with_lab({"type": "bgp_max_prefix"})
    before = ctl.state_hash()
    _decide(store, approve=False)
    [res] = resume_decided(store, ctl.view(), Services.open(store), load_policy())
    assert res.outcome.outcome == "escalated" and "denied by alice" in res.outcome.reason
    assert ctl.state_hash() == before
    assert store.scalar("SELECT count(*) FROM changes WHERE status = 'applied'") == 0


def test_pending_approval_expires_and_escalates() -> None:
    _, store, ctl = one_case_with_lab({"type": "bgp_max_prefix"})
    ctl.advance(5 * 3600)
    [res] = resume_decided(store, ctl.view(), Services.open(store), load_policy())
    assert res.state == "expired" and res.outcome.outcome == "escalated"


def _uplink_runbooks(tmp_path: Path) -> Path:
    """A test runbook that 'fixes' high CPU by shutting an uplink: a healthy path is cut."""
    data = yaml.safe_load(default_path().read_text())
    rb = next(r for r in data["runbooks"] if r["id"] == "RB-HIGH-CPU")
    rb["remediation"] = [{"tool": "interface_shutdown", "params": {"interface": "GigabitEthernet0/0"}}]
    path = tmp_path / "rb.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_path_cutting_step_is_held_by_policy(tmp_path: Path) -> None:
    result, store = one_case({"type": "high_cpu_process"}, runbooks=_uplink_runbooks(tmp_path))
    [out] = result.outcomes
    assert out.approval_id is not None and "interface_shutdown" in out.reason
    assert store.scalar("SELECT count(*) FROM changes WHERE status = 'applied'") == 0


def test_forced_uplink_shutdown_is_caught_as_collateral_and_rolled_back(tmp_path: Path) -> None:
    """Forced through (a policy that allows everything; the device keeps another uplink, so the
    last-path check passes): the collateral check catches it, rolls back and proves it."""
    result, store = one_case(
        {"type": "high_cpu_process"},
        runbooks=_uplink_runbooks(tmp_path),
        policy=Policy(rules=[{"action": "auto"}]),
    )  # type: ignore[list-item]
    [out] = result.outcomes
    assert out.collateral, "shutting a healthy uplink breaks its sessions"
    assert out.rolled_back and out.rollback_verified is True
    assert out.outcome == "escalated" and "collateral damage" in out.reason
    assert (
        store.scalar("SELECT count(*) FROM changes WHERE tool = 'rollback_config' AND status = 'applied'")
        == 1
    )
    broken = {c["entity"] for c in out.collateral}
    assert any(e.startswith(("bgp:", "ospf:", "if:")) for e in broken)
    # the twin is back exactly as it was: the uplink is up again, the CPU fault still there
    assert result.hash_after_agent == result.hash_before_agent
    assert present(result)


def test_protect_last_path_denies_when_it_is_the_only_uplink(tmp_path: Path) -> None:
    from netops_agent.lab.sim.control import sim_view
    from netops_agent.lab.sim.lab import SimLab
    from netops_agent.safety.gate import cuts_last_path
    from netops_agent.tools import ToolExecutor

    lab = SimLab.build("small", 42)
    lab.configure("site1-leaf1", ["interface GigabitEthernet0/1", " shutdown"])
    view = sim_view(lab)
    reason = cuts_last_path(view, ToolExecutor(view), "site1-leaf1", "GigabitEthernet0/0")
    assert "last working uplink" in reason
    assert cuts_last_path(view, ToolExecutor(view), "site1-leaf2", "GigabitEthernet0/0") == ""


def test_dry_run_leaves_the_twin_identical() -> None:
    from netops_agent.agent import AgentConfig

    result, store = one_case(
        {"type": "interface_admin_down"}, {"type": "mtu_mismatch"}, agent=AgentConfig(dry_run=True)
    )
    assert result.hash_before_agent == result.hash_after_agent
    assert all(o.outcome == "no_action" for o in result.outcomes)
    lines = [a["lines"] for o in result.outcomes for a in o.actions]
    assert any(lines), "the dry run shows each change as config lines"
    assert {r["status"] for r in store.query("SELECT status FROM changes")} == {"dry_run"}


def test_policy_rules_windows_and_errors(tmp_path: Path) -> None:
    policy = load_policy()
    shut, noshut = TOOLS.get("interface_shutdown"), TOOLS.get("interface_no_shutdown")
    monday = datetime(2026, 1, 5, 10)
    assert policy.decide(noshut, "leaf", monday).action == "allow"
    assert policy.decide(shut, "leaf", monday).action == "approval"
    assert policy.decide(TOOLS.get("set_mtu"), "spine", monday).action == "approval"
    windowed = Policy.model_validate(
        {
            **policy.model_dump(),
            "maintenance": {
                "windows": [{"days": ["sat"], "start": "01:00", "end": "05:00"}],
                "tools": ["set_mtu"],
            },
        }
    )
    assert windowed.decide(TOOLS.get("set_mtu"), "leaf", monday).action == "deny"
    assert windowed.decide(TOOLS.get("set_mtu"), "leaf", datetime(2026, 1, 10, 2)).action == "allow"
    bad = tmp_path / "policy.yaml"
    bad.write_text("rules:\n  - {risk: extreme, action: auto}\n")
    with pytest.raises(InputFileError, match="policy.yaml"):
        load_policy(bad)
    bad.write_text("rules: []\nsurprise: 1\n")
    with pytest.raises(InputFileError, match="unknown key 'surprise'"):
        load_policy(bad)
