"""The FRR backend wired into the rest of the project, checked without root or FRR.

Registry entries for the platform `frr`, the carrier-as-light transceiver reading, the
golden-config diff on FRR's flat access lists, telemetry rows from recorded counters,
the NOC stand-in on a non-twin lab, the frr-smoke suite, and the CLI's message when the
host cannot run the lab.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from netops_agent.errors import ConfigError
from netops_agent.evaluation.harness import EvalOptions, check_options
from netops_agent.evaluation.scenario import load_suite
from netops_agent.lab.base import CommandOutput
from netops_agent.lab.frr import frr_inventory, render_frr_config
from netops_agent.lab.frr.fault_kinds import KINDS
from netops_agent.lab.frr.telemetry import BGP_METRIC, RouterRead, bgp_rows, interface_rows, to_table
from netops_agent.lab.sim.telemetry import IF_METRICS
from netops_agent.models import InjectedFault, Inventory, ToolStatus
from netops_agent.pipeline import oracle
from netops_agent.pipeline.backends import FRR_SETTLE_S as SETTLE_S
from netops_agent.pipeline.backends import check_suite, settle_seconds
from netops_agent.tools.executor import ToolExecutor
from netops_agent.tools.frr_parsers import parse_show_interfaces, parse_show_transceiver
from netops_agent.tools.golden import config_diff, remediation_lines
from netops_agent.tools.params import SectionParams
from netops_agent.tools.registry import TOOLS

SAMPLES = Path(__file__).parent / "samples"
RUNBOOKS = Path(__file__).resolve().parents[2] / "src" / "netops_agent" / "data" / "runbooks.yaml"
NO_FRR_MEANING = {"show_processes_cpu", "show_memory_statistics", "show_access_lists", "traceroute",
                  "restart_process", "set_duplex"}  # fmt: skip


def sample(name: str, **meta: Any) -> CommandOutput:
    data = json.loads((SAMPLES / name).read_text())
    return CommandOutput(ok=True, text=json.dumps(data), fmt="json", data=data, meta=meta)


def runbook_tools(fault_types: set[str]) -> set[str]:
    books = yaml.safe_load(RUNBOOKS.read_text())["runbooks"]
    tools: set[str] = set()
    for rb in books:
        if set(rb["fault_types"]) & fault_types:
            for part in ("diagnostics", "evidence", "remediation", "validation"):
                tools |= {step["tool"] for step in rb.get(part, [])}
    return tools


def test_every_tool_the_frr_runbooks_use_has_an_frr_build_and_parse() -> None:
    needed = runbook_tools(set(KINDS))
    assert {"show_transceiver", "show_config_drift", "restore_golden_section", "set_ospf_cost"} <= needed
    for name in needed:
        tool = TOOLS.get(name)
        assert "frr" in tool.build and "frr" in tool.parse, name
    for name in NO_FRR_MEANING:
        assert "frr" not in TOOLS.get(name).build, name


class FakeFrrLab:
    """Just enough of a Lab on the `frr` platform to drive the executor."""

    backend = platform = "frr"

    def __init__(self) -> None:
        self.inv = frr_inventory()
        self.commands: list[str] = []

    def inventory(self) -> Inventory:
        return self.inv

    def golden_config(self, device: str) -> str:
        return render_frr_config(self.inv, device, "8.4.4")

    def execute(self, device: str, command: str) -> CommandOutput:
        self.commands.append(command)
        return sample("ip_link_edge1.json")

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


def test_a_tool_with_no_frr_meaning_is_a_clear_error_result() -> None:
    lab = FakeFrrLab()
    ex = ToolExecutor(lab)  # type: ignore[arg-type]
    result = ex.run("show_processes_cpu", "edge1")
    assert result.status == ToolStatus.error and "no frr implementation" in result.error
    assert lab.commands == []
    ok = ex.run("show_transceiver", "edge1", interface="eth1")
    assert ok.ok and lab.commands == ["ip -j link show dev eth1"]


def test_transceiver_maps_carrier_to_light() -> None:
    rows = {r["interface"]: r for r in parse_show_transceiver(sample("ip_link_edge1.json"))}
    assert "lo" not in rows
    assert rows["eth1"]["rx_dbm"] == -40.0  # admin up, no carrier: the cable is cut
    assert rows["eth2"]["rx_dbm"] == -2.5 and rows["eth2"]["tx_dbm"] == -2.0
    shut = sample("ip_link_leaf2.json")
    down = {r["interface"]: r for r in parse_show_transceiver(shut)}["eth2"]
    assert down["rx_dbm"] is None and down["tx_dbm"] == -40.0  # laser off, receive unknown


def test_show_interfaces_reports_utilisation_like_ios() -> None:
    out = sample("ip_link_edge1.json", rates_bps={"eth2": (2_500_000, 9_800_000)},
                 bandwidth_kbps={"eth2": 10000})  # fmt: skip
    row = {r["interface"]: r for r in parse_show_interfaces(out)}["eth2"]
    assert row["output_util_pct"] == 98.0 and row["input_util_pct"] == 25.0


def test_drift_on_frr_flat_access_lists_reads_like_a_named_list() -> None:
    inv = frr_inventory()
    golden = render_frr_config(inv, "leaf2", "8.4.4")
    deny = "access-list CUSTOMER-OUT seq 50 deny 10.100.2.0/24"
    running = golden.replace("access-list CUSTOMER-OUT seq 100", f"{deny}\naccess-list CUSTOMER-OUT seq 100")
    rows = config_diff(running, golden)
    assert rows == [{"section": "access-list CUSTOMER-OUT", "op": "extra", "line": deny}]
    section = SectionParams(section="access-list CUSTOMER-OUT").section
    assert remediation_lines(running, golden, section) == [f"no {deny}"]
    assert remediation_lines(running, golden, "ip route") == []
    books = {rb["id"]: rb for rb in yaml.safe_load(RUNBOOKS.read_text())["runbooks"]}
    where = books["RB-ACL-BLOCKING"]["evidence"][1]["where"]
    assert where["section"] == "~access-list" and where["section"][1:] in rows[0]["section"]


def test_drift_on_frr_bgp_static_and_interface_sections() -> None:
    inv = frr_inventory()
    golden = render_frr_config(inv, "leaf3", "8.4.4")
    running = golden.replace("neighbor 10.1.0.12 remote-as 65000", "neighbor 10.1.0.12 remote-as 65007")
    running = running.replace(" ip ospf hello-interval 1", " ip ospf hello-interval 2", 1)
    drift = {(r["section"], r["op"], r["line"]) for r in config_diff(running, golden)}
    assert ("router bgp 65003", "extra", "neighbor 10.1.0.12 remote-as 65007") in drift
    assert ("interface eth1", "extra", "ip ospf hello-interval 2") in drift
    edge = render_frr_config(inv, "edge1", "8.4.4")
    no_static = edge.replace("ip route 198.51.100.0/24 Null0\n", "")
    assert config_diff(no_static, edge) == [
        {"section": "global", "op": "missing", "line": "ip route 198.51.100.0/24 Null0"}
    ]


def test_telemetry_rows_use_the_twins_metric_names() -> None:
    inv = frr_inventory()
    links = json.loads((SAMPLES / "ip_link_edge1.json").read_text())
    before = RouterRead("edge1", 0.0, links, {}, {})
    after_links = json.loads(json.dumps(links))
    after_links[2]["stats64"]["tx"]["bytes"] += 1_250_000  # 10 Mbit in one second on eth2
    after = RouterRead("edge1", 1.0, after_links, {"eth2": 7}, {"10.1.0.6": "Established"})
    rows = interface_rows(inv, after, before) + bgp_rows(inv, after)
    by = {(e, m): v for _, e, m, v in rows}
    assert {m for _, _, m, _ in rows} == {*IF_METRICS, BGP_METRIC}
    assert by[("eth1", "oper-status")] == 2.0 and by[("eth1", "admin-status")] == 1.0
    assert by[("eth2", "out-utilization")] == pytest.approx(100.0)
    assert by[("eth2", "out-discards")] >= 7
    assert by[("10.1.0.6", BGP_METRIC)] == 1.0 and by[("10.1.0.14", BGP_METRIC)] == 0.0
    first = interface_rows(inv, before, None)  # no rate without a previous read
    assert not any(m.endswith("utilization") for _, _, m, _ in first)
    table = to_table(rows, datetime(2026, 1, 1))
    assert table.column_names == ["ts", "device", "entity", "metric", "value"] and table.num_rows == len(rows)


class ClockOnlyLab:
    def __init__(self) -> None:
        self.inv = frr_inventory()

    def inventory(self) -> Inventory:
        return self.inv

    def now(self) -> datetime:
        return datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_oracle_raises_symptom_only_incidents_on_any_lab() -> None:
    target = {"device": "leaf2", "interface": "Vlan100"}
    fault = InjectedFault(id="F1", type="acl_blocking", target=target,
                          params={"prefix": "10.100.2.0/24", "acl": "CUSTOMER-OUT"})  # fmt: skip
    [inc] = oracle.incidents_for(ClockOnlyLab(), [fault], seed=1)  # type: ignore[arg-type]
    assert (inc.device, inc.interface, inc.prefix) == ("leaf2", "Vlan100", "10.100.2.0/24")
    assert "acl" not in inc.summary.lower() and "access" not in inc.summary.lower()


def test_frr_smoke_has_one_case_per_frr_fault() -> None:
    suite = load_suite("frr-smoke")
    assert suite.backend == "frr"
    assert sorted(f.type for c in suite.cases for f in c.faults) == sorted(KINDS)
    outcomes = {c.faults[0].type: c.expected_outcome() for c in suite.cases}
    assert outcomes.pop("link_failure") == "escalated" and set(outcomes.values()) == {"resolved"}
    check_suite(suite)
    check_options(suite, EvalOptions(backend="frr"))
    with pytest.raises(ConfigError, match="--backend frr"):
        check_options(suite, EvalOptions(backend="sim"))
    with pytest.raises(ConfigError, match="high_cpu_process"):
        check_options(load_suite("smoke"), EvalOptions(backend="frr"))


def test_symptoms_get_the_time_the_lab_timers_need() -> None:
    def fault(type_: str) -> InjectedFault:
        return InjectedFault(id="F1", type=type_, target={})

    assert settle_seconds([]) == 0.0
    assert settle_seconds([fault("route_missing")]) == SETTLE_S
    assert settle_seconds([fault("route_missing"), fault("ospf_timer_mismatch")]) > 4.0  # dead interval 4 s


def _as_nobody() -> list[str]:
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) is needed to drop root for this test")
    return [setpriv, "--reuid", "65534", "--regid", "65534", "--clear-groups"]


@pytest.mark.parametrize("args", [["lab", "up", "--backend", "frr"], ["run", "--backend", "frr"]])
def test_cli_without_root_says_what_is_missing(args: list[str]) -> None:
    exe = shutil.which("netops-agent", path=str(Path(sys.executable).parent)) or "netops-agent"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETOPS_")}
    with tempfile.TemporaryDirectory(prefix="netops-nobody-") as tmp:  # one the dropped user can reach
        Path(tmp).chmod(0o777)
        proc = subprocess.run([*_as_nobody(), exe, *args, "--db", f"{tmp}/x.duckdb"], cwd=tmp,
                              capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    assert "root privileges" in proc.stderr and "apt-get install" in proc.stderr
    assert "Traceback" not in proc.stderr
