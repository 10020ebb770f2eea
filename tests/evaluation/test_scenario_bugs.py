"""Scenario and injection bugs of issue 11, one test each: rejected at load time with a
clear message (never an IndexError mid-eval), congestion from either end, and one
congestion threshold for the detector and the harness."""

from __future__ import annotations

from pathlib import Path

import pytest

from netops_agent.errors import FaultTargetError, InputFileError
from netops_agent.evaluation.scenario import load_suite
from netops_agent.lab.sim.faults import SimFaults, congestion_threshold
from netops_agent.lab.sim.lab import SimLab
from netops_agent.models import FaultSpec

DOCS = Path(__file__).resolve().parents[2] / "docs" / "scenarios.md"


def _load(tmp_path: Path, cases: str) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text("name: t\ntopology: {profile: small, seed: 42}\ncases:\n" + cases)
    load_suite(str(path))


@pytest.mark.parametrize(
    ("device", "why"),
    [
        ("site1-leaf1", "site1-leaf1 has no static route left to remove"),
        ("site1-spine1", "site1-spine1 has no static route left to remove"),
    ],
)
def test_route_missing_on_a_leaf_or_spine_is_rejected_at_load_time(
    tmp_path: Path, device: str, why: str
) -> None:
    with pytest.raises(InputFileError, match=why) as exc:
        _load(tmp_path, f"  - id: a\n    faults: [{{type: route_missing, target: {{device: {device}}}}}]\n")
    assert "devices with static routes: site1-edge1, site1-edge2" in str(exc.value)
    assert "case a, faults[0].target" in str(exc.value)


def test_route_missing_twice_on_one_edge_is_rejected_at_load_time(tmp_path: Path) -> None:
    twice = "{type: route_missing, target: {device: site1-edge1}}"
    with pytest.raises(InputFileError, match=r"faults\[1\]\.target.*site1-edge1 has no static route left"):
        _load(tmp_path, f"  - id: a\n    faults: [{twice}, {twice}]\n")
    _load(tmp_path, "  - id: a\n    faults: [{type: route_missing, target: {device: site1-edge1}}]\n")


def test_inject_route_missing_on_a_leaf_is_a_clear_error_not_an_index_error() -> None:
    fx = SimFaults(SimLab.build("small", 42))
    with pytest.raises(FaultTargetError, match="site1-leaf1 has no static route"):
        fx.inject(FaultSpec(type="route_missing", target={"device": "site1-leaf1"}))
    fx.inject(FaultSpec(type="route_missing", target={"device": "site1-edge1"}))
    with pytest.raises(FaultTargetError, match="site1-edge1 has no static route left"):
        fx.inject(FaultSpec(type="route_missing", target={"device": "site1-edge1"}))
    assert len(fx.injected()) == 1


@pytest.mark.parametrize(
    ("fault", "expect"),
    [
        (
            "{type: mtu_mismatch, target: {device: site1-leaf1}}",
            "the target needs 'interface', a port of site1-leaf1: one of GigabitEthernet0/0",
        ),
        (
            "{type: bgp_neighbor_shutdown, target: {device: site1-leaf1}}",
            "a BGP-session target needs 'peer', the neighbour address configured on "
            "site1-leaf1: one of 10.0.0.1, 10.0.0.3",
        ),
        (
            "{type: mtu_mismatch, target: site1-leaf1}",
            "a target is 'auto' or a mapping such as {device: X, interface: Y}",
        ),
        (
            "{type: mtu_mismatch, target: {device: site1-leaf1, interface: GigabitEthernet0/0, colour: red}}",
            "unknown key 'colour' in the target; a link target takes device, interface",
        ),
    ],
    ids=["missing-interface", "missing-peer", "target-as-string", "extra-key"],
)
def test_bad_targets_say_which_key_and_point_to_docs(tmp_path: Path, fault: str, expect: str) -> None:
    with pytest.raises(InputFileError) as exc:
        _load(tmp_path, f"  - id: a\n    faults: [{fault}]\n")
    msg = str(exc.value).replace("\n", " ")
    assert expect in msg and "docs/scenarios.md" in msg
    assert DOCS.exists(), "the hint points to a document that exists"


def test_expect_as_a_bare_word_says_how_to_write_it(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"expect: \{outcome: escalated\}.*got 'escalated'"):
        _load(tmp_path, "  - id: a\n    faults: [{type: mtu_mismatch}]\n    expect: escalated\n")


def _out_util(lab: SimLab, device: str, interface: str) -> float:
    return float(lab.rates.out_util[lab.idx.pos[(device, interface)]])


def test_congestion_named_by_its_spine_end_loads_the_spine_egress() -> None:
    lab = SimLab.build("small", 42)
    fx = SimFaults(lab)
    spine, leaf = ("site1-spine1", "GigabitEthernet0/0"), ("site1-leaf1", "GigabitEthernet0/0")
    before = _out_util(lab, *leaf)
    fault = fx.inject(FaultSpec(type="link_congestion", target={"device": spine[0], "interface": spine[1]}))
    assert _out_util(lab, *spine) >= congestion_threshold()
    assert _out_util(lab, *leaf) == pytest.approx(before), "the other direction is not the one loaded"
    assert fx.fault_present(fault)


def test_congestion_present_uses_the_detectors_threshold(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    lab = SimLab.build("small", 42)
    fx = SimFaults(lab)
    fault = fx.inject(FaultSpec(type="link_congestion"))
    util = _out_util(lab, fault.target["device"], fault.target["interface"])
    assert util >= congestion_threshold() == 0.95
    assert fx.fault_present(fault)
    stricter = tmp_path / "detection.yaml"
    stricter.write_text(
        "thresholds:\n  - {name: output-utilisation-high, metric: out-utilization, op: ge, value: 99.9}\n"
    )
    monkeypatch.setenv("NETOPS_DETECTION", str(stricter))
    assert congestion_threshold() == pytest.approx(0.999)
    assert fx.fault_present(fault) is (util >= 0.999)
