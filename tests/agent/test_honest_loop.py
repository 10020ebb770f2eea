"""The loop is honest: a fix that does not change the cause fails validation, is rolled
back and escalated; wrong fixes for look-alike faults leave the fault in place."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from netops_agent.knowledge.schema import default_path
from netops_agent.safety.policy import Policy
from netops_agent.tools.registry import TOOLS
from tests.helpers import one_case, present


def test_noop_remediation_fails_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace `no neighbor X shutdown` with a harmless line: the session stays down."""
    tool = TOOLS.get("bgp_neighbor_no_shutdown")
    monkeypatch.setitem(tool.build, "cisco_ios", lambda p: {"bgp": "bgp log-neighbor-changes"})
    result, store = one_case({"type": "bgp_neighbor_shutdown"})
    [out] = result.outcomes
    assert out.diagnosis["type"] == "bgp_neighbor_shutdown"
    assert out.outcome == "escalated" and not out.validated
    assert "validation failed" in out.reason
    assert present(result)
    assert store.scalar("SELECT state FROM tickets WHERE id = ?", [out.ticket_id]) == "escalated"


def _runbooks_with(tmp_path: Path, rb_id: str, remediation: list[dict], drop_escalate: bool = True) -> Path:
    """A copy of the shipped runbooks where one runbook applies a different fix."""
    data = yaml.safe_load(default_path().read_text())
    for rb in data["runbooks"]:
        if rb["id"] == rb_id:
            rb["remediation"] = remediation
            if drop_escalate:
                rb.pop("escalate", None)
            rb.setdefault("validation", rb["evidence"][:1])
    path = tmp_path / "runbooks.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


OPTIC_VALIDATION = [
    {
        "tool": "show_interfaces",
        "params": {"interface": "{interface}"},
        "where": {"interface": "{interface}"},
        "field": "crc",
        "op": "steady",
        "interval_s": 10,
    }
]


@pytest.mark.parametrize(
    ("fault", "rb_id", "wrong_fix", "validation"),
    [
        # bouncing an interface with a degraded optic: errors return
        (
            "optic_degradation",
            "RB-OPTIC-DEGRADED",
            [{"tool": "bounce_interface", "params": {"interface": "{interface}"}}],
            OPTIC_VALIDATION,
        ),
        # "no shutdown" on a cut cable: still down
        (
            "link_failure",
            "RB-LINK-FAILURE",
            [{"tool": "interface_no_shutdown", "params": {"interface": "{interface}"}}],
            [
                {
                    "tool": "show_interfaces",
                    "params": {"interface": "{interface}"},
                    "where": {"interface": "{interface}"},
                    "field": "protocol_status",
                    "op": "eq",
                    "value": "up",
                }
            ],
        ),
        # bouncing an err-disabled look-alike that is really a device down: nothing answers
        (
            "device_unreachable",
            "RB-DEVICE-UNREACHABLE",
            [
                {
                    "tool": "bounce_interface",
                    "device": "{nbr_device}",
                    "params": {"interface": "{nbr_interface}"},
                }
            ],
            [
                {
                    "tool": "show_interfaces",
                    "device": "{nbr_device}",
                    "params": {"interface": "{nbr_interface}"},
                    "where": {"interface": "{nbr_interface}"},
                    "field": "protocol_status",
                    "op": "eq",
                    "value": "up",
                }
            ],
        ),
        # bouncing a congested uplink: the surge is still there when it comes back
        (
            "link_congestion",
            "RB-LINK-CONGESTION",
            [{"tool": "bounce_interface", "params": {"interface": "{interface}"}}],
            None,
        ),
        # resetting a session whose remote-as is wrong: it still will not establish
        (
            "bgp_asn_mismatch",
            "RB-BGP-ASN-MISMATCH",
            [{"tool": "clear_bgp_session", "params": {"peer": "{peer}"}}],
            None,
        ),
        # steering traffic away from a dying optic: the errors continue on what remains
        (
            "optic_degradation",
            "RB-OPTIC-DEGRADED",
            [{"tool": "set_ospf_cost", "params": {"interface": "{interface}", "cost": 100}}],
            OPTIC_VALIDATION,
        ),
        # raising the OSPF cost does nothing for a duplex mismatch
        (
            "duplex_mismatch",
            "RB-DUPLEX-MISMATCH",
            [{"tool": "set_ospf_cost", "params": {"interface": "{interface}", "cost": 100}}],
            None,
        ),
    ],
)
def test_wrong_fix_for_look_alike_does_not_validate(
    tmp_path: Path, fault: str, rb_id: str, wrong_fix: list[dict], validation: list[dict] | None
) -> None:
    path = _runbooks_with(tmp_path, rb_id, wrong_fix)
    if validation is not None:
        data = yaml.safe_load(path.read_text())
        next(rb for rb in data["runbooks"] if rb["id"] == rb_id)["validation"] = validation
        path.write_text(yaml.safe_dump(data))
    # policy out of the way (everything automatic): this test is about validation honesty
    everything = Policy(rules=[{"action": "auto"}], severity={"auto_max": "critical"})  # type: ignore[list-item,arg-type]
    result, _ = one_case({"type": fault}, runbooks=path, policy=everything)
    [out] = result.outcomes
    assert out.runbook == rb_id
    assert out.outcome == "escalated" and not out.validated, out.reason
    assert "validation failed" in out.reason
    assert present(result)
    # the agent's own change was rolled back: the twin is exactly as before it acted
    assert result.hash_after_agent == result.hash_before_agent
    if wrong_fix[0]["tool"] == "set_ospf_cost":  # the cost change was real, so its rollback is too
        assert out.rolled_back and out.rollback_verified


