"""SNMP traps in: net-snmp's `snmptrap` (v2c) to the pysnmp receiver, into events and incidents."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from netops_agent.intake.config import DetectionConfig
from netops_agent.receivers.hub import ReceiverHub
from netops_agent.receivers.snmp import LINK_DOWN, TrapReceiver, trap_event
from netops_agent.store import Store
from tests.receivers.conftest import wait_for

pytestmark = pytest.mark.skipif(
    shutil.which("snmptrap") is None, reason="net-snmp's snmptrap missing (.ci/run installs the snmp package)"
)
IF = "1.3.6.1.2.1.2.2.1"
IFNAME = "1.3.6.1.2.1.31.1.1.1.1"
BGP_PEER = "1.3.6.1.2.1.15.3.1"


def snmptrap(port: int, oid: str, *varbinds: str, community: str = "public") -> None:
    subprocess.run(
        ["snmptrap", "-v", "2c", "-c", community, f"127.0.0.1:{port}", "", oid, *varbinds],
        check=True,
        capture_output=True,
        env={"MIBS": "", "PATH": "/usr/bin:/bin", "HOME": "/tmp"},
    )


def test_trap_event_without_ifname_uses_the_index() -> None:
    ev = trap_event([("1.3.6.1.6.3.1.1.4.1.0", LINK_DOWN), (f"{IF}.1.7", 7)], sender="10.0.0.9")
    assert ev is not None and ev.mnemonic == "LINKDOWN" and "Interface ifIndex7," in ev.message


def test_link_down_and_bgp_backward_traps_open_incidents(lab_db: Path, detection: DetectionConfig) -> None:
    detection.receivers.hosts = {"127.0.0.1": "site1-spine1"}
    hub = ReceiverHub(lab_db, config=detection, flush_s=0.05).start()
    rx = TrapReceiver(hub.put_event, port=0).start()
    try:
        snmptrap(rx.port, "1.3.6.1.6.3.1.1.5.3", f"{IF}.1.3", "i", "3", f"{IF}.7.3", "i", "1",
                 f"{IF}.8.3", "i", "2", f"{IFNAME}.3", "s", "GigabitEthernet0/2")  # fmt: skip
        snmptrap(rx.port, "1.3.6.1.2.1.15.0.2", f"{BGP_PEER}.14.10.0.0.9", "x", "0604",
                 f"{BGP_PEER}.2.10.0.0.9", "i", "1")  # fmt: skip
        snmptrap(rx.port, "1.3.6.1.6.3.1.1.5.3", f"{IFNAME}.4", "s", "Gi0/4", community="wrong")
        wait_for(lambda: hub.stats.events_stored >= 2, what="two traps to be stored")
        assert hub.drain(30)
    finally:
        rx.stop()
        hub.stop()
    with Store(lab_db) as store:
        events = store.query(
            "SELECT device, mnemonic, message FROM events WHERE facility = 'SNMP' ORDER BY ts"
        )
        alerts = store.query("SELECT check_name, device, entity FROM alerts WHERE scope = 'live' ORDER BY id")
        n_incidents = store.scalar("SELECT count(*) FROM incidents")
    assert [(e["device"], e["mnemonic"]) for e in events] == [
        ("site1-spine1", "LINKDOWN"),
        ("site1-spine1", "BGPBACKWARD"),
    ]  # the trap with the wrong community was refused
    assert "adminStatus up, operStatus down" in events[0]["message"]
    assert {(a["check_name"], a["entity"]) for a in alerts} == {
        ("snmp-link-down", "GigabitEthernet0/2"),
        ("snmp-bgp-backward", "10.0.0.9"),
    }
    assert n_incidents >= 1
