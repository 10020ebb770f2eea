"""`netops-agent eval` through the real command."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from netops_agent.evaluation import metrics
from tests.e2e.conftest import Cli


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def test_eval_json_with_several_agents_stores_runs_and_writes_a_report(cli: Cli) -> None:
    data = cli.json(
        "eval",
        "--suite",
        "smoke",
        "--agent",
        "default",
        "--agent",
        "seed-baseline",
        "--jobs",
        "2",
        "--report",
        "rep.html",
    )
    assert isinstance(data, list) and [d["agent"] for d in data] == ["default", "seed-baseline"]
    for d in data:
        assert {"suite", "agent", "backend", "cases", "metrics", "per_case"} <= set(d)
        assert list(d["metrics"]) == list(metrics.METRIC_KEYS) and d["cases"] == 5
    assert data[0]["metrics"]["false_resolutions"] == 0
    assert (cli.cwd / "rep.html").read_text().startswith("<!doctype html>")
    con = duckdb.connect(str(cli.cwd / "outputs" / "netops.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM eval_runs").fetchone() == (2,)
    assert con.execute("SELECT count(*) FROM eval_cases").fetchone() == (10,)
    con.close()


def test_eval_with_one_agent_prints_the_contract_object(cli: Cli) -> None:
    data = cli.json("eval", "--suite", "smoke", "--db", "x.duckdb")
    assert isinstance(data, dict) and data["agent"] == "default" and data["suite"] == "smoke"


def test_several_agents_print_one_table_with_a_column_per_agent(cli: Cli) -> None:
    out = cli("eval", "--suite", "smoke", "--agent", "default", "--agent", "random").stdout
    assert out.count("netops-agent eval: suite smoke") == 1
    header = next(line for line in out.splitlines() if "metric" in line)
    assert "default" in header and "random" in header
    assert "rca_accuracy" in out and "false_resolutions" in out


def test_unknown_agent_names_the_choices(cli: Cli) -> None:
    proc = cli("eval", "--suite", "smoke", "--agent", "oracle", check=False)
    assert proc.returncode == 2
    assert "unknown agent 'oracle'" in proc.stderr and "seed-baseline" in proc.stderr
