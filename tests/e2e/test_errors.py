"""Bad input: a clear message naming the file/field/device, a non-zero exit, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import Cli


@pytest.mark.parametrize(
    ("suite", "expect"),
    [
        ("name: x\ncases:\n  - id: a\n    faults: [{type: gremlins}]\n", "case a, field faults.0.type"),
        ("name: x\ncases:\n  - id: a\n    colour: red\n", "unknown key 'colour'"),
        ("name: x\ncases:\n  - id: a\n  - id: a\n", "duplicate case id 'a'"),
        (
            "name: x\ncases:\n  - id: a\n    faults: [{type: link_failure, target: {device: nope}}]\n",
            "unknown device 'nope'",
        ),
        ("name: x\ntopology: {profile: huge}\ncases: [{id: a}]\n", "unknown profile 'huge'"),
        ("name: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_scenario(cli: Cli, tmp_path: Path, suite: str, expect: str) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(suite)
    proc = cli("run", "--scenario", str(path), check=False)
    assert proc.returncode != 0
    assert "suite.yaml" in proc.stderr and expect in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_db_for_show_db(cli: Cli) -> None:
    proc = cli("show-db", "--db", "nowhere/x.duckdb", check=False)
    assert proc.returncode != 0 and "netops-agent run" in proc.stderr and "Traceback" not in proc.stderr


def test_unknown_table(cli: Cli) -> None:
    cli("lab", "up")
    proc = cli("show-db", "--table", "nope", check=False)
    assert proc.returncode != 0 and "tables are:" in proc.stderr


def test_bad_runbooks_file(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "rb.yaml"
    bad.write_text(
        "runbooks:\n  - id: RB-X\n    title: t\n    fault_types: [nope]\n    symptoms: something long\n"
    )
    proc = cli("run", "--runbooks", str(bad), check=False)
    assert proc.returncode != 0 and "RB-X" in proc.stderr and "fault_types" in proc.stderr


def test_lab_exec_unknown_device(cli: Cli) -> None:
    cli("lab", "up")
    proc = cli("lab", "exec", "nope", "show version", check=False)
    assert proc.returncode != 0 and "unknown device 'nope'" in proc.stderr


def test_usage_errors_are_clean(cli: Cli) -> None:
    proc = cli("run", "--no-such-option", check=False)
    assert proc.returncode == 2 and "No such option" in proc.stderr and "Traceback" not in proc.stderr
    proc = cli("run", "--top-k", "99", check=False)
    assert proc.returncode == 2 and "--top-k" in proc.stderr and "Traceback" not in proc.stderr


def test_lab_inject_route_missing_on_a_leaf_exits_cleanly(cli: Cli) -> None:
    cli("lab", "up", "--profile", "small")
    proc = cli("lab", "inject", "route_missing", "--device", "site1-leaf1", check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "site1-leaf1 has no static route left to remove" in proc.stderr
