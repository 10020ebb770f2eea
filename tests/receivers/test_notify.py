"""Notifications out: ticket transitions posted to webhooks, retried, dead-lettered, retried by hand."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from netops_agent.errors import InputFileError
from netops_agent.models import Incident, Severity
from netops_agent.notify.config import NotifyConfig, load_notify
from netops_agent.notify.dispatch import deliver, enqueue, list_notifications, retry
from netops_agent.store import Store
from netops_agent.tickets import TicketService

T0 = datetime(2026, 11, 30, 12, 0, 0)
SECRET = "s3cr3t-token-value"


class Sink:
    """A loopback webhook endpoint that records bodies and fails the first `fail` requests."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if sink.fail > 0:
                    sink.fail -= 1
                    self.send_response(503)
                else:
                    sink.bodies.append(json.loads(body))
                    sink.headers.append(dict(self.headers))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sink() -> Iterator[Sink]:
    s = Sink()
    yield s
    s.close()


def _incident() -> Incident:
    return Incident(
        id="IM-0001", title="Link down on site1-leaf1 Gi0/1", summary="interface down logged by site1-leaf1",
        severity=Severity("medium"), device="site1-leaf1", interface="GigabitEthernet0/1",
    )  # fmt: skip


def _ticket_story(store: Store) -> str:
    inc = _incident()
    row = {"id": inc.id, "title": inc.title, "summary": inc.summary, "severity": "medium",
           "device": inc.device, "interface": inc.interface, "status": "open"}  # fmt: skip
    store.insert("incidents", row)
    tickets = TicketService(store)
    tid = tickets.open(inc, T0)
    tickets.transition(tid, "in_progress", "working", T0)
    tickets.transition(tid, "resolved", "fixed and verified", T0 + timedelta(seconds=30))
    return tid


def test_every_kind_gets_its_shape(tmp_path: Path, sink: Sink) -> None:
    cfg = NotifyConfig.model_validate(
        {
            "targets": [
                {"name": k, "kind": k, "url": sink.url} for k in ("generic", "slack", "servicenow", "jira")
            ]
        }
    )
    with Store(tmp_path / "n.duckdb") as store:
        tid = _ticket_story(store)
        assert enqueue(store, cfg, T0) == 12  # 3 events (opened, in_progress, resolved) x 4 targets
        assert enqueue(store, cfg, T0) == 0  # the cursor moved: nothing twice
        stats = deliver(store, cfg, T0)
    assert stats.delivered == 12 and stats.failed == 0
    generic = [b for b in sink.bodies if b.get("source") == "netops-agent"]
    assert [g["event"]["to_state"] for g in generic] == ["new", "in_progress", "resolved"]
    assert generic[-1]["ticket"]["id"] == tid and generic[-1]["incident"]["device"] == "site1-leaf1"
    slack = [b for b in sink.bodies if set(b) == {"text"}]
    assert f"*{tid}* (IM-0001) in_progress -> resolved" in slack[-1]["text"]
    snow = [b for b in sink.bodies if "correlation_id" in b]
    assert (
        snow[-1]["correlation_id"] == tid
        and snow[-1]["state"] == "6"
        and snow[-1]["cmdb_ci"] == "site1-leaf1"
    )
    jira = [b for b in sink.bodies if "fields" in b]
    assert (
        jira[-1]["fields"]["summary"].startswith(f"[{tid}] Link down")
        and "resolved" in jira[-1]["fields"]["labels"]
    )


def test_failures_back_off_then_dead_letter_then_retry(
    tmp_path: Path, sink: Sink, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("HOOK_TOKEN", SECRET)
    sink.fail = 3
    target = {"name": "noc", "url": sink.url + "?token=${HOOK_TOKEN}", "states": ["resolved"],
              "headers": {"Authorization": "Bearer ${HOOK_TOKEN}"},
              "max_attempts": 3, "backoff_s": 10}  # fmt: skip
    cfg = NotifyConfig.model_validate({"targets": [target]})
    caplog.set_level(logging.DEBUG, logger="netops_agent")
    with Store(tmp_path / "n.duckdb") as store:
        _ticket_story(store)
        assert enqueue(store, cfg, T0) == 1  # only the transition to resolved is wanted
        assert deliver(store, cfg, T0).failed == 1
        assert deliver(store, cfg, T0 + timedelta(seconds=5)).failed == 0  # backing off: not due yet
        assert deliver(store, cfg, T0 + timedelta(seconds=10)).failed == 1  # 2nd attempt after 10 s
        assert deliver(store, cfg, T0 + timedelta(seconds=30)).dead == 1  # 3rd (20 s later): give up
        [row] = list_notifications(store)
        assert (row["state"], row["attempts"], row["last_error"]) == ("dead", 3, "HTTP 503 from 127.0.0.1")
        assert deliver(store, cfg, T0 + timedelta(hours=1)).delivered == 0  # dead stays dead
        assert retry(store) == 1
        assert deliver(store, cfg).delivered == 1
        [row] = list_notifications(store)
        everything = json.dumps(store.query("SELECT * FROM notifications"), default=str)
    assert row["state"] == "delivered"
    assert sink.headers[-1]["Authorization"] == f"Bearer {SECRET}"  # sent where it belongs...
    assert SECRET not in everything  # ...never stored
    assert SECRET not in caplog.text  # ...never logged
    assert "noc" in caplog.text and "dead letter" in caplog.text


def test_unreachable_target_is_an_error_not_a_crash(tmp_path: Path) -> None:
    from tests.receivers.conftest import free_port

    cfg = NotifyConfig.model_validate(
        {"targets": [{"name": "gone", "url": f"http://127.0.0.1:{free_port()}/", "max_attempts": 1}]}
    )
    with Store(tmp_path / "n.duckdb") as store:
        _ticket_story(store)
        enqueue(store, cfg, T0)
        assert deliver(store, cfg, T0).dead == 3
        errors = {r["last_error"] for r in list_notifications(store)}
    assert errors == {"ConnectError talking to 127.0.0.1"}


@pytest.mark.parametrize(
    "text, needle",
    [
        ("targets: [{name: a, url: ftp://x}]", "targets.0.url"),
        ("targets: [{name: a, url: 'http://x', colour: red}]", "colour"),
        ("targets: [{name: a, url: 'http://x'}, {name: a, url: 'http://y'}]", "unique"),
        ("- just a list", "targets"),
    ],
)
def test_bad_notify_files_say_where(tmp_path: Path, text: str, needle: str) -> None:
    p = tmp_path / "notify.yaml"
    p.write_text(text)
    with pytest.raises(InputFileError) as exc:
        load_notify(p)
    assert str(p) in str(exc.value) and needle in str(exc.value)
