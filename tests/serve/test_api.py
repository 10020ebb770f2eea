"""The REST API over a database filled by a real `netops-agent run` (reads only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi import APIRouter

from tests.serve.conftest import make_client, netops


def db_rows(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def link_failure(db: Path) -> dict[str, Any]:
    """Where the demo cut a cable (ground truth, kept apart from the run database; only
    tests read it)."""
    from netops_agent.store.truth import truth_path

    truth = Path(truth_path(db))
    (target,) = db_rows(truth, "SELECT target FROM ground_truth WHERE type = 'link_failure'")[0]
    return json.loads(target)


def test_incident_list_has_the_cli_shape(client: Any, demo_db: Path, tmp_path: Path) -> None:
    api = client.get("/api/v1/incidents").json()
    cli = json.loads(netops("incidents", "--db", str(demo_db), "--json", cwd=tmp_path).stdout)
    assert [r["id"] for r in api] == [r["id"] for r in cli]
    assert len(api) == 15
    assert [set(r) for r in api] == [set(r) for r in cli]
    assert [r["ticket_state"] for r in api] == [r["ticket_state"] for r in cli]


def test_incident_list_filters_and_pages(client: Any) -> None:
    everything = client.get("/api/v1/incidents").json()
    escalated = client.get("/api/v1/incidents", params={"state": "escalated"}).json()
    assert escalated and {r["ticket_state"] for r in escalated} == {"escalated"}
    assert len(escalated) == sum(r["ticket_state"] == "escalated" for r in everything)
    page = client.get("/api/v1/incidents", params={"limit": 2, "offset": 1}).json()
    assert [r["id"] for r in page] == [r["id"] for r in everything[1:3]]
    assert client.get("/api/v1/incidents/count").json() == {"count": 15}


def test_incident_detail_and_audit(client: Any, demo_db: Path, tmp_path: Path) -> None:
    detail = client.get("/api/v1/incidents/IM-0001").json()
    cli = json.loads(
        netops("incident", "show", "IM-0001", "--db", str(demo_db), "--json", cwd=tmp_path).stdout
    )
    assert (
        set(detail)
        == set(cli)
        == {
            "incident",
            "alerts",
            "ticket",
            "ticket_events",
            "tool_calls",
            "actions",
            "timeline",
        }
    )
    assert detail["ticket"]["id"] == cli["ticket"]["id"]
    assert len(detail["timeline"]) == len(cli["timeline"]) > 5
    audit = client.get("/api/v1/incidents/IM-0001/audit").json()
    kinds = {e["kind"] for e in audit}
    assert {"tool_call", "change", "ticket:opened"} <= kinds
    by_ticket = client.get(f"/api/v1/incidents/{detail['ticket']['id']}/audit").json()
    assert by_ticket == audit


def test_alerts_and_tickets(client: Any, demo_db: Path) -> None:
    active = client.get("/api/v1/alerts", params={"state": "active", "limit": 1000}).json()
    (n_active,) = db_rows(demo_db, "SELECT count(*) FROM alerts WHERE state = 'active'")[0]
    assert len(active) == n_active and {a["state"] for a in active} == {"active"}
    assert "fingerprint" not in active[0]
    waiting = client.get("/api/v1/tickets", params={"state": "awaiting_approval"}).json()
    (expected,) = db_rows(demo_db, "SELECT id FROM tickets WHERE state = 'awaiting_approval'")[0]
    assert [t["id"] for t in waiting] == [expected]
    one = client.get(f"/api/v1/tickets/{expected}").json()
    assert one["ticket"]["state"] == "awaiting_approval"
    assert one["events"][0]["kind"] == "opened"
    assert client.get(f"/api/v1/tickets/{expected}/events").json() == one["events"]


def test_approvals_list(client: Any) -> None:
    pending = client.get("/api/v1/approvals").json()
    assert [a["state"] for a in pending] == ["pending"]
    assert "maximum-prefix" in pending[0]["diff"]
    assert client.get(f"/api/v1/approvals/{pending[0]['id']}").json()["id"] == pending[0]["id"]
    assert len(client.get("/api/v1/approvals", params={"all": True}).json()) >= 1


def test_runbooks_retrieve_and_faults(client: Any) -> None:
    books = client.get("/api/v1/runbooks").json()
    assert len(books) > 10 and {"id", "title", "fault_types", "symptoms"} <= set(books[0])
    one = client.get(f"/api/v1/runbooks/{books[0]['id']}").json()
    assert one["id"] == books[0]["id"] and one["evidence"]
    hits = client.get(
        "/api/v1/retrieve", params={"q": "BGP neighbor administratively shut down", "top_k": 2}
    ).json()
    assert len(hits) == 2 and "bgp_neighbor_shutdown" in hits[0]["fault_types"]
    faults = client.get("/api/v1/faults").json()
    assert "link_failure" in {f["slug"] for f in faults}


def test_eval_runs_and_cases(client: Any) -> None:
    runs = client.get("/api/v1/evals", params={"suite": "tiny"}).json()
    assert sorted(r["agent"] for r in runs) == ["default", "random"]
    default = next(r for r in runs if r["agent"] == "default")
    assert default["metrics"]["rca_accuracy"] == 1.0
    detail = client.get(f"/api/v1/evals/{default['id']}").json()
    assert [c["case_id"] for c in detail["cases"]] == ["admin-down", "healthy"]
    case = client.get(f"/api/v1/evals/{default['id']}/cases/admin-down").json()
    assert case["outcome"] == "resolved" and isinstance(case["detail"], dict)


def test_lab_status_topology_and_device(client: Any, demo_db: Path) -> None:
    status = client.get("/api/v1/lab/status").json()
    assert status["backend"] == "sim" and len(status["devices"]) == 48
    topo = client.get("/api/v1/lab/topology").json()
    assert len(topo["devices"]) == 48 and len(topo["links"]) == 87
    cut = link_failure(demo_db)
    health = {lk["id"]: lk["health"] for lk in topo["links"]}
    assert health[cut["link"]] == "alarm"
    assert sum(h == "ok" for h in health.values()) > 70  # the rest of the fabric is healthy
    dev = client.get(f"/api/v1/devices/{cut['device']}").json()
    port = next(i for i in dev["interfaces"] if i["name"] == cut["interface"])
    assert port["oper_status"] == "down" and port["admin_status"] == "up"
    assert dev["logs"] and dev["bgp_sessions"]


def test_incident_telemetry_marks_the_changes(client: Any) -> None:
    data = client.get("/api/v1/incidents/IM-0001/telemetry").json()
    assert data["changes"], "the agent changed something for IM-0001"
    metrics = [p["metric"] for p in data["panels"]]
    assert "oper-status" in metrics
    down_then_up = [v for _, v in data["panels"][0]["series"][0]["points"]]
    assert 2.0 in down_then_up and down_then_up[-1] == 1.0  # down before the fix, up after


@pytest.mark.parametrize(
    ("url", "word"),
    [
        ("/api/v1/incidents/IM-9999", "IM-9999"),
        ("/api/v1/incidents/IM-9999/audit", "IM-9999"),
        ("/api/v1/incidents/IM-9999/telemetry", "IM-9999"),
        ("/api/v1/tickets/INC9999999", "INC9999999"),
        ("/api/v1/tickets/INC9999999/events", "INC9999999"),
        ("/api/v1/approvals/A-9999", "A-9999"),
        ("/api/v1/runbooks/RB-NOPE", "RB-NOPE"),
        ("/api/v1/evals/nope", "nope"),
        ("/api/v1/devices/site9-leaf99", "site9-leaf99"),
        ("/api/v1/jobs/J-9999", "J-9999"),
        ("/api/v1/no-such-thing", "/api/v1/no-such-thing"),
    ],
)
def test_unknown_ids_are_404_with_a_message(client: Any, url: str, word: str) -> None:
    r = client.get(url)
    assert r.status_code == 404
    body = r.json()
    assert word in body["error"] and body["status"] == 404


def test_unknown_eval_case(client: Any) -> None:
    run = client.get("/api/v1/evals").json()[0]["id"]
    r = client.get(f"/api/v1/evals/{run}/cases/no-case")
    assert r.status_code == 404 and "no-case" in r.json()["error"]


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/alerts?state=burning", "state"),
        ("/api/v1/incidents?limit=0", "limit"),
        ("/api/v1/incidents?state=bogus", "state"),
        ("/api/v1/retrieve", "q"),
        ("/api/v1/retrieve?q=bgp&top_k=many", "top_k"),
    ],
)
def test_bad_query_values_are_422_naming_the_field(client: Any, url: str, field: str) -> None:
    r = client.get(url)
    assert r.status_code == 422
    assert field in r.json()["error"]


def test_wrong_method_is_405_json(client: Any) -> None:
    r = client.delete("/api/v1/incidents")
    assert r.status_code == 405 and "DELETE" in r.json()["error"]


def test_a_bug_is_a_json_500_without_traceback(demo_db: Path) -> None:
    broken = APIRouter()

    @broken.get("/api/v1/broken")
    def _broken() -> None:
        raise RuntimeError("secret internals")

    with make_client(demo_db, extra_routers=[broken]) as c:
        r = c.get("/api/v1/broken")
    assert r.status_code == 500
    assert "internal error" in r.json()["error"]
    assert "Traceback" not in r.text and "secret internals" not in r.text


def test_openapi_lists_the_api(client: Any) -> None:
    spec = client.get("/openapi.json").json()
    for path in (
        "/api/v1/incidents",
        "/api/v1/approvals/{approval_id}/approve",
        "/api/v1/approvals/resume",
        "/api/v1/jobs",
        "/api/v1/lab/topology",
        "/api/v1/evals/{run_id}/cases/{case_id}",
    ):
        assert path in spec["paths"]
    assert "/" not in spec["paths"]  # pages are not API
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/static/swagger/swagger-ui-bundle.js" in docs.text
    assert "https://" not in docs.text  # Swagger UI ships in the package, no CDN
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200


def test_pages_render(client: Any, demo_db: Path) -> None:
    html = {"accept": "text/html"}
    overview = client.get("/", headers=html).text
    for n in range(1, 16):
        assert f"/incidents/IM-{n:04d}" in overview
    page = client.get("/incidents/IM-0001", headers=html).text
    assert 'hx-get="/incidents/IM-0001/plots"' in page and 'id="timeline"' in page
    plots = client.get("/incidents/IM-0001/plots", headers=html).text
    assert 'class="plot"' in plots and "change-marker" in plots
    topo = client.get("/topology", headers=html).text
    assert f'data-link="{link_failure(demo_db)["link"]}"' in topo
    assert "maximum-prefix" in client.get("/approvals", headers=html).text
    run = client.get("/api/v1/evals").json()[0]["id"]
    assert "admin-down" in client.get(f"/evals/{run}", headers=html).text
    assert "ground truth fixed" in client.get(f"/evals/{run}/cases/admin-down", headers=html).text
    assert "latest run per agent" in client.get("/evals", headers=html).text
    assert "Interfaces" in client.get("/devices/site1-leaf1/panel", headers=html).text
    missing = client.get("/incidents/IM-4242", headers=html)
    assert (
        missing.status_code == 404
        and "IM-4242" in missing.text
        and "text/html" in missing.headers["content-type"]
    )


def test_static_assets_ship_in_the_package(client: Any) -> None:
    js = client.get("/static/htmx.min.js")
    assert js.status_code == 200 and "htmx" in js.text[:200]
    assert client.get("/static/style.css").status_code == 200
    page = client.get("/", headers={"accept": "text/html"}).text
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")  # nothing from a CDN
