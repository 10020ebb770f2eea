"""`netops-agent alerts`, `incidents`, `incident show` and `run --intake` through the command."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import Cli

SUITE = """
name: cli-intake
topology: {profile: small, seed: 42}
cases:
  - id: one
    seed: 1
    faults:
      - {type: link_failure}
      - {type: acl_blocking}
"""


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    cli = Cli(tmp_path_factory.mktemp("intake-cli"))
    (cli.cwd / "suite.yaml").write_text(SUITE)
    data = cli.json("run", "--scenario", "suite.yaml")
    assert data["intake"]["incidents"] == 2 and data["summary"]["incidents"] == 2
    return cli


def test_alerts_json_and_filters(ran: Cli) -> None:
    rows = ran.json("alerts")
    assert rows and {"id", "check_name", "severity", "state", "count", "incident_id"} <= set(rows[0])
    mine = ran.json("alerts", "--incident", "IM-0001")
    assert mine and all(r["incident_id"] == "IM-0001" for r in mine)
    assert all(r["state"] == "active" for r in ran.json("alerts", "--state", "active"))


def test_incidents_json_lists_top_suspects_and_tickets(ran: Cli) -> None:
    rows = ran.json("incidents")
    assert [r["id"] for r in rows] == ["IM-0001", "IM-0002"]
    for r in rows:
        assert r["top_suspect"]["kind"] and r["ticket_id"].startswith("INC") and r["alerts"] >= 1


def test_incident_show_has_the_whole_story(ran: Cli) -> None:
    data = ran.json("incident", "show", "IM-0002")
    assert {"incident", "alerts", "ticket", "timeline", "actions", "tool_calls"} <= set(data)
    assert data["incident"]["suspects"][0]["kind"]
    whats = [t["what"] for t in data["timeline"]]
    assert whats[0] == "alert" and "ticket opened" in whats
    assert data["ticket"]["state"] in ("resolved", "escalated")


def test_human_output_renders(ran: Cli) -> None:
    for args in (("alerts",), ("incidents",), ("incident", "show", "IM-0001")):
        out = ran(*args).stdout
        assert "IM-0001" in out


def test_unknown_incident_is_a_clear_error(ran: Cli) -> None:
    proc = ran("incident", "show", "IM-9999", check=False)
    assert proc.returncode == 2 and "no incident 'IM-9999'" in proc.stderr


def test_run_intake_option(tmp_path: Path) -> None:
    """The oracle intake (debugging only) is never the default and labels its results."""
    cli = Cli(tmp_path)
    (tmp_path / "suite.yaml").write_text(SUITE)
    data = cli.json("run", "--scenario", "suite.yaml", "--intake", "oracle")
    assert data["summary"]["incidents"] == 2 and data["intake"]["alerts"] == 0
    assert data["oracle_intake"] is True and data["intake_source"] == "oracle"
    honest = cli.json("run", "--scenario", "suite.yaml")
    assert honest["oracle_intake"] is False and honest["intake_source"] == "telemetry"
    for old in ("noc", "psychic"):
        bad = cli("run", "--scenario", "suite.yaml", "--intake", old, check=False)
        assert bad.returncode == 2 and f"unknown intake {old!r}" in bad.stderr
