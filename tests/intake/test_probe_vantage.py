"""A probe vantage that is itself cut off: what it fails to reach is evidence about the
vantage, not about the target. Its failures are asked of a device that reaches something
(or kept as `cut-off`, raising no alert); a failure seen from a healthy vantage still counts."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

import pyarrow as pa
import pytest

from netops_agent.intake.config import DetectionConfig, Probes
from netops_agent.intake.detectors import DetectContext, ProbeDetector
from netops_agent.intake.probes import run_probes
from netops_agent.lab.base import CallTransport, CommandOutput, NetworkView
from netops_agent.models import Device, Inventory
from netops_agent.store import Store
from tests.intake.conftest import at, twin
from tests.intake.test_detectors import detect

G0, G1, G3 = "GigabitEthernet0/0", "GigabitEthernet0/1", "GigabitEthernet0/3"
_PING = re.compile(r"^ping (\S+) ")


def shut(device: str, interface: str, kind: str = "interface_admin_down") -> dict:
    return {"type": kind, "target": {"device": device, "interface": interface}}


# --- on the twin ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("faults", "cut", "other"),
    [
        ([shut("site1-edge1", G0), shut("site1-edge1", G1)], "site1-edge1", "site1-edge2"),
        ([shut("site1-edge2", G0, "link_failure"), shut("site1-edge2", G1, "link_failure")],
         "site1-edge2", "site1-edge1"),
    ],
)  # fmt: skip
def test_an_isolated_vantage_opens_no_incident_on_the_other_edge(
    faults: list[dict], cut: str, other: str
) -> None:
    tw = twin(*faults)
    assert tw.result.probes is not None and tw.result.probes.cut_off == {cut}
    assert [i.device for i in tw.result.incidents] == [cut]  # the isolated edge, and only it
    assert tw.alerts(device=other) == []
    # the other edge's prefix, pinged from the cut-off edge only, was asked of a device that
    # reaches it: the row is honest about both
    (prefix,) = tw.view.inventory().prefixes[other]
    (row,) = tw.store.query("SELECT * FROM probe_results WHERE entity = ?", [prefix])
    first, second = row["vantage"].split(",")
    assert first == cut and second not in (cut, other) and row["status"] == "ok"


def test_a_real_fault_seen_only_from_an_isolated_vantage_is_confirmed_from_a_healthy_one() -> None:
    # edge2's external route is gone too: its prefix fails from the isolated edge1 and from
    # the device asked next, which reaches the rest of the network: a real failure
    tw = twin(
        shut("site1-edge1", G0),
        shut("site1-edge1", G1),
        {"type": "route_missing", "target": {"device": "site1-edge2"}},
    )
    assert {i.device for i in tw.result.incidents} == {"site1-edge1", "site1-edge2"}
    (alert,) = tw.alerts(device="site1-edge2", entity="198.18.1.0/24")
    assert alert["check_name"] == "prefix-not-routed"  # the route is gone, read where it counts
    (row,) = tw.store.query("SELECT * FROM probe_results WHERE entity = '198.18.1.0/24'")
    assert row["status"] == "failed" and row["success_pct"] == 0.0
    healthy = row["vantage"].split(",")[-1]
    assert healthy not in ("site1-edge1", "site1-edge2") and healthy in alert["detail"]
    assert row["route"] == "absent"
    assert tw.lab.inv.device(healthy).role == "leaf"


def test_two_isolated_vantages_of_three_sites_count_only_what_a_healthy_one_sees() -> None:
    # medium: site1-edge1 and site3-edge1 cut off (their spine uplinks and their WAN link);
    # site3 loses both of its WAN links with them, so its prefixes truly are unreachable,
    # while site2 is reachable from site2-edge1 and site1-edge2
    faults = [shut(d, i) for d in ("site1-edge1", "site3-edge1") for i in (G0, G1, G3)]
    tw = twin(*faults, profile="medium")
    assert tw.result.probes is not None and tw.result.probes.cut_off == {"site1-edge1", "site3-edge1"}
    sites = {i.device.split("-")[0] for i in tw.result.incidents}
    assert "site2" not in sites and tw.alerts(device="site2-edge1") == []
    assert {"site1", "site3"} <= sites  # the isolated edge, and the partitioned site
    assert not any(r["status"] == "cut-off" for r in tw.store.query("SELECT status FROM probe_results"))


def test_a_failure_seen_from_healthy_vantages_asks_no_one_else() -> None:
    # an ACL drops one leaf prefix: both edges see it fail, neither is cut off, no other
    # device is asked anything
    tw = twin({"type": "acl_blocking", "target": {"device": "site1-leaf4", "interface": "Vlan100"}})
    assert tw.result.probes is not None and tw.result.probes.cut_off == set()
    (alert,) = tw.alerts(check_name="prefix-unreachable")
    assert alert["device"] == "site1-leaf4"
    vantages = {
        v for r in tw.store.query("SELECT vantage FROM probe_results") for v in r["vantage"].split(",")
    }
    assert vantages == set(tw.view.inventory().vantages())


# --- on a scripted network -----------------------------------------------------------------
def _device(name: str, role: str, n: int) -> Device:
    return Device(
        name=name, site="s1", role=role, asn=65000, loopback=f"10.255.0.{n}", router_id=f"10.255.0.{n}"
    )  # type: ignore[arg-type]


INV = Inventory(
    sites=[],
    devices=[
        _device("e1", "edge", 1),
        _device("e2", "edge", 2),
        _device("l1", "leaf", 3),
        _device("l2", "leaf", 4),
    ],
    interfaces=[],
    links=[],
    bgp_sessions=[],
    prefixes={"e2": ["198.18.1.0/24"], "l1": ["10.100.0.0/24"], "l2": ["10.100.1.0/24"]},
)
OWNER = {d.loopback: d.name for d in INV.devices} | {
    "198.18.1.10": "e2",
    "10.100.0.10": "l1",
    "10.100.1.10": "l2",
}


def _network(reaches: Callable[[str, str], bool], sent: list[tuple[str, str]]) -> NetworkView:
    """A view whose pings succeed where `reaches(vantage, owner of the address)` says."""

    def execute(device: str, command: str) -> CommandOutput:
        sent.append((device, command))
        m = _PING.match(command)
        if m:
            ok = reaches(device, OWNER[m.group(1)])
            return CommandOutput(ok=True, text=f"Success rate is {100 if ok else 0} percent (3/3)")
        return CommandOutput(ok=True, text="% Network not in table")

    return NetworkView(
        backend="test", platform="cisco_ios", inventory=lambda: INV, golden_config=lambda d: "",
        transport=CallTransport(execute, lambda d, lines: execute(d, "")),
        now=lambda: datetime(2026, 1, 1), wait=lambda s: None,
    )  # fmt: skip


def _sweep(reaches: Callable[[str, str], bool]) -> tuple[dict[str, dict], list[tuple[str, str]], set[str]]:
    sent: list[tuple[str, str]] = []
    store = Store(":memory:")
    rnd = run_probes(_network(reaches, sent), store, Probes(liveness="all"), scope="t")
    rows = {r["target"]: r for r in store.query("SELECT * FROM probe_results")}
    return rows, sent, rnd.cut_off


def test_a_failure_no_healthy_device_could_check_is_kept_as_cut_off() -> None:
    # e1 reaches nothing, l1 and l2 reach nothing either; only e2 is fine. e2's own prefix
    # and loopback are pinged from e1 alone: no device that reaches anything can check them
    rows, sent, cut = _sweep(lambda v, owner: v == owner or (v == "e2" and owner != "e1"))
    assert cut == {"e1", "l1", "l2"}
    for address in ("198.18.1.10", "10.255.0.2"):
        row = rows[address]
        assert (row["status"], row["success_pct"], row["route"]) == ("cut-off", 0.0, None)
        assert row["vantage"].split(",")[0] == "e1"  # every device asked is named
    assert rows["10.255.0.1"]["status"] == "failed"  # e1 itself, seen from healthy e2
    assert not any(cmd.startswith("show ip route") and dev in cut for dev, cmd in sent)


def test_without_contrast_no_vantage_is_cut_off() -> None:
    # nothing answers anywhere: that is no evidence against a vantage, every failure counts
    rows, sent, cut = _sweep(lambda v, owner: v == owner)
    assert cut == set()
    assert {r["status"] for r in rows.values()} == {"failed"}
    assert {dev for dev, _ in sent} == {"e1", "e2"}  # no device beyond the vantages asked


def test_a_vantage_that_reached_nothing_is_tested_on_a_target_that_answered() -> None:
    # e1 is only ever paired with targets nobody reaches, except one check: it is asked to
    # ping a target that answered (l1's loopback via e2), and fails it
    def reaches(v: str, owner: str) -> bool:
        return v == owner or (v == "e2" and owner in ("l1", "e2"))

    _, sent, cut = _sweep(reaches)
    assert "e1" in cut
    assert ("e1", "ping 10.255.0.3 size 100 repeat 3") in sent or (
        "e1",
        "ping 10.100.0.10 size 100 repeat 3",
    ) in sent


# --- the detector ---------------------------------------------------------------------------
def _rows(rows: list[tuple[int, str, float, str]]) -> pa.Table:
    return pa.table(
        {
            "ts": pa.array([at(i) for i, *_ in rows], pa.timestamp("us")),
            "scope": ["t"] * len(rows),
            "vantage": [v for *_, v in rows],
            "target": ["198.18.1.10"] * len(rows),
            "kind": ["prefix"] * len(rows),
            "device": ["e2"] * len(rows),
            "entity": ["198.18.1.0/24"] * len(rows),
            "success_pct": pa.array([p for _, _, p, _ in rows], pa.float64()),
            "status": [s for _, s, _, _ in rows],
            "route": pa.array([None] * len(rows), pa.string()),
        }
    )


def test_cut_off_rows_raise_no_alert(store: Store, config: DetectionConfig) -> None:
    store.append_arrow(
        "probe_results", _rows([(1, "ok", 100.0, "e1"), (2, "cut-off", 0.0, "e1"), (3, "cut-off", 0.0, "e1")])
    )
    assert detect(store, config, at(5), "probe") == []


@pytest.mark.parametrize("vantage", ["e1", "e1,l1"])  # one vantage list: Python; two: the SQL
def test_cut_off_rows_neither_start_nor_end_a_run(
    store: Store, config: DetectionConfig, vantage: str
) -> None:
    rows = [
        (1, "ok", 100.0, "e2"),
        (2, "failed", 0.0, vantage),
        (3, "cut-off", 0.0, "e1"),
        (4, "failed", 0.0, "e1"),
    ]
    store.append_arrow("probe_results", _rows(rows))
    (ep,) = detect(store, config, at(5), "probe")
    assert (ep["start_ts"], ep["end_ts"], ep["n"], ep["active"]) == (at(2), at(4), 2, True)
    ctx = DetectContext(store, config, at(5), "t")
    sql = ProbeDetector(config)._episodes_sql(ctx, [r for r in config.probe_checks if r.enabled]).to_pylist()
    assert [(e["start_ts"], e["end_ts"], e["n"]) for e in sql] == [(at(2), at(4), 2)]
