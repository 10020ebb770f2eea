"""Writes through the API and the dashboard's forms: approvals, resume, jobs; the token, CSRF,
bad bodies and a database another process is writing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.serve.conftest import make_client, wait_for
from tests.serve.test_api import db_rows

HTML = {"accept": "text/html"}


def ticket_state(db: Path, ticket: str) -> str:
    return db_rows(db, "SELECT state FROM tickets WHERE id = ?", [ticket])[0][0]


def pending(db: Path) -> tuple[str, str]:
    return db_rows(db, "SELECT id, ticket_id FROM approvals WHERE state = 'pending' ORDER BY id")[0]


def test_approve_then_resume_carries_the_change_out(db_copy: Path) -> None:
    approval, ticket = pending(db_copy)
    with make_client(db_copy, hold_s=0) as c:
        r = c.post(
            f"/api/v1/approvals/{approval}/approve", json={"by": "alice", "comment": "change window ok"}
        )
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "approved" and r.json()["decided_by"] == "alice"
        assert ticket_state(db_copy, ticket) == "awaiting_approval"
        results = c.post("/api/v1/approvals/resume").json()
    assert [(x["approval"], x["decision"]) for x in results] == [(approval, "approved")]
    assert results[0]["outcome"] == "resolved" and results[0]["validated"] is True
    assert ticket_state(db_copy, ticket) == "resolved"
    notes = [n for (n,) in db_rows(db_copy, "SELECT note FROM ticket_events WHERE ticket_id = ?", [ticket])]
    assert any("approved by alice: change window ok" in n for n in notes)


def test_deny_then_resume_escalates(db_copy: Path) -> None:
    approval, ticket = pending(db_copy)
    with make_client(db_copy, hold_s=0) as c:
        assert c.post(f"/api/v1/approvals/{approval}/deny").json()["state"] == "denied"
        again = c.post(f"/api/v1/approvals/{approval}/approve")
        assert again.status_code == 409 and "already denied" in again.json()["error"]
        results = c.post("/api/v1/approvals/resume").json()
    assert results[0]["outcome"] == "escalated"
    assert ticket_state(db_copy, ticket) == "escalated"


def test_token_is_required_for_writes_but_not_reads(db_copy: Path) -> None:
    approval, _ = pending(db_copy)
    with make_client(db_copy, token="s3cret", hold_s=0) as c:
        assert c.get("/api/v1/approvals").status_code == 200
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-Netops-Token": "nope"}):
            r = c.post(f"/api/v1/approvals/{approval}/approve", headers=headers)
            assert r.status_code == 401 and "token" in r.json()["error"]
        assert c.post("/api/v1/approvals/resume").status_code == 401
        assert c.post("/api/v1/jobs", json={"kind": "solve"}).status_code == 401
        assert db_rows(db_copy, "SELECT state FROM approvals WHERE id = ?", [approval]) == [("pending",)]
        ok = c.post(f"/api/v1/approvals/{approval}/approve", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
    assert db_rows(db_copy, "SELECT state FROM approvals WHERE id = ?", [approval]) == [("approved",)]


def test_cross_site_writes_are_refused(db_copy: Path) -> None:
    approval, _ = pending(db_copy)
    with make_client(db_copy, hold_s=0) as c:
        r = c.post(f"/api/v1/approvals/{approval}/approve", headers={"Origin": "http://evil.example"})
        assert r.status_code == 403 and "cross-site" in r.json()["error"]
        r = c.post("/api/v1/approvals/resume", headers={"Sec-Fetch-Site": "cross-site"})
        assert r.status_code == 403
    assert db_rows(db_copy, "SELECT state FROM approvals WHERE id = ?", [approval]) == [("pending",)]


def test_form_posts_need_the_csrf_token(db_copy: Path) -> None:
    approval, ticket = pending(db_copy)
    with make_client(db_copy, hold_s=0) as c:
        c.get("/approvals", headers=HTML)  # sets the CSRF cookie
        csrf = c.cookies.get("netops_csrf")
        assert csrf
        form = {"decision": "approve", "comment": "go", "by": "bob"}
        refused = c.post(f"/approvals/{approval}/decide", data=form, headers=HTML)
        assert refused.status_code == 403 and "CSRF" in refused.text
        wrong = c.post(f"/approvals/{approval}/decide", data={**form, "csrf_token": "x"}, headers=HTML)
        assert wrong.status_code == 403
        assert db_rows(db_copy, "SELECT state FROM approvals WHERE id = ?", [approval]) == [("pending",)]
        ok = c.post(
            f"/approvals/{approval}/decide",
            data={**form, "csrf_token": csrf},
            headers=HTML,
            follow_redirects=False,
        )
        assert ok.status_code == 303
        resumed = c.post("/approvals/resume", data={"csrf_token": csrf}, headers=HTML)
        assert resumed.status_code == 200 and "resolved" in resumed.text
    assert ticket_state(db_copy, ticket) == "resolved"


def test_bad_form_values(db_copy: Path) -> None:
    approval, _ = pending(db_copy)
    with make_client(db_copy, hold_s=0) as c:
        c.get("/", headers=HTML)
        csrf = c.cookies.get("netops_csrf")
        r = c.post(
            f"/approvals/{approval}/decide", data={"decision": "maybe", "csrf_token": csrf}, headers=HTML
        )
        assert r.status_code == 400 and "approve or deny" in r.text
        r = c.post("/approvals/A-0999/decide", data={"decision": "approve", "csrf_token": csrf}, headers=HTML)
        assert r.status_code == 404 and "A-0999" in r.text


def test_malformed_and_wrong_json_bodies(db_copy: Path) -> None:
    approval, _ = pending(db_copy)
    url = f"/api/v1/approvals/{approval}/approve"
    with make_client(db_copy, hold_s=0) as c:
        r = c.post(url, content=b'{"comment": "unterminated', headers={"content-type": "application/json"})
        assert r.status_code == 400 and "malformed JSON" in r.json()["error"]
        r = c.post(url, json={"comment": 5})
        assert r.status_code == 422 and "comment" in r.json()["error"]
        r = c.post(url, json={"by": ""})
        assert r.status_code == 422 and "by" in r.json()["error"]
    assert db_rows(db_copy, "SELECT state FROM approvals WHERE id = ?", [approval]) == [("pending",)]


def test_oversized_bodies_are_413(db_copy: Path) -> None:
    approval, _ = pending(db_copy)
    url = f"/api/v1/approvals/{approval}/approve"
    big = b'{"comment": "' + b"x" * 100_000 + b'"}'
    with make_client(db_copy, hold_s=0, max_body_bytes=10_000) as c:
        r = c.post(url, content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413 and "too large" in r.json()["error"]

        def chunks() -> Any:  # no Content-Length: the limit is counted while reading
            for _ in range(20):
                yield b"x" * 1000

        r = c.post(url, content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413
    assert db_rows(db_copy, "SELECT state FROM approvals WHERE id = ?", [approval]) == [("pending",)]


HOLD_LOCK = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
sys.stdin.readline()
"""


