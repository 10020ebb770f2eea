"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against
`netops-agent serve` started as a process on a free loopback port (one server and one
browser per session, i.e. per xdist worker, each on its own copy of the database; each
test has its own browser context, so its own cookies, and no test depends on another).

Screenshots of each page go to `<pytest base temp>/serve-screenshots/`.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.serve.conftest import EXE, cli_env, wait_for
from tests.serve.test_api import db_rows, link_failure

TOKEN = "browser-test-token"
ALARM_RGB = "rgb(214, 39, 40)"  # svg.COLOURS["alarm"] = #d62728
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def chromium_path() -> str:
    for name in ("chromium", "chromium-headless-shell"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("Debian's chromium is not installed: `apt-get install chromium` (.ci/run does this)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`netops-agent serve --token ...` on its own copy of the demo database."""
    root = tmp_path_factory.mktemp("serve-browser")
    db = root / "served.duckdb"
    shutil.copyfile(demo_db, db)
    port = free_port()
    log = open(root / "serve.log", "w")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        [EXE, "serve", "--db", str(db), "--port", str(port), "--token", TOKEN],
        cwd=root,
        env=cli_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/api/v1/incidents/count", timeout=2).status_code == 200
        except httpx.HTTPError:
            return proc.poll() is not None  # stop waiting if it died

    try:
        assert wait_for(up, timeout=60), "serve did not answer within 60 s"
        assert proc.poll() is None, (root / "serve.log").read_text()
        yield {"url": url, "db": db, "root": root, "demo": demo_db}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.getbasetemp() / "serve-screenshots"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    p = context.new_page()
    p.set_default_timeout(60_000)
    yield p
    context.close()


def db_query(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Read the served database from this process; retried while the server holds the lock."""
    out: list[Any] = []

    def attempt() -> bool:
        try:
            out[:] = db_rows(db, sql, params)
            return True
        except Exception:  # duckdb's lock error while the server writes
            return False

    assert wait_for(attempt, timeout=30), f"could not read {db}"
    return out


def test_overview_lists_the_demo_incidents(page: Any, server: dict[str, Any], shots: Path) -> None:
    page.goto(server["url"] + "/")
    rows = page.locator("#incidents tr[data-incident]")
    ids = rows.evaluate_all("rows => rows.map(r => r.dataset.incident)")
    expected = [i for (i,) in db_query(server["db"], "SELECT id FROM incidents ORDER BY id")]
    assert ids == expected and len(ids) == 15
    first = db_query(server["db"], "SELECT title FROM incidents WHERE id = 'IM-0001'")[0][0]
    assert first in page.locator('tr[data-incident="IM-0001"]').inner_text()
    page.screenshot(path=str(shots / "overview.png"), full_page=True)


def test_incident_page_shows_timeline_and_plot(page: Any, server: dict[str, Any], shots: Path) -> None:
    page.goto(server["url"] + "/")
    page.click('a[href="/incidents/IM-0001"]')
    page.wait_for_url("**/incidents/IM-0001")
    timeline = page.locator("#timeline tr")
    assert timeline.count() > 10
    assert "ticket opened" in page.locator("#timeline").inner_text()
    plot = page.locator('svg.plot[data-metric="oper-status"]')
    plot.wait_for()  # the plots load after the page (htmx)
    assert plot.count() == 1 and plot.is_visible()
    assert plot.locator("polyline").count() >= 1
    assert plot.locator("line.change-marker").count() >= 1  # the agent's fix is marked on the plot
    page.screenshot(path=str(shots / "incident-top.png"))
    page.screenshot(path=str(shots / "incident.png"), full_page=True)


def test_topology_shows_the_cut_cable_in_alarm_colour(page: Any, server: dict[str, Any], shots: Path) -> None:
    cut = link_failure(server["demo"])  # the served copy has the same lab
    page.goto(server["url"] + "/topology")
    line = page.locator(f'svg.topology line[data-link="{cut["link"]}"]')
    assert line.count() == 1
    assert line.evaluate("el => getComputedStyle(el).stroke") == ALARM_RGB
    healthy = page.locator("svg.topology line.ok").first
    assert healthy.evaluate("el => getComputedStyle(el).stroke") != ALARM_RGB
    page.locator(f'g[data-device="{cut["device"]}"] circle').click()  # the device panel loads beside the map
    panel = page.locator(f'#device-panel .device-detail[data-device="{cut["device"]}"]')
    panel.wait_for()
    assert "Recent log lines" in panel.inner_text() and cut["interface"] in panel.inner_text()
    page.screenshot(path=str(shots / "topology.png"), full_page=True)


def test_write_without_the_token_is_refused(page: Any, server: dict[str, Any]) -> None:
    db = server["db"]
    before = db_query(db, "SELECT id, state FROM tickets ORDER BY id")
    page.goto(server["url"] + "/approvals")
    page.click("#resume")
    assert "Refused" in page.locator("h1").inner_text()
    assert "token" in page.locator("#error-message").inner_text()
    assert db_query(db, "SELECT id, state FROM tickets ORDER BY id") == before
    page.goto(server["url"] + "/")
    page.click("text=Run scenario")
    assert "Refused" in page.locator("h1").inner_text()
    assert httpx.get(server["url"] + "/api/v1/jobs").json() == []


def test_approve_and_resume_through_the_page(page: Any, server: dict[str, Any], shots: Path) -> None:
    db = server["db"]
    approval, ticket = db_query(db, "SELECT id, ticket_id FROM approvals ORDER BY id")[0]
    page.goto(server["url"] + "/login")
    page.fill("#token", TOKEN)
    page.click('form[action="/login"] button')
    page.wait_for_url(server["url"] + "/")
    page.goto(server["url"] + "/approvals")
    card = page.locator(f'section[data-approval="{approval}"]')
    assert "maximum-prefix" in card.locator("pre.diff").inner_text()
    page.screenshot(path=str(shots / "approvals.png"), full_page=True)
    card.locator('input[name="comment"]').fill("peer confirmed the larger table")
    card.locator('input[name="by"]').fill("carol")
    card.locator("button.approve").click()
    page.wait_for_url("**/approvals")
    assert "approved" in page.locator(f'section[data-approval="{approval}"] .badge').inner_text()
    assert db_query(db, "SELECT state FROM tickets WHERE id = ?", [ticket]) == [("awaiting_approval",)]
    page.click("#resume", timeout=180_000)  # the agent carries the change out and validates it
    results = page.locator("#resume-results")
    results.wait_for()
    assert approval in results.inner_text() and "resolved" in results.inner_text()
    assert db_query(db, "SELECT state FROM tickets WHERE id = ?", [ticket]) == [("resolved",)]
    notes = db_query(db, "SELECT note FROM ticket_events WHERE ticket_id = ?", [ticket])
    assert any("approved by carol: peer confirmed the larger table" in n for (n,) in notes)
    decided = db_query(db, "SELECT state, decided_by FROM approvals WHERE id = ?", [approval])
    assert decided == [("executed", "carol")]


def test_api_answers_json_on_the_served_port(server: dict[str, Any]) -> None:
    r = httpx.post(server["url"] + "/api/v1/approvals/resume")
    assert r.status_code == 401 and "token" in r.json()["error"]
    spec = httpx.get(server["url"] + "/openapi.json").json()
    assert "/api/v1/incidents" in spec["paths"]
    assert json.loads(httpx.get(server["url"] + "/api/v1/incidents/count").text)["count"] == 15


def test_api_docs_render_from_the_package(page: Any, server: dict[str, Any]) -> None:
    outside: list[str] = []
    page.on("request", lambda req: None if req.url.startswith(server["url"]) else outside.append(req.url))
    page.goto(server["url"] + "/docs")
    page.locator(".swagger-ui .opblock").first.wait_for()
    assert page.locator(".swagger-ui .opblock").count() > 20
    assert outside == []  # nothing fetched from anywhere but the service
