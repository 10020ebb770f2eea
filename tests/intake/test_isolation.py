"""A silent device: cut off by its own links (its ports are the suspects) or failed itself
(the device is). One incident either way, worked by the agent as the device."""

from __future__ import annotations

import pytest

from netops_agent.catalog import CATALOG
from netops_agent.intake import Correlator
from netops_agent.intake.config import DetectionConfig
from netops_agent.lab.sim.lab import SimLab
from netops_agent.models import Incident
from tests.intake.conftest import alert_row, at, twin

G0, G1 = "GigabitEthernet0/0", "GigabitEthernet0/1"


def cables(inc: Incident, lab: SimLab) -> set[str]:
    """The cables the incident's non-device suspects name (either end counts)."""
    out = set()
    for s in inc.suspects:
        if s.kind != "device":
            link = lab.inv.link_of(s.device, s.interface or "")
            assert link is not None, s
            out.add(link.id)
    return out


def shut(device: str, interface: str, kind: str = "interface_admin_down") -> dict:
    return {"type": kind, "target": {"device": device, "interface": interface}}


@pytest.mark.parametrize(
    ("faults", "leaf"),
    [
        ([shut("site1-leaf2", G0), shut("site1-leaf2", G1)], "site1-leaf2"),
        ([shut("site1-leaf1", G0), shut("site1-leaf1", G1, "err_disabled_port")], "site1-leaf1"),
        ([shut("site1-edge2", G0, "link_failure"), shut("site1-edge2", G1)], "site1-edge2"),
    ],
)
def test_a_device_cut_off_by_its_links_names_those_links(faults: list[dict], leaf: str) -> None:
    tw = twin(*faults)
    (inc,) = [i for i in tw.result.incidents if i.device == leaf]
    # the incident stays the device's: the agent works it as the device (its links expanded)
    assert inc.device == leaf and inc.interface is None and inc.peer is None
    assert "not responding" in inc.title
    top = inc.suspects[0]
    assert top.kind == "link" and top.device == leaf and top.interface in (G0, G1)
    uplinks = {tw.lab.inv.link_of(leaf, i).id for i in (G0, G1)}  # type: ignore[union-attr]
    assert cables(inc, tw.lab) == uplinks
    assert any(s.kind == "device" and s.device == leaf for s in inc.suspects[:3])
    assert [s.score for s in inc.suspects] == sorted((s.score for s in inc.suspects), reverse=True)
    for i in (G0, G1):
        assert f"{leaf} {i}" in inc.summary.split("Most likely origin:")[1]
    text = f"{inc.title} {inc.summary}".lower()
    assert not any(name in text or name.replace("_", " ") in text for name in CATALOG)


def test_ports_shut_at_the_far_end_are_named_at_that_end() -> None:
    tw = twin(shut("site1-spine1", "GigabitEthernet0/2"), shut("site1-spine2", "GigabitEthernet0/2"))
    (inc,) = tw.result.incidents
    assert inc.device == "site1-leaf3" and inc.interface is None
    ends = {(s.device, s.interface) for s in inc.suspects if s.kind != "device"}
    assert ends == {("site1-spine1", "GigabitEthernet0/2"), ("site1-spine2", "GigabitEthernet0/2")}


@pytest.mark.parametrize("device", ["site1-leaf3", "site1-spine1"])
def test_a_device_that_fails_itself_stays_the_only_suspect(device: str) -> None:
    tw = twin({"type": "device_unreachable", "target": {"device": device}})
    (inc,) = tw.result.incidents
    assert [(s.kind, s.device) for s in inc.suspects] == [("device", device)]
    assert inc.device == device and "Most likely origin: device " + device in inc.summary


# --- the correlator on hand-made alerts ------------------------------------------------------
def _silent(small: SimLab, device: str, own: list[str]) -> list[dict]:
    """The probe finds `device` silent, every neighbour sees its facing port down, and the
    device itself reports `own` of its interfaces down."""
    alerts = [alert_row(0, "device-unreachable", "device", device, "10.255.0.1", severity="critical")]
    for lk in small.inv.links:
        if device in (lk.a_device, lk.b_device):
            far = lk.peer_of(device)
            alerts.append(alert_row(len(alerts), "interface-down", "interface", far[0], far[1]))
    first = len(alerts)
    alerts += [alert_row(first + n, "interface-down", "interface", device, i) for n, i in enumerate(own)]
    return alerts


def test_a_spine_cut_off_by_every_link_keeps_itself_among_the_first_three(
    small: SimLab, config: DetectionConfig
) -> None:
    spine = "site1-spine2"
    ports = [
        lk.peer_of(lk.peer_of(spine)[0])[1] for lk in small.inv.links if spine in (lk.a_device, lk.b_device)
    ]
    assert len(ports) == 6
    (d,) = Correlator(small.inv, config).correlate(_silent(small, spine, ports))
    kinds = [s.kind for s in d.suspects]
    assert kinds[:2] == ["link", "link"] and kinds[2] == "device" and len(kinds) == 5
    inc = d.incident("IM-0001", at(1))
    assert (inc.device, inc.interface) == (spine, None)
    assert "and 3 more" in inc.summary  # six links: three named, the rest counted


@pytest.mark.parametrize("own", ["none", "every"])
def test_a_device_that_reports_nothing_or_everything_down_is_the_suspect(
    small: SimLab, config: DetectionConfig, own: str
) -> None:
    leaf = "site1-leaf4"
    names = sorted(i.name for i in small.inv.interfaces if i.device == leaf) if own == "every" else []
    (d,) = Correlator(small.inv, config).correlate(_silent(small, leaf, names))
    assert [(s.kind, s.device) for s in d.suspects] == [("device", leaf)] and d.anchor is None


def test_the_isolation_suite_cuts_off_every_role_and_keeps_dead_devices_as_controls() -> None:
    from netops_agent.evaluation.scenario import load_suite

    s = load_suite("isolation")
    inv = SimLab.build(s.topology.profile, s.topology.seed).inv
    role = {d.name: d.role for d in inv.devices}
    cut_off = set()
    for c in s.cases:
        down = [f.target for f in c.faults if CATALOG[f.type].target != "device" and f.target != "auto"]
        for dev in role:  # a device all of whose cables have a faulty end
            links = [lk for lk in inv.links if dev in (lk.a_device, lk.b_device)]
            ends = {(t["device"], t["interface"]) for t in down}
            if links and all(set(lk.ends()) & ends for lk in links):
                cut_off.add(role[dev])
    assert cut_off == {"leaf", "spine", "edge"}
    dead = [c for c in s.cases if any(f.type == "device_unreachable" for f in c.faults)]
    assert {role[f.target["device"]] for c in dead for f in c.faults if f.type == "device_unreachable"} >= {
        "leaf",
        "spine",
    }
    assert any(len(c.faults) > 1 for c in dead) and any(not c.faults for c in s.cases)