@pytest.fixture
def writer_elsewhere(db_copy: Path) -> Any:
    """Another process holding DuckDB's write lock on the file (like a `netops-agent run`)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(db_copy)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    yield db_copy
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(timeout=30)


def test_busy_database_is_a_clear_503(writer_elsewhere: Path) -> None:
    with make_client(writer_elsewhere, hold_s=0) as c:
        r = c.get("/api/v1/incidents")
        assert r.status_code == 503 and r.headers["retry-after"] == "2"
        assert "busy" in r.json()["error"] and "retry" in r.json()["error"]
        page = c.get("/incidents/IM-0001", headers=HTML)
        assert page.status_code == 503 and "busy" in page.text and 'http-equiv="refresh"' in page.text
        overview = c.get("/", headers=HTML)
        assert overview.status_code == 200 and 'id="busy"' in overview.text
        assert c.post("/api/v1/approvals/resume").status_code == 503


def test_the_service_starts_while_another_process_writes(writer_elsewhere: Path) -> None:
    """As `serve` builds it (with the receivers): it starts, and the pages say the file is busy."""
    from netops_agent.receivers.service import ReceiverOptions

    with make_client(writer_elsewhere, hold_s=0, receivers=ReceiverOptions()) as c:
        overview = c.get("/", headers=HTML)
        assert overview.status_code == 200 and 'id="busy"' in overview.text
        assert c.get("/api/v1/incidents").status_code == 503


def test_missing_database_says_how_to_make_one(tmp_path: Path) -> None:
    with make_client(tmp_path / "none.duckdb") as c:
        r = c.get("/api/v1/incidents")
        assert r.status_code == 503 and "netops-agent run" in r.json()["error"]
    assert not (tmp_path / "none.duckdb").exists()


def run_job(c: Any, body: dict[str, Any]) -> dict[str, Any]:
    r = c.post("/api/v1/jobs", json=body)
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["state"] == "running"
    done = wait_for(lambda: c.get(f"/api/v1/jobs/{job['id']}").json()["state"] != "running", timeout=180)
    assert done, f"job {job['id']} still running after 180 s"
    final = c.get(f"/api/v1/jobs/{job['id']}").json()
    assert final["state"] == "done", final["error"]
    assert final["returncode"] == 0
    return final


def test_lab_jobs_up_inject_then_solve(db_copy: Path, tmp_path: Path) -> None:
    """Lab actions and `solve` as background jobs: on a fresh small twin, a fault injected
    through the API is found by monitoring and fixed by the agent, all from the service."""
    with make_client(db_copy, jobs_dir=tmp_path) as c:
        up = run_job(c, {"kind": "lab-up", "profile": "small"})
        assert up["result"]["devices"] == 8
        injected = run_job(c, {"kind": "inject", "fault": "interface_admin_down"})
        assert injected["args"][:3] == ["lab", "inject", "interface_admin_down"]
        assert injected["result"]["type"] == "interface_admin_down"
        r = c.post("/api/v1/jobs", json={"kind": "solve"})
        assert r.status_code == 202
        second = c.post("/api/v1/jobs", json={"kind": "solve"})
        assert second.status_code == 409 and r.json()["id"] in second.json()["error"]
        wait_for(lambda: c.get(f"/api/v1/jobs/{r.json()['id']}").json()["state"] != "running", timeout=180)
        solved = c.get(f"/api/v1/jobs/{r.json()['id']}").json()
        assert solved["state"] == "done", solved["error"]
        worked = solved["result"]["incidents"]
        assert [i["outcome"] for i in worked] == ["resolved"]
        assert worked[0]["device"] == injected["result"]["target"]["device"]
        assert solved["progress"]["incidents_worked"] == 1
        ids = [j["id"] for j in c.get("/api/v1/jobs").json()]
        assert ids == [up["id"], injected["id"], r.json()["id"]]
        panel = c.get(f"/jobs/{r.json()['id']}/panel?was=running", headers=HTML)
        assert panel.headers.get("hx-refresh") == "true" and "done" in panel.text
        assert [i["ticket_state"] for i in c.get("/api/v1/incidents").json()] == ["resolved"]


@pytest.mark.parametrize(
    ("body", "status", "word"),
    [
        ({"kind": "run", "scenario": "../../etc/passwd"}, 400, "demo"),
        ({"kind": "inject", "fault": "meteor_strike"}, 400, "link_failure"),
        ({"kind": "inject", "fault": "link_failure", "device": "r1; reboot"}, 422, "device"),
        ({"kind": "lab-up", "profile": "huge"}, 422, "profile"),
        ({"kind": "explode"}, 422, "kind"),
    ],
)
def test_bad_job_requests_start_nothing(db_copy: Path, body: dict[str, Any], status: int, word: str) -> None:
    with make_client(db_copy) as c:
        r = c.post("/api/v1/jobs", json=body)
        assert r.status_code == status and word in r.json()["error"]
        assert c.get("/api/v1/jobs").json() == []


def test_shared_connection_mode(db_copy: Path, tmp_path: Path) -> None:
    """`serve --exclusive`: one read-write connection, a cursor per request; a job still gets
    the file (requests are busy until it ends, then see what it wrote)."""
    from concurrent.futures import ThreadPoolExecutor

    approval, ticket = pending(db_copy)
    with make_client(db_copy, hold_s=None, jobs_dir=tmp_path) as c:
        assert c.get("/api/v1/incidents/count").json() == {"count": 15}
        with ThreadPoolExecutor(4) as pool:
            got = list(pool.map(lambda n: c.get(f"/api/v1/incidents/IM-{n:04d}"), range(1, 16)))
        assert [r.json()["incident"]["id"] for r in got] == [f"IM-{n:04d}" for n in range(1, 16)]
        assert c.post(f"/api/v1/approvals/{approval}/approve").json()["state"] == "approved"
        assert c.post("/api/v1/approvals/resume").json()[0]["outcome"] == "resolved"
        assert c.get(f"/api/v1/tickets/{ticket}").json()["ticket"]["state"] == "resolved"
        job = c.post("/api/v1/jobs", json={"kind": "lab-up", "profile": "small"}).json()
        busy = c.get("/api/v1/incidents/count")
        assert busy.status_code == 503 and job["id"] in busy.json()["error"]
        wait_for(lambda: c.get(f"/api/v1/jobs/{job['id']}").json()["state"] != "running", timeout=180)
        assert c.get(f"/api/v1/jobs/{job['id']}").json()["state"] == "done"
        assert len(c.get("/api/v1/lab/status").json()["devices"]) == 8
        assert c.get("/api/v1/incidents/count").json() == {"count": 0}  # a fresh lab
    assert db_rows(db_copy, "SELECT count(*) FROM devices") == [(8,)]


def test_resume_waits_for_another_lab_writer_and_says_who(
    db_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A resume changes the lab: while a `solve` (here: this test) holds the lab-writer lock,
    the service answers 503 naming the holder and changes nothing; afterwards it carries on."""
    from netops_agent.store.writer import writer_lock

    approval, ticket = pending(db_copy)
    monkeypatch.setenv("NETOPS_LOCK_WAIT", "0")
    with make_client(db_copy, hold_s=0) as c:
        assert c.post(f"/api/v1/approvals/{approval}/approve", json={"by": "alice"}).status_code == 200
        with writer_lock(db_copy, "solve"):
            r = c.post("/api/v1/approvals/resume")
            assert r.status_code == 503, r.text
            assert "being changed by `solve`" in r.json()["error"]
        assert ticket_state(db_copy, ticket) == "awaiting_approval"
        results = c.post("/api/v1/approvals/resume").json()
    assert results[0]["outcome"] == "resolved"
    assert ticket_state(db_copy, ticket) == "resolved"
