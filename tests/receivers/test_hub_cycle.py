"""A storm's correlation cycle in parts: the same incidents, and a POST does not wait for it.

A cycle records its drafts `chunk` incidents a transaction and writes what queued up
between two parts; its drafts form on a grouper thread while the writer goes on storing.
These tests feed one storm (link ends on both sides of cables, interfaces of their own,
logged link-downs, a device the inventory does not know) and watch the order of
events through the hub's own seams (`open_drafts`, `draft_incidents`): never the clock.
"""

from __future__ import annotations

import shutil
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from netops_agent.intake import pipeline as intake_pipeline
from netops_agent.intake.config import DetectionConfig
from netops_agent.receivers import hub as hub_mod
from netops_agent.receivers.alertmanager import AmWebhook, alert_rows
from netops_agent.receivers.hub import ReceiverHub
from netops_agent.receivers.syslog import SyslogMessage
from netops_agent.store import Store
from netops_agent.store.db import utcnow

CABLES = [  # both ends of four cables: each pair is one incident
    ("site1-leaf1", "GigabitEthernet0/0", "site1-spine1", "GigabitEthernet0/3"),
    ("site1-leaf1", "GigabitEthernet0/1", "site1-spine2", "GigabitEthernet0/3"),
    ("site1-leaf2", "GigabitEthernet0/0", "site1-spine1", "GigabitEthernet0/1"),
    ("site1-leaf2", "GigabitEthernet0/1", "site1-spine2", "GigabitEthernet0/0"),
]


def _storm(detection: DetectionConfig, n: int = 40) -> list[dict[str, Any]]:
    """`n` alerts on interfaces of their own, the ends of CABLES, one unknown device."""
    alerts = [
        {"status": "firing",
         "labels": {"alertname": "PortDown", "device": "site1-leaf3", "ifName": f"Gi9/{i}"},
         "startsAt": f"2026-11-30T10:{i % 60:02d}:00Z", "fingerprint": f"own{i:04d}"}
        for i in range(n)
    ]  # fmt: skip
    for k, (a, ai, b, bi) in enumerate(CABLES):
        for dev, iface in ((a, ai), (b, bi)):
            alerts.append(
                {"status": "firing", "labels": {"alertname": "PortDown", "device": dev, "ifName": iface,
                 "severity": "critical"}, "startsAt": f"2026-11-30T11:0{k}:00Z",
                 "fingerprint": f"cab-{dev}-{iface}"}
            )  # fmt: skip
    alerts.append(
        {"status": "firing", "labels": {"alertname": "NodeDown", "instance": "core-9:9100"},
         "startsAt": "2026-11-30T11:30:00Z", "fingerprint": "stranger"}
    )  # fmt: skip
    hook = AmWebhook.model_validate({"version": "4", "status": "firing", "alerts": alerts})
    return alert_rows(hook, detection.receivers.alertmanager)


def _logged(ts: datetime) -> list[SyslogMessage]:
    """Two logged link-downs at `ts`: one time for every run of a test, so the incidents'
    summaries ("since HH:MM:SS") compare."""
    return [
        SyslogMessage(ts, dev, "LINK", 3, "UPDOWN", f"Interface {iface}, changed state to down")
        for dev, iface in (("site1-leaf4", "GigabitEthernet0/0"), ("site1-edge1", "GigabitEthernet0/2"))
    ]


def _recent() -> datetime:
    return utcnow() - timedelta(seconds=30)  # recent enough for the syslog detector


def _run(
    db: Path, detection: DetectionConfig, chunk: int, rows: list[dict[str, Any]], logged_at: datetime
) -> ReceiverHub:
    """Queue the whole storm before the writer starts, so it is one batch and one cycle."""
    hub = ReceiverHub(db, config=detection, flush_s=0.05, chunk=chunk)
    for msg in _logged(logged_at):
        hub.put_event(msg)
    done = hub.submit_alerts(rows)
    hub.start()
    assert done.result(30)["new"] == len(rows)
    assert hub.drain(60)
    hub.stop()
    return hub


