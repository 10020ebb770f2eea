"""Which entities a fault disturbs (twin diff, FRR approximation), the injection order that
always works, duplicate faults rejected at load time, and errored cases that do not stop an eval."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from netops_agent.errors import FaultTargetError, InputFileError
from netops_agent.evaluation import harness
from netops_agent.evaluation.harness import EvalOptions, evaluate
from netops_agent.evaluation.scenario import Case, Fault, Suite, Topology, load_suite
from netops_agent.lab.disturbance import approx_disturbed, injection_order
from netops_agent.lab.sim.disturbance import disturbed
from netops_agent.lab.sim.faults import SimFaults
from netops_agent.lab.sim.lab import SimLab
from netops_agent.models import FaultSpec, InjectedFault

L1 = "site1-leaf1"
G0, G1 = "GigabitEthernet0/0", "GigabitEthernet0/1"
# the spine port leaf1's Gi0/0 is patched into (the topology seed decides it)
SP = SimLab.build("small", 42).inv.link_of(L1, G0).peer_of(L1)[1]  # type: ignore[union-attr]


def inject(*specs: dict[str, Any]) -> tuple[SimLab, list[InjectedFault]]:
    lab = SimLab.build("small", 42)
    return lab, SimFaults(lab).inject_all([FaultSpec(**s) for s in specs])


def touched(*specs: dict[str, Any]) -> list[list[str]]:
    lab, faults = inject(*specs)
    d = disturbed(lab.profile, lab.seed, faults)
    return [d[f.id] for f in faults]


def test_a_shut_port_disturbs_its_cable_adjacency_and_session_and_nothing_else() -> None:
    [keys] = touched({"type": "interface_admin_down", "target": {"device": L1, "interface": G0}})
    assert keys == [
        f"bgp:{L1}|10.0.0.1",
        "bgp:site1-spine1|10.0.0.0",
        f"if:{L1}|{G0}",
        f"if:site1-spine1|{SP}",
        f"ospf:{L1}|{G0}",
        f"ospf:site1-spine1|{SP}",
    ]


def test_quiet_faults_disturb_processes_and_prefixes() -> None:
    cpu, acl, route = touched(
        {"type": "high_cpu_process", "target": {"device": "site1-leaf2"}},
        {"type": "acl_blocking", "target": {"device": "site1-leaf3", "interface": "Vlan200"}},
        {"type": "route_missing", "target": {"device": "site1-edge1"}},
    )
    assert cpu == ["dev:site1-leaf2", "proc:site1-leaf2|SNMP ENGINE"]
    assert acl == ["pfx:site1-leaf3|10.100.5.0/24"]
    assert route == ["pfx:site1-edge1|198.18.0.0/24"]


def test_a_fault_masked_by_another_still_disturbs_what_it_would_alone() -> None:
    cut, dead = touched(
        {"type": "link_failure", "target": {"device": L1, "interface": G0}},
        {"type": "device_unreachable", "target": {"device": L1}},
    )
    # leaf1 down hides the cut cable; the cut alone takes the cable and its session down
    assert {f"if:{L1}|{G0}", f"if:site1-spine1|{SP}", f"bgp:{L1}|10.0.0.1"} <= set(cut)
    assert "dev:site1-leaf1" not in cut and "dev:site1-leaf1" in dead


def test_two_faults_on_one_device_each_add_what_only_both_together_break() -> None:
    shut, mtu = touched(
        {"type": "interface_admin_down", "target": {"device": L1, "interface": G0}},
        {"type": "mtu_mismatch", "target": {"device": L1, "interface": G1}},
    )
    # either alone leaves leaf1 reachable over the other uplink; both together isolate it
    assert f"dev:{L1}" in shut and f"dev:{L1}" in mtu
    assert f"ospf:{L1}|{G1}" in mtu and f"ospf:{L1}|{G1}" not in shut


def test_isolation_is_injected_last_so_any_order_in_a_case_works() -> None:
    specs = [
        {"type": "device_unreachable", "target": {"device": "site1-leaf4"}},
        {"type": "interface_admin_down", "target": {"device": "site1-leaf4", "interface": G1}},
    ]
    assert injection_order([s["type"] for s in specs]) == [1, 0]
    lab, faults = inject(*specs)
    fx = SimFaults(lab)
    assert [f.id for f in faults] == ["F1", "F2"]  # ids follow the case's order
    assert all(fx.fault_present(f) for f in faults)
    one_by_one = SimFaults(SimLab.build("small", 42))  # the order of the case, as before
    one_by_one.inject(FaultSpec(**specs[0]))
    with pytest.raises(FaultTargetError, match="timed out"):
        one_by_one.inject(FaultSpec(**specs[1]))


def test_the_pipeline_injects_isolation_last_and_records_what_each_fault_disturbs() -> None:
    specs = [
        {"type": "device_unreachable", "target": {"device": "site1-leaf4"}},
        {"type": "interface_admin_down", "target": {"device": "site1-leaf4", "interface": G1}},
    ]
    suite = Suite(
        name="t",
        topology=Topology(profile="small", seed=42),
        digest="t",
        cases=[Case(id="dead-then-its-port", faults=[Fault(**s) for s in specs])],
    )
    [rec] = evaluate(suite, EvalOptions()).records
    assert not rec.error  # the device is taken down after its port was shut
    _, faults = inject(*specs)
    expected = disturbed("small", 42, faults)  # through the control face, same as directly
    assert [f.disturbed for f in rec.faults] == [expected["F1"], expected["F2"]]
    assert rec.incidents and all(inc.alerts for inc in rec.incidents)  # the incidents' alert keys


def test_the_same_fault_twice_in_a_case_is_rejected_at_load_time(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(
        "name: s\ncases:\n  - id: twice\n    faults:\n"
        "      - {type: interface_admin_down, target: {device: site1-leaf1, interface: GigabitEthernet0/0}}\n"
        "      - {type: mtu_mismatch, target: {device: site1-leaf1, interface: GigabitEthernet0/0}}\n"
        "      - {type: interface_admin_down, target: {device: site1-leaf1, interface: GigabitEthernet0/0}}\n"
    )
    with pytest.raises(InputFileError) as exc:
        load_suite(str(f))
    text = str(exc.value)
    assert "case twice, faults[2]" in text and "also faults[0]" in text and "remove one" in text


def test_frr_approximation_covers_the_target_and_what_rides_on_it() -> None:
    inv = SimLab.build("small", 42).inv
    link = InjectedFault(id="F1", type="mtu_mismatch", target={"device": L1, "interface": G0})
    session = InjectedFault(id="F2", type="bgp_max_prefix", target={"device": L1, "peer": "10.0.0.1"})
    route = InjectedFault(
        id="F3",
        type="route_missing",
        target={"device": "site1-edge1"},
        params={"prefix": "198.18.0.0/24"},
    )
    assert {f"if:{L1}|{G0}", f"ospf:site1-spine1|{SP}", "bgp:site1-spine1|10.0.0.0"} <= set(
        approx_disturbed(inv, link)
    )
    assert approx_disturbed(inv, session) == [f"bgp:{L1}|10.0.0.1", "bgp:site1-spine1|10.0.0.0"]
    assert approx_disturbed(inv, route) == ["dev:site1-edge1", "pfx:site1-edge1|198.18.0.0/24"]


def test_a_case_that_errors_is_recorded_and_the_eval_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    real = harness.run_case

    def flaky(svc: Any, suite: Suite, case: Case, opts: Any, **kw: Any) -> Any:
        if case.id == "broken":
            raise RuntimeError("could not inject on site1-leaf9: % Connection timed out\nmore")
        return real(svc, suite, case, opts, **kw)

    monkeypatch.setattr(harness, "run_case", flaky)
    suite = Suite(
        name="t",
        topology=Topology(profile="small", seed=42),
        digest="t",
        cases=[Case(id="broken", faults=[Fault(type="high_cpu_process")]), Case(id="healthy")],
    )
    run = evaluate(suite, EvalOptions())
    out = run.as_dict()
    assert out["errored_cases"] == [
        {"id": "broken", "error": "RuntimeError: could not inject on site1-leaf9: % Connection timed out"}
    ]
    assert [c["id"] for c in out["per_case"]] == ["broken", "healthy"]
    assert out["metrics"]["detection_precision"] == 1.0  # only the healthy case is scored
    healthy = [r for r in run.records if r.id == "healthy"]
    assert run.metrics == harness.metrics.compute(healthy, run.metrics["wall_s"])
