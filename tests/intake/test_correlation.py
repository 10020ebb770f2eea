"""The issue's bar: faults in the twin -> alerts -> ONE incident per fault, ranked suspects."""

from __future__ import annotations

import pytest

from netops_agent.catalog import CATALOG
from netops_agent.intake import Correlator, load_detection
from netops_agent.intake.config import DetectionConfig
from netops_agent.lab.sim.lab import SimLab
from netops_agent.models import InjectedFault, Suspect
from tests.intake.conftest import alert_row, twin


def points_at(s: Suspect, fault: InjectedFault) -> bool:
    """Either end of a cable counts; a session needs device + peer or the cable end."""
    t = fault.target
    ends = {(t["device"], t.get("interface"))}
    if t.get("peer_device"):
        ends.add((t["peer_device"], t.get("peer_interface")))
    if CATALOG[fault.type].target == "device":
        return s.device == t["device"]
    return (s.device, s.interface) in ends or (s.device, s.peer) == (t["device"], t.get("peer"))


def test_link_failure_is_one_incident_with_the_cable_on_top() -> None:
    tw = twin({"type": "link_failure"})
    (fault,) = tw.faults
    (inc,) = tw.result.incidents
    t = fault.target
    top = inc.suspects[0]
    assert top.kind == "link" and points_at(top, fault)
    mine = tw.alerts(incident_id=inc.id)
    places = {(a["kind"], a["device"], a["entity"]) for a in mine}
    for dev, itf in ((t["device"], t["interface"]), (t["peer_device"], t["peer_interface"])):
        assert ("interface", dev, itf) in places
        assert ("ospf", dev, itf) in places
    sessions = {(a["device"], a["entity"]) for a in mine if a["kind"] == "bgp"}
    peer_ip = tw.lab.configs[t["peer_device"]].interfaces[t["peer_interface"]].ip
    local_ip = tw.lab.configs[t["device"]].interfaces[t["interface"]].ip
    assert {(t["device"], peer_ip), (t["peer_device"], local_ip)} <= sessions
    assert inc.alerts == len(mine) == len(tw.alerts()) >= 8
    assert inc.device in (t["device"], t["peer_device"]) and inc.interface is not None
    assert "both ends" in inc.title


def test_device_unreachable_is_one_incident_with_the_device_on_top() -> None:
    tw = twin({"type": "device_unreachable"})
    (fault,) = tw.faults
    (inc,) = tw.result.incidents
    assert inc.suspects[0].kind == "device" and inc.suspects[0].device == fault.target["device"]
    assert inc.device == fault.target["device"] and inc.severity.value == "high"
    neighbours = {a["device"] for a in tw.alerts(incident_id=inc.id)} - {fault.target["device"]}
    assert len(neighbours) >= 2  # everything facing the device joined its incident
    assert "not responding" in inc.title


def test_two_unrelated_faults_give_two_incidents() -> None:
    tw = twin({"type": "high_cpu_process"}, {"type": "bgp_neighbor_shutdown"})
    assert len(tw.result.incidents) == 2
    for fault in tw.faults:
        (inc,) = [i for i in tw.result.incidents if points_at(i.suspects[0], fault)]
        assert inc.alerts >= 1


def test_transient_spikes_alone_open_no_incident() -> None:
    tw = twin(spikes=12, jitter=0.05)
    assert tw.result.incidents == []
    assert tw.store.query("SELECT * FROM alerts WHERE severity NOT IN ('info', 'warning')") == []
    assert tw.lab.spikes  # the spikes were there
    # ... and detectors without persistence would have alerted on them.
    eager = load_detection(use_env=False).model_copy(deep=True)
    eager.settings.for_s = 0
    for r in eager.thresholds + eager.anomalies:
        r.for_s = 0
    noisy = twin(spikes=12, jitter=0.05, config=eager)
    assert noisy.alerts()


def test_a_healthy_twin_raises_nothing() -> None:
    tw = twin()
    assert tw.alerts() == [] and tw.result.incidents == []
    assert tw.result.probes is not None and not tw.result.probes.failed


@pytest.mark.parametrize("slug", sorted(CATALOG))
def test_each_catalog_fault_is_one_incident_pointing_at_it(slug: str) -> None:
    tw = twin({"type": slug})
    (fault,) = tw.faults
    assert len(tw.result.incidents) == 1, [i.title for i in tw.result.incidents]
    (inc,) = tw.result.incidents
    assert points_at(inc.suspects[0], fault), (inc.suspects, fault.target)
    text = f"{inc.title} {inc.summary}".lower()
    for name in CATALOG:  # symptoms only: no fault type is ever named
        assert name not in text and name.replace("_", " ") not in text
    assert all(
        s.kind in ("device", "interface", "link", "bgp_session", "ospf_adjacency") for s in inc.suspects
    )
    assert [s.score for s in inc.suspects] == sorted((s.score for s in inc.suspects), reverse=True)


@pytest.mark.parametrize(
    ("slug", "fields"),
    [
        ("bgp_asn_mismatch", ("peer",)),
        ("acl_blocking", ("interface", "prefix")),
        ("route_missing", ("prefix",)),
        ("mtu_mismatch", ("interface",)),
    ],
)
def test_incidents_carry_what_runbooks_need(slug: str, fields: tuple[str, ...]) -> None:
    (inc,) = twin({"type": slug}).result.incidents
    for f in fields:
        assert getattr(inc, f), (f, inc)


# --- the correlator on hand-made alerts ------------------------------------------------------


def test_alerts_far_apart_on_one_cable_are_separate_incidents(small: SimLab, config: DetectionConfig) -> None:
    link = small.inv.links[0]
    alerts = [
        alert_row(1, "interface-down", "interface", link.a_device, link.a_interface, 1),
        alert_row(2, "interface-down", "interface", link.b_device, link.b_interface, 2),
        alert_row(3, "interface-down", "interface", link.a_device, link.a_interface, 400),
    ]
    drafts = Correlator(small.inv, config).correlate(alerts)
    assert [len(d.alerts) for d in drafts] == [2, 1]


def test_weak_alerts_never_open_incidents_and_changes_attach(small: SimLab, config: DetectionConfig) -> None:
    link = small.inv.links[0]
    alerts = [
        alert_row(1, "cpu-anomaly", "device", "site1-leaf2", "system", 1, "warning"),
        alert_row(2, "config-change", "config", link.a_device, "config", 1, "info"),
        alert_row(3, "ospf-adjacency-down", "ospf", link.a_device, link.a_interface, 3),
        alert_row(4, "ospf-adjacency-down", "ospf", link.b_device, link.b_interface, 3),
    ]
    (d,) = Correlator(small.inv, config).correlate(alerts)
    assert [a["id"] for a in d.context] == ["AL000002"]
    assert d.suspects[0].kind == "ospf_adjacency" and d.suspects[0].device == link.a_device
    assert sorted(d.alert_ids) == ["AL000002", "AL000003", "AL000004"]
