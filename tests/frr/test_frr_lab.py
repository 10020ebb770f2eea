"""Real FRR routers: bring-up, tools on live output, every fault, right and wrong fixes.

Needs root, `ip netns` and FRR (installed by .ci/run); skips otherwise with the
reason. One lab per module (see conftest.py); each fault test repairs what it
injected in a `finally` and waits for the lab to converge again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from netops_agent.lab.base import NetworkView
from netops_agent.lab.frr import FrrFaultInjector, FrrLab, observe
from netops_agent.models import FaultSpec, InjectedFault

from .conftest import run_tool, wait_until

pytestmark = pytest.mark.frr


@pytest.fixture
def lab(frr_lab: FrrLab) -> FrrLab:
    assert wait_until(lambda: observe.converged(frr_lab.state), timeout=30), "lab not converged"
    return frr_lab


@contextmanager
def injected(
    lab: FrrLab, type_: str, target: Any = "auto"
) -> Iterator[tuple[FrrFaultInjector, InjectedFault]]:
    fx = FrrFaultInjector(lab)
    fault = fx.inject(FaultSpec(type=type_, target=target), seed=3)
    try:
        yield fx, fault
    finally:
        if any(f.id == fault.id for f in fx.injected()):
            fx.repair(fault)
        assert not fx.fault_present(fault)


def bgp_state(lab: FrrLab, device: str, peer: str) -> str:
    rows = {r["neighbor"]: r for r in run_tool(lab, "show_ip_bgp_summary", device)}
    return rows[peer]["state"] if peer in rows else "missing"


def ospf_state(lab: FrrLab, device: str, interface: str) -> str:
    rows = {r["interface"]: r["state"] for r in run_tool(lab, "show_ip_ospf_neighbor", device)}
    return rows.get(interface, "missing")


def interface(lab: FrrLab, device: str, name: str) -> dict[str, Any]:
    rows = {r["interface"]: r for r in run_tool(lab, "show_interfaces", device, interface=name)}
    return rows[name]


def fix(lab: FrrLab, fx: FrrFaultInjector, fault: InjectedFault) -> None:
    changes = fx.reference_fix(fault)
    assert changes, f"{fault.type} has a remote fix in the catalog"
    for device, lines in changes:
        out = lab.configure(device, lines)
        assert out.ok, out.error


# --- bring-up and the Lab protocol ------------------------------------------------------


def test_all_sessions_established_after_up(lab: FrrLab) -> None:
    from netops_agent.lab.frr.control import FrrControl

    view = FrrControl(lab).view()
    assert isinstance(view, NetworkView) and view.backend == view.platform == "frr"
    assert 0 < lab.bringup_seconds < 30
    for row in lab.status():
        assert all(row["daemons"].values()), row
        assert row["bgp_established"] == row["bgp_sessions"] > 0, row
        assert row["ospf_full"] == row["ospf_adjacencies"] > 0, row
    for device in lab.inventory().device_names():
        states = {r["state"] for r in run_tool(lab, "show_ip_bgp_summary", device)}
        assert states == {"Established"}, device


def test_running_config_is_the_golden_config(lab: FrrLab) -> None:
    for device in ("spine1", "leaf1", "edge1"):
        running = lab.execute(device, "show running-config").text
        body = running[running.index("frr version") :]
        assert body == lab.golden_config(device), device


def test_reachability_and_attach(lab: FrrLab) -> None:
    result = run_tool(lab, "ping", "edge1", destination="10.100.3.10", count=2)
    assert result["received"] == 2
    again = FrrLab.attach(lab.runtime_dir)
    assert again.inventory() == lab.inventory()
    assert again.state_hash() == lab.state_hash()


def test_execute_refuses_changes_and_unknown_commands(lab: FrrLab) -> None:
    for command in ("ip link set eth1 down", "show run | include x", "reload"):
        out = lab.execute("leaf1", command)
        assert (not out.ok and "supported" in out.error) or "changes the router" in out.error
    assert "duplex" in lab.configure("leaf1", ["interface eth1", " duplex half"]).error


# --- faults: symptoms, the correct fix, and a wrong fix ------------------------------------


def test_interface_admin_down(lab: FrrLab) -> None:
    before = lab.state_hash()
    target = {"device": "leaf1", "interface": "eth1"}
    with injected(lab, "interface_admin_down", target) as (fx, fault):
        assert interface(lab, "leaf1", "eth1")["link_status"] == "administratively down"
        assert wait_until(lambda: bgp_state(lab, "spine1", "10.1.0.1") != "Established")
        assert _diff(lab, "leaf1") == {"extra": {"shutdown"}, "missing": set()}
        assert lab.state_hash() != before
        fix(lab, fx, fault)
        assert not fx.fault_present(fault)
        assert wait_until(lambda: bgp_state(lab, "spine1", "10.1.0.1") == "Established")


def test_link_failure_is_not_fixed_by_no_shutdown(lab: FrrLab) -> None:
    target = {"device": "edge1", "interface": "eth1"}
    with injected(lab, "link_failure", target) as (fx, fault):
        for device, name in (("edge1", "eth1"), ("spine1", "eth4")):
            row = interface(lab, device, name)
            assert (row["link_status"], row["protocol_status"]) == ("down", "down")
        assert fx.reference_fix(fault) == []  # escalate: a cable needs a field engineer
        for device, name in (("edge1", "eth1"), ("spine1", "eth4")):
            assert lab.configure(device, [f"interface {name}", " no shutdown"]).ok  # the wrong fix
        lab.advance(2)
        assert fx.fault_present(fault)
        assert bgp_state(lab, "edge1", "10.1.0.6") != "Established"
        fx.repair(fault)
        assert wait_until(lambda: bgp_state(lab, "edge1", "10.1.0.6") == "Established")


def test_bgp_neighbor_shutdown(lab: FrrLab) -> None:
    with injected(lab, "bgp_neighbor_shutdown", {"device": "leaf2", "peer": "10.1.0.2"}) as (fx, fault):
        assert wait_until(lambda: bgp_state(lab, "leaf2", "10.1.0.2") == "Idle (Admin)")
        fix(lab, fx, fault)
        assert not fx.fault_present(fault)
        assert wait_until(lambda: bgp_state(lab, "leaf2", "10.1.0.2") == "Established")


def test_bgp_asn_mismatch(lab: FrrLab) -> None:
    with injected(lab, "bgp_asn_mismatch", {"device": "leaf3", "peer": "10.1.0.12"}) as (fx, fault):
        assert wait_until(lambda: bgp_state(lab, "spine2", "10.1.0.13") != "Established")

        def bad_as_logged() -> bool:
            rows = run_tool(lab, "show_logging", "leaf3")
            return any(r["mnemonic"] == "BGP-3-NOTIFICATION" and "Bad Peer AS" in r["message"] for r in rows)

        logs = wait_until(bad_as_logged)
        assert logs
        fix(lab, fx, fault)
        assert not fx.fault_present(fault)
        assert wait_until(lambda: bgp_state(lab, "leaf3", "10.1.0.12") == "Established")
        assert _diff(lab, "leaf3") == {"extra": set(), "missing": set()}  # description, timers kept


def test_a_convergence_wait_outlasts_bgp_backing_off_after_a_fixed_remote_as(lab: FrrLab) -> None:
    """After Bad Peer AS, bgpd backs both ends' start timers off; once the remote-as is
    fixed they sit in Idle, nothing changing, until a timer fires. A convergence wait must
    not call that quiet (the agent then validated on a session about to come up)."""
    with injected(lab, "bgp_asn_mismatch", {"device": "leaf3", "peer": "10.1.0.12"}) as (fx, fault):
        ends = {"leaf3": "10.1.0.12", "spine2": "10.1.0.13"}
        quiet_spell = lab.min_settle + lab.quiet_s + 1.0

        def backed_off() -> bool:  # both ends will wait longer than a quiet spell
            dues = [observe.start_timer_due(lab.state.routers[d], {p}) for d, p in ends.items()]
            return all(due is not None and due > quiet_spell for due in dues)

        assert wait_until(backed_off, timeout=90, every=0.5), "bgpd did not back off"
        fix(lab, fx, fault)
        lab.advance(30)
        states = {d: bgp_state(lab, d, p) for d, p in ends.items()}
        assert set(states.values()) == {"Established"}, states


def test_mtu_mismatch(lab: FrrLab) -> None:
    with injected(lab, "mtu_mismatch", {"device": "leaf2", "interface": "eth2"}) as (fx, fault):
        assert interface(lab, "leaf2", "eth2")["mtu"] == 9000
        assert wait_until(lambda: ospf_state(lab, "spine2", "eth2") in ("EXSTART", "EXCHANGE", "missing"))
        big = run_tool(lab, "ping", "spine2", destination="10.1.0.11", size=3000, count=2)
        assert big["received"] == 0
        fix(lab, fx, fault)
        assert not fx.fault_present(fault)
        assert wait_until(lambda: ospf_state(lab, "spine2", "eth2") == "FULL")


def test_ospf_timer_mismatch(lab: FrrLab) -> None:
    with injected(lab, "ospf_timer_mismatch", {"device": "leaf3", "interface": "eth1"}) as (fx, fault):
        assert wait_until(lambda: ospf_state(lab, "spine1", "eth3") == "missing", timeout=12)
        fix(lab, fx, fault)
        assert not fx.fault_present(fault)
        assert wait_until(lambda: ospf_state(lab, "spine1", "eth3") == "FULL")


def test_route_missing(lab: FrrLab) -> None:
    def service_route() -> list[dict[str, Any]]:
        return run_tool(lab, "show_ip_route", "leaf1", prefix="198.51.100.1")

    with injected(lab, "route_missing", {"device": "edge1"}) as (fx, fault):
        assert wait_until(lambda: service_route() == [])
        fix(lab, fx, fault)
        assert not fx.fault_present(fault)
        assert wait_until(lambda: [r["protocol"] for r in service_route()][:1] == ["B"])


def test_acl_blocking(lab: FrrLab) -> None:
    def reachable() -> int:
        return run_tool(lab, "ping", "leaf1", destination="10.100.2.10", count=2)["received"]

    with injected(lab, "acl_blocking", {"device": "leaf2", "interface": "Vlan100"}) as (fx, fault):
        assert reachable() == 0
        assert "access-list CUSTOMER-OUT seq 50 deny 10.100.2.0/24" in _diff(lab, "leaf2")["extra"]
        fix(lab, fx, fault)
        assert not fx.fault_present(fault)
        assert reachable() == 2


def test_link_congestion_shift_traffic(lab: FrrLab) -> None:
    with injected(lab, "link_congestion", {"device": "leaf1", "interface": "eth2"}) as (fx, fault):
        time.sleep(1.0)
        first = interface(lab, "leaf1", "eth2")
        lab.advance(1)
        hot = interface(lab, "leaf1", "eth2")
        assert hot["output_rate_bps"] >= 0.9 * hot["bandwidth_kbps"] * 1000
        assert hot["output_drops"] > first["output_drops"]
        rtt = run_tool(lab, "ping", "leaf1", destination="10.255.0.2", count=10)["rtt_avg_ms"]  # ~60% drop
        assert rtt is not None and rtt > 5
        fix(lab, fx, fault)  # raise the OSPF cost: the load takes the other spine
        assert wait_until(lambda: not fx.fault_present(fault))


def test_auto_targets_and_ground_truth_survive_attach(lab: FrrLab) -> None:
    fx = FrrFaultInjector(lab)
    fault = fx.inject(FaultSpec(type="interface_admin_down"), seed=11)
    try:
        inv = lab.inventory()
        assert inv.interface(fault.target["device"], fault.target["interface"]) is not None
        assert inv.device(fault.target["peer_device"]).role == "spine"
        other = FrrFaultInjector(FrrLab.attach(lab.runtime_dir))
        assert [f.id for f in other.injected()] == [fault.id]
        assert other.fault_present(fault)
    finally:
        fx.repair(fault)
    assert fx.injected() == []


def _diff(lab: FrrLab, device: str) -> dict[str, set[str]]:
    """Lines only in the running config ('extra') or only in the golden one ('missing')."""
    running = lab.execute(device, "show running-config").text
    body = set(running[running.index("frr version") :].splitlines())
    golden = set(lab.golden_config(device).splitlines())
    return {"extra": {x.strip() for x in body - golden}, "missing": {x.strip() for x in golden - body}}
