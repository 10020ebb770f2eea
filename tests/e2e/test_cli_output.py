"""How the CLI reads at 80 columns and in pipes (issue 12)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Cli

MAX_PREFIX = """name: approval
topology: {profile: small, seed: 42}
cases:
  - {id: surge, seed: 1, faults: [{type: bgp_max_prefix}]}
"""


@pytest.fixture(scope="module")
def demo80(tmp_path_factory: pytest.TempPathFactory) -> tuple[Cli, str]:
    c = Cli(tmp_path_factory.mktemp("demo80"))
    return c, c("run", env={"COLUMNS": "80"}).stdout


def test_demo_results_table_is_one_line_per_incident_at_80_columns(demo80: tuple[Cli, str]) -> None:
    _, out = demo80
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    rows = [line for line in lines if re.match(r"^IM-\d{4}\s{2,}", line)]
    assert len(rows) == 15  # one row per incident: nothing folded onto a second line
    outcomes = {"resolved", "escalated", "awaiting_approval", "no_action"}
    assert all(line.split()[-1] in outcomes | {"✓"} for line in rows)
    assert any("awaiting_approval" in line for line in rows)
    assert "interface_admin_down" in out and "_down\n" not in out  # no word cut mid-token
    assert "1 awaiting approval" in out


def test_each_reason_wraps_under_itself_at_80_columns(demo80: tuple[Cli, str]) -> None:
    _, out = demo80
    lines = out.splitlines()
    first = next(n for n, line in enumerate(lines) if re.match(r"^IM-\d{4} INC\d+ ", line))
    reasons = lines[first : next(n for n, line in enumerate(lines) if line.startswith("╭"))]
    heads = [line for line in reasons if line.startswith("IM-")]
    assert len(heads) == 15 and len(reasons) > 15  # some reasons wrap at 80 columns
    # a continuation starts under the reason's first word, never at the margin
    assert all(line.startswith("IM-") or line.startswith(" " * 8) for line in reasons)


def test_show_db_table_switches_to_records_when_narrow(demo80: tuple[Cli, str]) -> None:
    cli, _ = demo80
    narrow = cli("show-db", "--table", "tickets", "--limit", "2", env={"COLUMNS": "80"}).stdout
    assert "-- tickets row 1 --" in narrow and "-- tickets row 2 --" in narrow
    assert re.search(r"^id\s+INC0000001$", narrow, re.M) and max(map(len, narrow.splitlines())) <= 80
    wide = cli("show-db", "--table", "sites", env={"COLUMNS": "80"}).stdout
    assert "row 1" not in wide and "eu-west" in wide


def test_awaiting_approval_is_its_own_outcome(cli: Cli, tmp_path: Path) -> None:
    suite = tmp_path / "approval.yaml"
    suite.write_text(MAX_PREFIX)
    data: dict[str, Any] = cli.json("run", "--scenario", str(suite))
    inc = data["incidents"][0]
    assert inc["outcome"] == "awaiting_approval" and inc["escalated"] is True and inc["approval"]
    s = data["summary"]
    assert s["awaiting_approval"] == 1 and s["escalated"] == 0
    assert s["resolved"] + s["escalated"] + s["awaiting_approval"] + s["no_action"] == s["incidents"]
    aid = inc["approval"]
    assert [a["id"] for a in cli.json("approvals")] == [aid]
    cli("approve", aid)
    listed = cli.json("approvals")  # approved but not resumed: still listed, with its state
    assert [(a["id"], a["state"]) for a in listed] == [(aid, "approved")]
    assert "netops-agent resume" in cli("approvals").stdout
    cli("resume")
    assert cli.json("approvals") == []
    assert cli.json("doctor")["ok"] is True


def test_resume_after_deny_prints_no_raw_log_line(cli: Cli, tmp_path: Path) -> None:
    suite = tmp_path / "approval.yaml"
    suite.write_text(MAX_PREFIX)
    aid = cli.json("run", "--scenario", str(suite))["incidents"][0]["approval"]
    cli("deny", aid, "--comment", "not today")
    proc = cli("resume")
    assert proc.stderr == ""
    assert not re.search(r"^\[IM-\d+\]", proc.stdout, re.M)
    assert f"{aid} (denied) -> IM-0001 escalated" in proc.stdout
    assert cli.json("doctor")["ok"] is True


def test_dry_run_text_shows_each_change(cli: Cli) -> None:
    out = cli("run", "--scenario", "smoke", "--dry-run").stdout
    assert "would configure site1-leaf1:" in out
    assert re.search(r"^\s+interface GigabitEthernet\S+\n\s+no shutdown$", out, re.M)
    assert "no neighbor" in out  # the BGP case's lines too


def test_lab_exec_prints_device_output_verbatim(cli: Cli) -> None:
    cli("lab", "up")
    narrow = cli("lab", "exec", "site1-leaf1", "show ip interface brief", env={"COLUMNS": "40"}).stdout
    wide = cli("lab", "exec", "site1-leaf1", "show ip interface brief", env={"COLUMNS": "200"}).stdout
    assert narrow == wide
    assert max(len(line) for line in narrow.splitlines()) > 40  # not re-wrapped to the terminal


def test_version_and_help_without_type_noise(cli: Cli) -> None:
    out = cli("--version").stdout
    assert re.fullmatch(r"netops-agent \d+\.\d+\.\d+\S*\n", out)
    for cmd in (["run"], ["eval"], ["show-db"], ["doctor"]):
        help_text = cli(*cmd, "--help", env={"COLUMNS": "80"}).stdout
        assert "<bool>" not in help_text and "--json" in help_text


def _in_pty(cli: Cli, *args: str) -> str:
    """Run the command on a pseudo-terminal (as a person would) and return what it drew."""
    import os
    import pty
    import subprocess

    from tests.e2e.conftest import EXE

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [EXE, *args],
        cwd=cli.cwd,
        env=cli.env(COLUMNS="80", TERM="xterm"),
        stdin=follower,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=300)
    os.close(leader)
    assert proc.returncode == 0
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode("utf-8", "replace"))


def test_progress_on_a_terminal_only(cli: Cli) -> None:
    drawn = _in_pty(cli, "eval", "--suite", "smoke")
    assert re.search(r"\d/5 cases", drawn)  # the bar counted cases done / total
    piped = cli("eval", "--suite", "smoke")
    assert piped.stderr == "" and "cases" not in piped.stderr
    drawn = _in_pty(cli, "run", "--scenario", "smoke")
    assert re.search(r"\d/\d incidents", drawn)
