"""`serve` with receivers: a router's syslog line becomes an incident in the API, and with
--auto-remediate the agent fixes the real cause on the twin (found through its own tools)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from netops_agent.receivers.service import ReceiverOptions
from netops_agent.serve.app import create_app
from netops_agent.store import Store
from tests.receivers.conftest import wait_for

EXE = shutil.which("netops-agent", path=str(Path(sys.executable).parent)) or "netops-agent"
LINE = "%LINK-3-UPDOWN: Interface GigabitEthernet0/0, changed state to down"


def _cli(*args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETOPS_")}
    subprocess.run([EXE, *args], check=True, capture_output=True, env=env, timeout=300)


def _send(port: int) -> None:
    subprocess.run(["logger", "--server", "127.0.0.1", "--port", str(port), "--udp", "--rfc3164",
                    "-t", "ios", LINE], check=True)  # fmt: skip


@pytest.fixture
def detection_file(tmp_path: Path) -> Path:
    import socket

    p = tmp_path / "detection.yaml"  # this machine's hostname (logger's) is the router here
    p.write_text(f"receivers:\n  cycle_s: 0.2\n  hosts: {{'{socket.gethostname()}': site1-leaf1}}\n")
    return p


@pytest.mark.skipif(shutil.which("logger") is None, reason="util-linux logger missing (.ci/run installs it)")
def test_without_auto_remediate_the_incident_waits(lab_db: Path, detection_file: Path) -> None:
    opts = ReceiverOptions(syslog_port=0, detection=detection_file)
    with TestClient(create_app(lab_db, receivers=opts)) as client:
        _send(client.app.state.receivers.listening()["syslog"])
        rows = wait_for(lambda: client.get("/api/v1/incidents").json(), what="an incident")
        assert client.get("/api/v1/intake/stats").json()["events_stored"] == 1
    assert rows[0]["device"] == "site1-leaf1" and rows[0]["ticket_state"] == "new"


@pytest.mark.skipif(shutil.which("logger") is None, reason="util-linux logger missing (.ci/run installs it)")
def test_auto_remediate_fixes_the_cause_behind_a_received_alarm(lab_db: Path, detection_file: Path) -> None:
    _cli("lab", "inject", "interface_admin_down", "--device", "site1-leaf1",
         "--interface", "GigabitEthernet0/0", "--db", str(lab_db))  # fmt: skip
    opts = ReceiverOptions(syslog_port=0, detection=detection_file, auto_remediate=True)
    with TestClient(create_app(lab_db, receivers=opts)) as client:
        _send(client.app.state.receivers.listening()["syslog"])

        def done() -> list[dict[str, object]]:
            rows = client.get("/api/v1/incidents").json()
            return [r for r in rows if r["ticket_state"] not in ("new", "in_progress")]

        [row] = wait_for(done, timeout=120, what="the agent to finish the incident")
    assert row["ticket_state"] == "resolved"
    with Store(lab_db) as store:
        calls = store.query("SELECT tool, device FROM tool_calls WHERE incident_id = ?", [row["id"]])
        changes = store.query("SELECT device, lines FROM changes WHERE incident_id = ?", [row["id"]])
    assert calls  # it looked for itself before acting
    assert any("no shutdown" in c["lines"] for c in changes)
