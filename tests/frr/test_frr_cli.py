"""The `netops-agent` command on real FRR routers: `lab up/status/exec/inject/down` and
`run --backend frr`, each in a subprocess, and `lab down` after a `lab up` killed half-way.

Needs root and FRR; skips otherwise. The module fixture names the labs (prefixes unique
to this process) and, whatever happens, tears them down and checks that nothing is left:
no namespace, process, daemon directory or state file.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from netops_agent.lab.frr import FrrLab
from netops_agent.lab.frr.system import NETNS_DIR
from netops_agent.pipeline.backends import runtime_dir_for

from .conftest import frr_skip_reason, lab_prefix, leftovers

pytestmark = pytest.mark.frr
EXE = shutil.which("netops-agent", path=str(Path(sys.executable).parent)) or "netops-agent"


@dataclass
class Cli:
    cwd: Path
    lab_prefix: str  # for `lab up --prefix`
    run_prefix: str  # for `run --backend frr` ($NETOPS_FRR_PREFIX)

    def argv(self, *args: str) -> tuple[list[str], dict[str, str]]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NETOPS_")}
        env |= {"COLUMNS": "160", "NETOPS_FRR_PREFIX": self.run_prefix, "NETOPS_DB": str(self.db)}
        return [EXE, *args], env

    @property
    def db(self) -> Path:
        return self.cwd / "netops.duckdb"

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv, env = self.argv(*args)
        proc = subprocess.run(argv, cwd=self.cwd, capture_output=True, text=True, env=env, timeout=300)
        if check and proc.returncode != 0:
            raise AssertionError(f"netops-agent {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
        assert "Traceback" not in proc.stderr
        return proc

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.db), read_only=True) as con:
            return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    reason = frr_skip_reason()
    if reason:
        pytest.skip(reason)
    c = Cli(tmp_path_factory.mktemp("frr-cli"), lab_prefix("c"), lab_prefix("r"))
    try:
        yield c
    finally:
        left: list[str] = []
        for prefix in (c.lab_prefix, c.run_prefix):
            FrrLab.down(runtime_dir_for(prefix))
            left += leftovers(prefix, runtime_dir_for(prefix))
        assert not left, f"the FRR CLI left things behind: {left}"


def namespaces(prefix: str) -> list[str]:
    return sorted(p.name for p in NETNS_DIR.glob(f"{prefix}-*"))


def test_lab_up_status_exec_inject_down(cli: Cli) -> None:
    info = cli.json("lab", "up", "--backend", "frr", "--prefix", cli.lab_prefix)
    assert info["backend"] == "frr" and info["devices"] == 6 and 0 < info["bringup_s"] < 30
    assert len(namespaces(cli.lab_prefix)) == 10  # 6 routers, 3 customer hosts, the wire
    status = cli.json("lab", "status")
    assert status["backend"] == "frr" and status["telemetry_rows"] > 0
    assert all(r["bgp_established"] == r["bgp_sessions"] > 0 for r in status["routers"])
    out = cli("lab", "exec", "leaf1", "show bgp summary").stdout
    assert "10.1.0.0" in out and "spine1" in out
    refused = cli("lab", "exec", "leaf1", "ip link set eth1 down", check=False)
    assert refused.returncode != 0 and "read-only" in refused.stdout + refused.stderr
    fault = cli.json("lab", "inject", "bgp_neighbor_shutdown", "--device", "leaf2", "--peer", "10.1.0.2")
    assert fault["type"] == "bgp_neighbor_shutdown" and fault["target"]["peer_device"] == "spine1"
    deadline = time.monotonic() + 15
    while "Idle (Admin)" not in (summary := cli("lab", "exec", "leaf2", "show bgp summary json").stdout):
        assert time.monotonic() < deadline, summary
        time.sleep(0.5)
    from netops_agent.store.truth import TruthStore

    assert "ground_truth" not in cli.json("show-db")  # the injection is not in the agent's database
    with TruthStore(cli.db.with_name(cli.db.stem + ".truth.duckdb")) as truth:
        assert [f.type for f in truth.faults("lab")] == ["bgp_neighbor_shutdown"]
    metrics = {m for (m,) in cli.query("SELECT DISTINCT metric FROM telemetry")}
    assert {"in-octets", "oper-status", "out-utilization", "bgp-session-established"} <= metrics
    removed = cli.json("lab", "down")["removed"]
    assert len(removed["namespaces"]) == 10 and removed["processes"]
    assert (
        namespaces(cli.lab_prefix) == [] and leftovers(cli.lab_prefix, runtime_dir_for(cli.lab_prefix)) == []
    )
    assert cli.query("SELECT count(*) FROM lab_state") == [(0,)]


def test_lab_down_cleans_up_after_lab_up_was_killed(cli: Cli) -> None:
    argv, env = cli.argv("lab", "up", "--backend", "frr", "--prefix", cli.lab_prefix)
    proc = subprocess.Popen(argv, cwd=cli.cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not (NETNS_DIR / f"{cli.lab_prefix}-wire").exists():  # half-way: namespaces exist
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert namespaces(cli.lab_prefix)  # the crash left the lab behind
    cli("lab", "down")
    assert leftovers(cli.lab_prefix, runtime_dir_for(cli.lab_prefix)) == []


def test_run_backend_frr_end_to_end(cli: Cli) -> None:
    scenario = cli.cwd / "two.yaml"
    cases = [
        {"id": "admin-down", "seed": 2,
         "faults": [{"type": "interface_admin_down", "target": {"device": "leaf3", "interface": "eth2"}}]},
        {"id": "link-cut", "seed": 1,
         "faults": [{"type": "link_failure", "target": {"device": "leaf1", "interface": "eth1"}}]},
    ]  # fmt: skip
    scenario.write_text(json.dumps({"name": "frr-two", "backend": "frr", "cases": cases}))  # JSON is YAML
    report = cli.json("run", "--backend", "frr", "--scenario", str(scenario))
    outcomes = {i["id"]: i for i in report["incidents"]}
    fixed, cut = outcomes["IM-0001"], outcomes["IM-0002"]
    assert (fixed["runbook"], fixed["outcome"], fixed["validated"]) == ("RB-IF-ADMIN-DOWN", "resolved", True)
    assert all(v["holds"] for v in fixed["validation"]) and fixed["time_to_mitigate_sim_s"] > 0
    assert (cut["runbook"], cut["outcome"]) == ("RB-LINK-FAILURE", "escalated")
    assert [c["network_changed"] for c in report["cases"]] == [True, False]
    commands = {c for (c,) in cli.query("SELECT command FROM tool_calls")}
    assert "show bgp summary json" in commands and any(c.startswith("ip -s -s -j link") for c in commands)
    assert cli.query("SELECT backend FROM lab_state") == [("frr",)]
    assert cli.query("SELECT count(*) FROM telemetry WHERE metric = 'oper-status' AND value = 2")[0][0] > 0
    assert namespaces(cli.run_prefix) == []  # the run brought its lab up and took it down
