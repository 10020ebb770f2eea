"""Alertmanager in: Debian's prometheus-alertmanager posts to our webhook receiver.

A real Alertmanager routes alerts added with `amtool` to `POST /api/v1/intake/alertmanager`
(webhook format 4): grouped notifications are split, resends change nothing, a
resolved alert clears its row, an unknown device is kept and flagged.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from netops_agent.receivers.api import make_router
from netops_agent.receivers.hub import ReceiverHub
from netops_agent.store import Store
from tests.receivers.conftest import HttpServer, free_port, wait_for

AM = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
AMTOOL = shutil.which("amtool")


def _payload(status: str = "firing", **labels: str) -> dict[str, object]:
    return {
        "version": "4",
        "status": status,
        "receiver": "netops",
        "groupLabels": {},
        "commonLabels": {"alertname": "InterfaceDown"},
        "commonAnnotations": {"summary": "interface down"},
        "alerts": [
            {
                "status": status,
                "labels": {"device": "site1-leaf3", "ifName": "GigabitEthernet0/0", **labels},
                "annotations": {},
                "startsAt": "2026-11-30T10:00:00Z",
                "endsAt": "2026-11-30T10:05:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
                "fingerprint": "f00d",
            },
            {
                "status": "firing",
                "labels": {"instance": "core-9:9100", "alertname": "NodeDown", "severity": "critical"},
                "annotations": {},
                "startsAt": "2026-11-30T10:00:00Z",
                "fingerprint": "beef",
            },
        ],
    }


@pytest.fixture
def client(hub: ReceiverHub) -> Iterator[TestClient]:
    app = FastAPI()
    app.include_router(make_router(hub))
    with TestClient(app) as c:
        yield c


def test_grouped_resent_and_resolved(client: TestClient, hub: ReceiverHub, lab_db: Path) -> None:
    first = client.post("/api/v1/intake/alertmanager", json=_payload())
    assert first.status_code == 200 and first.json()["new"] == 2  # one group, two alerts
    again = client.post("/api/v1/intake/alertmanager", json=_payload())
    assert again.json() == {"received": 2, "new": 0, "updated": 2, "truncated_alerts": 0}
    assert client.post("/api/v1/intake/alertmanager", json=_payload("resolved")).status_code == 200
    assert hub.drain(30)
    with Store(lab_db) as store:
        rows = store.query("SELECT * FROM alerts WHERE source = 'alertmanager' ORDER BY fingerprint")
    by_fp = {r["fingerprint"]: r for r in rows}
    assert len(rows) == 2
    leaf, node = by_fp["am:f00d"], by_fp["am:beef"]
    assert (leaf["device"], leaf["entity"], leaf["kind"], leaf["state"]) == (
        "site1-leaf3", "GigabitEthernet0/0", "interface", "cleared")  # fmt: skip
    assert leaf["cleared_at"] == datetime(2026, 11, 30, 10, 5)
    assert (node["device"], node["severity"], node["known"], node["state"]) == (
        "core-9",
        "critical",
        False,
        "active",
    )
    assert json.loads(node["labels"])["instance"] == "core-9:9100"


@pytest.mark.parametrize(
    "body, fix",
    [
        ({"version": "3", "alerts": []}, "version 4"),
        ({"version": "4"}, "alerts"),
        (
            {"version": "4", "alerts": [{"labels": {}, "startsAt": "yesterday", "fingerprint": "x"}]},
            "startsAt",
        ),
    ],
)
def test_bad_bodies_get_a_4xx_that_names_the_field(
    client: TestClient, body: dict[str, object], fix: str
) -> None:
    resp = client.post("/api/v1/intake/alertmanager", json=body)
    assert resp.status_code == 422
    assert fix in json.dumps(resp.json())


@pytest.mark.skipif(AM is None or AMTOOL is None, reason="Debian's prometheus-alertmanager missing (.ci/run)")
def test_real_alertmanager_delivers_to_the_receiver(hub: ReceiverHub, lab_db: Path, tmp_path: Path) -> None:
    app = FastAPI()
    app.include_router(make_router(hub))
    with HttpServer(app) as ours:
        port = free_port()
        cfg = tmp_path / "alertmanager.yml"
        cfg.write_text(
            "route:\n  receiver: netops\n  group_by: [alertname]\n  group_wait: 100ms\n"
            "  group_interval: 500ms\n  repeat_interval: 1h\n"
            "receivers:\n  - name: netops\n    webhook_configs:\n"
            f"      - url: {ours.url}/api/v1/intake/alertmanager\n        send_resolved: true\n"
        )
        proc = subprocess.Popen(
            [AM, f"--config.file={cfg}", f"--storage.path={tmp_path / 'am'}",
             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            url = f"--alertmanager.url=http://127.0.0.1:{port}"
            up = [AMTOOL, url, "config", "show"]
            wait_for(lambda: subprocess.run(up, capture_output=True).returncode == 0, what="alertmanager")
            start = datetime.now(timezone.utc) - timedelta(seconds=5)
            labels = ["alertname=BGPPeerDown", "device=site1-edge1", "peer=10.0.0.40", "severity=critical"]
            subprocess.run([AMTOOL, url, "alert", "add", *labels, f"--start={start.isoformat()}",
                            "--annotation=summary=BGP peer down"], check=True)  # fmt: skip
            wait_for(lambda: hub.stats.alerts_new >= 1, what="alertmanager's notification")
            assert hub.drain(30)
            with Store(lab_db) as store:
                alert = store.query_one("SELECT * FROM alerts WHERE source = 'alertmanager'")
                incident = store.query_one("SELECT * FROM incidents")
            assert alert is not None and incident is not None
            assert (alert["device"], alert["entity"], alert["kind"], alert["state"]) == (
                "site1-edge1", "10.0.0.40", "bgp", "active")  # fmt: skip
            assert alert["incident_id"] == incident["id"] and incident["severity"] == "high"
            # resolving it in Alertmanager clears our row (send_resolved)
            subprocess.run([AMTOOL, url, "alert", "add", *labels, f"--start={start.isoformat()}",
                            f"--end={datetime.now(timezone.utc).isoformat()}"], check=True)  # fmt: skip

            def cleared() -> bool:
                with Store(lab_db, read_only=False) as store:
                    return store.scalar("SELECT state FROM alerts WHERE id = ?", [alert["id"]]) == "cleared"

            hub.drain(30)
            wait_for(cleared, what="the resolved notification")
        finally:
            proc.terminate()
            proc.wait(10)