# What a cycle recorded, without the wall-clock columns: a query per table.
OUTCOME = {
    "incidents": "SELECT id, title, summary, severity, device, interface, peer, prefix, "
    "CAST(suspects AS VARCHAR) AS s, alerts, status FROM incidents ORDER BY id",
    "tickets": "SELECT id, incident_id, state, severity, short_description FROM tickets ORDER BY id",
    "events": "SELECT ticket_id, kind, from_state, to_state, note, CAST(data AS VARCHAR) AS d "
    "FROM ticket_events ORDER BY ticket_id, id",
    "alerts": "SELECT fingerprint, check_name, device, entity, state, known, incident_id FROM alerts "
    "ORDER BY fingerprint, check_name, entity",
}


def _outcome(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """What a cycle recorded (`OUTCOME`)."""
    with Store(db) as store:
        return {name: [tuple(r.values()) for r in store.query(sql)] for name, sql in OUTCOME.items()}


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many incidents each transaction of a cycle recorded."""
    parts: list[int] = []
    real = hub_mod.open_drafts

    def open_drafts(store: Store, drafts: list[Any], clock: Any) -> list[Any]:
        parts.append(len(drafts))
        return real(store, drafts, clock)

    monkeypatch.setattr(hub_mod, "open_drafts", open_drafts)
    return parts


def test_a_cycle_in_parts_opens_what_one_transaction_opens(
    lab_template: Path, tmp_path: Path, detection: DetectionConfig, counted: list[int]
) -> None:
    rows, at = _storm(detection), _recent()
    whole, parts = tmp_path / "whole.duckdb", tmp_path / "parts.duckdb"
    shutil.copy(lab_template, whole)
    shutil.copy(lab_template, parts)
    _run(whole, detection, 10_000, rows, at)
    assert len(counted) == 1  # the whole storm in one transaction, as before
    incidents = counted[0]
    counted.clear()
    _run(parts, detection, 3, rows, at)
    assert counted == [3] * (incidents // 3) + ([incidents % 3] if incidents % 3 else [])
    a, b = _outcome(whole), _outcome(parts)
    # the storm's shape: cable ends paired, the logged link-downs and the stranger opened too
    assert len(a["incidents"]) == 40 + len(CABLES) + 2 + 1
    assert all(r[-1] is not None for r in a["alerts"])  # every alert linked
    assert sum(r[5] is False for r in a["alerts"]) == 1  # the unknown device, flagged
    assert a == b


def test_a_post_is_answered_between_the_parts_of_a_cycle(
    lab_db: Path, detection: DetectionConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    order: list[str] = []
    real = hub_mod.open_drafts
    hub = ReceiverHub(lab_db, config=detection, flush_s=0.05, chunk=5)
    late = _storm(detection, 1)[:1]
    late[0] = {**late[0], "fingerprint": "am:late", "entity": "Gi8/0"}
    answer: list[Any] = []

    def open_drafts(store: Store, drafts: list[Any], clock: Any) -> list[Any]:
        if not answer:  # a POST arrives while the storm's first part is being written
            fut = hub.submit_alerts(late)
            fut.add_done_callback(lambda f: order.append("answered"))
            answer.append(fut)
        order.append("part")
        return real(store, drafts, clock)

    monkeypatch.setattr(hub_mod, "open_drafts", open_drafts)
    rows = _storm(detection)
    done = hub.submit_alerts(rows)
    hub.start()
    try:
        assert done.result(30)["new"] == len(rows)
        assert hub.drain(60)
    finally:
        hub.stop()
    parts = order.count("part")
    assert parts >= 9  # 47 incidents, 5 a part (then the late alert's own cycle)
    # answered after the first part and before the storm's other parts
    assert order.index("answered") == 1
    assert answer[0].result(0) == {"new": 1, "updated": 0}
    with Store(lab_db) as store:  # nothing lost: the late alert opened its own incident
        assert store.scalar("SELECT count(*) FROM alerts WHERE incident_id IS NULL") == 0
        assert store.scalar(
            "SELECT count(*) FROM incidents i JOIN tickets t ON t.incident_id = i.id"
        ) == store.scalar("SELECT count(*) FROM incidents")


def test_one_part_makes_the_post_wait_for_the_whole_cycle(
    lab_db: Path, detection: DetectionConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The contrast: with the storm in one part, the late POST is answered after it."""
    order: list[str] = []
    real = hub_mod.open_drafts
    hub = ReceiverHub(lab_db, config=detection, flush_s=0.05, chunk=10_000)
    late = [{**_storm(detection, 1)[0], "fingerprint": "am:late", "entity": "Gi8/0"}]

    def open_drafts(store: Store, drafts: list[Any], clock: Any) -> list[Any]:
        if "part" not in order:
            hub.submit_alerts(late).add_done_callback(lambda f: order.append("answered"))
        order.append("part")
        return real(store, drafts, clock)

    monkeypatch.setattr(hub_mod, "open_drafts", open_drafts)
    hub.submit_alerts(_storm(detection))
    hub.start()
    try:
        assert hub.drain(60)
    finally:
        hub.stop()
    assert order[:2] == ["part", "answered"]  # the storm's one part went first, whole


def test_a_post_is_stored_while_the_drafts_form(
    lab_db: Path, detection: DetectionConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The grouper holds its drafts until a POST made meanwhile is answered: that can only
    happen if the writer stores it while the drafts form."""
    real = intake_pipeline.draft_incidents
    hub = ReceiverHub(lab_db, config=detection, flush_s=0.05, chunk=5)
    late = [{**_storm(detection, 1)[0], "fingerprint": "am:late", "entity": "Gi8/0"}]
    seen: list[str] = []
    stored: list[dict[str, int]] = []

    def draft_incidents(alerts: list[Any], inventory: Any, config: DetectionConfig) -> list[Any]:
        if not seen:
            seen.append(threading.current_thread().name)
            stored.append(hub.submit_alerts(late).result(30))  # raises (fails the cycle) if not served
        return real(alerts, inventory, config)

    monkeypatch.setattr(intake_pipeline, "draft_incidents", draft_incidents)
    hub.submit_alerts(_storm(detection))
    hub.start()
    try:
        assert hub.drain(90)
    finally:
        hub.stop()
    assert hub.stats.errors == 0, hub.stats.last_error
    assert seen[0].startswith("receiver-grouper") and stored == [{"new": 1, "updated": 0}]
    with Store(lab_db) as store:  # the late alert waited for the next cycle, then opened its incident
        assert store.scalar("SELECT count(*) FROM alerts WHERE incident_id IS NULL") == 0


def test_a_failure_between_parts_leaves_whole_incidents_and_the_rest_for_the_next_cycle(
    lab_template: Path, tmp_path: Path, detection: DetectionConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows, at = _storm(detection), _recent()
    whole, broken = tmp_path / "whole.duckdb", tmp_path / "broken.duckdb"
    shutil.copy(lab_template, whole)
    shutil.copy(lab_template, broken)
    _run(whole, detection, 10_000, rows, at)

    real = hub_mod.open_drafts
    calls: list[int] = []

    def open_drafts(store: Store, drafts: list[Any], clock: Any) -> list[Any]:
        calls.append(len(drafts))
        opened = real(store, drafts, clock)  # written, then the part fails before its commit
        if len(calls) == 2:
            raise RuntimeError("the process dies in the second part")
        return opened

    monkeypatch.setattr(hub_mod, "open_drafts", open_drafts)
    hub = ReceiverHub(broken, config=detection, flush_s=0.05, chunk=10)
    for msg in _logged(at):
        hub.put_event(msg)
    hub.submit_alerts(rows)
    hub.start()
    try:
        assert hub.drain(60)
        assert hub.stats.errors == 1 and "second part" in hub.stats.last_error
        with Store(broken) as store:
            # the first part, whole: 10 incidents, each with its ticket and its alerts linked
            assert store.scalar("SELECT count(*) FROM incidents") == 10
            assert store.scalar("SELECT count(*) FROM tickets") == 10
            assert (
                store.scalar(
                    "SELECT count(*) FROM alerts WHERE incident_id IS NOT NULL "
                    "AND incident_id NOT IN (SELECT id FROM incidents)"
                )
                == 0
            )
            left = store.scalar("SELECT count(*) FROM alerts WHERE incident_id IS NULL")
        assert left > 0
        hub.submit_alerts(rows[:1])  # a resend: something new, so the next cycle runs
        assert hub.drain(60)
    finally:
        hub.stop()
    assert hub.stats.errors == 1  # the next cycle picked up the rest
    a, b = _outcome(whole), _outcome(broken)
    assert b["alerts"] == a["alerts"] and b["incidents"] == a["incidents"] and b["tickets"] == a["tickets"]