def test_restoring_bgp_neighbour_over_a_dead_link_does_not_help() -> None:
    """The session's transport is a cut cable: `no neighbor shutdown` changes nothing."""
    from netops_agent.lab.sim.control import SimControl
    from netops_agent.lab.sim.lab import SimLab
    from netops_agent.models import FaultSpec

    lab = SimLab.build("small", 42)
    ctl = SimControl(lab)
    f = ctl.inject(FaultSpec(type="link_failure"), seed=1)
    s = lab.inv.session(
        f.target["device"],
        lab.configs[f.target["peer_device"]].interfaces[f.target["peer_interface"]].ip or "",
    )
    assert s is not None and lab.derived.bgp[(s.device, s.peer_ip)].state != "Established"
    lab.configure(
        s.device, [f"router bgp {lab.inv.device(s.device).asn}", f" no neighbor {s.peer_ip} shutdown"]
    )
    assert lab.derived.bgp[(s.device, s.peer_ip)].state != "Established"
    assert ctl.fault_present(f)


def test_false_alarm_is_closed_as_no_fault_found() -> None:
    """An incident about a healthy interface: nothing confirms, the symptom is not there."""
    from netops_agent.lab.sim.control import sim_view
    from netops_agent.lab.sim.lab import SimLab
    from netops_agent.models import Incident, Severity
    from netops_agent.services import Services
    from netops_agent.store import Store
    from netops_agent.tickets import TicketService

    store = Store(":memory:")
    svc = Services.open(store)
    lab = SimLab.build("small", 42)
    inc = Incident(
        id="IM-0001",
        title="Utilisation spike on site1-leaf1 GigabitEthernet0/0",
        summary="Utilisation above 95% for one sample",
        severity=Severity.low,
        device="site1-leaf1",
        interface="GigabitEthernet0/0",
    )
    from netops_agent.agent import Agent

    agent = Agent(sim_view(lab), retriever=svc.retriever, runbooks=svc.runbooks, tickets=svc.tickets)
    before = lab.state_hash()
    out = agent.handle(inc, TicketService(store).open(inc, lab.now()))
    assert out.outcome == "no_action" and out.reason.startswith("no fault found")
    assert store.scalar("SELECT state FROM tickets") == "closed"
    assert lab.state_hash() == before


def test_unexplained_symptom_still_present_is_escalated() -> None:
    """Nothing confirms (no runbook for this), but the interface really is down: escalate."""
    from netops_agent.agent import Agent
    from netops_agent.lab.sim.control import sim_view
    from netops_agent.lab.sim.lab import SimLab
    from netops_agent.models import Incident, Severity
    from netops_agent.services import Services
    from netops_agent.store import Store
    from netops_agent.tickets import TicketService

    store = Store(":memory:")
    svc = Services.open(store)
    lab = SimLab.build("small", 42)
    lab.configure("site1-leaf1", ["interface GigabitEthernet0/0", " shutdown"])
    inc = Incident(
        id="IM-0001",
        title="Link down on site1-leaf1 GigabitEthernet0/0",
        summary="link down",
        severity=Severity.low,
        device="site1-leaf1",
        interface="GigabitEthernet0/0",
    )
    only_bgp = {k: v for k, v in svc.runbooks.items() if k.startswith("RB-BGP")}
    agent = Agent(sim_view(lab), retriever=svc.retriever, runbooks=only_bgp, tickets=svc.tickets)
    agent.retriever = type(
        "R",
        (),
        {
            "retrieve": lambda self, text, k=5: [
                h for h in svc.retriever.retrieve(text, k=50) if h.id in only_bgp
            ]
        },
    )()
    out = agent.handle(inc, TicketService(store).open(inc, lab.now()))
    assert out.outcome == "escalated" and "symptom is still there" in out.reason


@pytest.mark.parametrize(
    ("fault", "rb_id"), [("optic_degradation", "RB-OPTIC-DEGRADED"), ("memory_leak", "RB-MEMORY-LEAK")]
)
def test_unknown_fault_that_persists_is_never_closed_as_no_fault(
    tmp_path: Path, fault: str, rb_id: str
) -> None:
    """Without its runbook nothing confirms; the symptom is still there, so escalate."""
    data = yaml.safe_load(default_path().read_text())
    data["runbooks"] = [rb for rb in data["runbooks"] if rb["id"] != rb_id]
    path = tmp_path / "rb.yaml"
    path.write_text(yaml.safe_dump(data))
    result, _ = one_case({"type": fault}, runbooks=path)
    assert result.outcomes
    assert all(o.outcome == "escalated" for o in result.outcomes), [o.reason for o in result.outcomes]
    assert present(result)
