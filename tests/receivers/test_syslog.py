"""Syslog in: parsing of real-world line shapes, and real senders over UDP and TCP."""

from __future__ import annotations

import logging
import logging.handlers
import shutil
import socket
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from netops_agent.intake.config import DetectionConfig
from netops_agent.receivers.hub import ReceiverHub
from netops_agent.receivers.syslog import SyslogServer, parse, split_tcp
from netops_agent.store import Store
from tests.receivers.conftest import wait_for

NOW = datetime(2026, 11, 30, 12, 0, 0)


def test_cisco_default_format_gives_the_twins_event_row() -> None:
    line = (
        b"<187>42: site1-leaf1: *Jan  5 08:03:10.123: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down"
    )
    msg = parse(line, sender="10.255.0.3", received_at=NOW)
    assert msg is not None
    assert (msg.device, msg.facility, msg.severity, msg.mnemonic) == ("site1-leaf1", "LINK", 3, "UPDOWN")
    assert msg.message == "Interface Gi0/1, changed state to down"
    assert msg.ts == NOW  # IOS's own stamp has no year or zone: the receive time is kept


def test_cisco_without_hostname_is_named_by_its_sender() -> None:
    msg = parse(b"<189>17: *Jan  5 08:03:10: %SYS-5-CONFIG_I: Configured from console", sender="10.255.0.9")
    assert msg is not None and msg.device == "10.255.0.9" and msg.mnemonic == "CONFIG_I"


def test_rfc5424_with_timestamp_and_structured_data() -> None:
    line = (
        '<13>1 2026-01-05T08:03:10.5+01:00 edge1 bgpd 812 ID47 [exampleSDID@32473 iut="3"] '
        "%BGP-5-ADJCHANGE: neighbor 10.0.0.1 Down BGP Notification sent"
    )
    msg = parse(line, received_at=NOW)
    assert msg is not None
    assert msg.device == "edge1" and msg.ts == datetime(2026, 1, 5, 7, 3, 10, 500000)  # UTC
    assert (msg.facility, msg.severity, msg.mnemonic) == ("BGP", 5, "ADJCHANGE")
    assert msg.message.startswith("neighbor 10.0.0.1 Down")


def test_rfc3164_non_cisco_keeps_pri_and_tag() -> None:
    msg = parse(b"<30>Nov 30 11:59:58 gw1 sshd[812]: Accepted publickey for admin", received_at=NOW)
    assert msg is not None
    assert (msg.device, msg.facility, msg.severity, msg.mnemonic) == ("gw1", "DAEMON", 6, "SSHD")
    assert msg.message == "Accepted publickey for admin"


@pytest.mark.parametrize("junk", [b"", b"\r\n", b"\x00\x00"])
def test_empty_frames_are_ignored(junk: bytes) -> None:
    assert parse(junk) is None


def test_tcp_framing_octet_counted_and_newline() -> None:
    a, b = b"<13>1 - h a - - - one", b"<13>1 - h a - - - two"
    stream = f"{len(a)} ".encode() + a + b + b"\n" + b"<13>1 - h a - - - thr"
    frames, rest = split_tcp(stream)
    assert frames == [a, b]
    assert rest == b"<13>1 - h a - - - thr"


def _hub_with_hosts(db: Path, cfg: DetectionConfig, device: str) -> ReceiverHub:
    # `logger` stamps this machine's hostname; map it (and loopback) to a twin router,
    # as a NOC maps management addresses it does not name like the inventory
    cfg.receivers.hosts = {socket.gethostname(): device, "127.0.0.1": device}
    return ReceiverHub(db, config=cfg, flush_s=0.05).start()


@pytest.mark.skipif(
    shutil.which("logger") is None, reason="util-linux logger missing (.ci/run installs bsdutils)"
)
@pytest.mark.parametrize("transport", ["--udp", "--tcp"])
def test_logger_link_down_becomes_an_incident(
    lab_db: Path, detection: DetectionConfig, transport: str
) -> None:
    hub = _hub_with_hosts(lab_db, detection, "site1-leaf1")
    srv = SyslogServer(hub.put_event, port=0).start()
    try:
        fmt = "--rfc5424" if transport == "--tcp" else "--rfc3164"
        subprocess.run(
            ["logger", "--server", "127.0.0.1", "--port", str(srv.port), transport, fmt, "-t", "ios",
             "%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down"],
            check=True,
        )  # fmt: skip
        wait_for(lambda: hub.stats.events_stored >= 1, what="the message to be stored")
        assert hub.drain(30)
    finally:
        srv.stop()
        hub.stop()
    with Store(lab_db) as store:
        ev = store.query("SELECT * FROM events WHERE facility = 'LINK'")
        alerts = store.query("SELECT * FROM alerts WHERE scope = 'live'")
        incidents = store.query("SELECT * FROM incidents")
        tickets = store.query("SELECT * FROM tickets")
    assert [(e["device"], e["mnemonic"]) for e in ev] == [("site1-leaf1", "UPDOWN")]
    assert [(a["check_name"], a["device"], a["entity"]) for a in alerts] == [
        ("link-down-log", "site1-leaf1", "GigabitEthernet0/1")
    ]
    assert len(incidents) == 1 and incidents[0]["device"] == "site1-leaf1"
    assert alerts[0]["incident_id"] == incidents[0]["id"]
    assert [t["state"] for t in tickets] == ["new"]  # waits for a person: --auto-remediate is off


def test_python_syslog_handler_and_a_burst_lose_nothing(lab_db: Path, detection: DetectionConfig) -> None:
    hub = _hub_with_hosts(lab_db, detection, "site1-leaf2")
    srv = SyslogServer(hub.put_event, port=0).start()
    logger = logging.getLogger("test.syslog.burst")
    handler = logging.handlers.SysLogHandler(address=("127.0.0.1", srv.port), socktype=socket.SOCK_STREAM)
    logger.addHandler(handler)
    logger.propagate = False
    n = 500
    try:
        for i in range(n):
            logger.warning("%%SYS-4-TEST: message %d of a burst", i)
        handler.close()
        wait_for(lambda: hub.stats.events_stored >= n, what=f"{n} messages to be stored")
    finally:
        srv.stop()
        hub.stop()
    with Store(lab_db) as store:
        rows = store.query("SELECT message FROM events WHERE mnemonic = 'TEST'")
    got = sorted(int(r["message"].split()[1]) for r in rows)
    assert got == list(range(n))  # every one, exactly once
