"""Tools: typed parameters stop injection before any device sees it; every call is recorded."""

from __future__ import annotations

import pytest

from netops_agent.errors import RegistryError
from netops_agent.lab.sim.control import sim_view
from netops_agent.lab.sim.lab import SimLab
from netops_agent.models import ToolStatus
from netops_agent.tools import TOOLS, Recorder, ToolExecutor


class ListRecorder(Recorder):
    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.changes: list[dict] = []

    def tool_call(self, row: dict) -> None:
        self.calls.append(row)

    def change(self, row: dict) -> None:
        self.changes.append(row)


@pytest.fixture
def lab() -> SimLab:
    return SimLab.build("small", 42)


INJECTIONS = [
    ("interface_no_shutdown", {"interface": "GigabitEthernet0/1; reload"}),
    ("interface_no_shutdown", {"interface": "GigabitEthernet0/1\nreload"}),
    ("show_interfaces", {"interface": "Gi0/1 | include password"}),
    ("ping", {"destination": "10.0.0.1; reload"}),
    ("bgp_neighbor_no_shutdown", {"peer": "10.0.0.1\n no router bgp 65001"}),
    ("restart_process", {"process": "SNMP ENGINE\nreload"}),
    ("restore_golden_section", {"section": "interface Gi0/1 | reload"}),
    ("set_mtu", {"interface": "GigabitEthernet0/1", "mtu": 100000}),
]


@pytest.mark.parametrize(("tool", "params"), INJECTIONS)
def test_injection_strings_never_reach_the_device(lab: SimLab, tool: str, params: dict) -> None:
    rec = ListRecorder()
    before = lab.state_hash()
    sent: list[str] = []
    real_execute, real_configure = lab.execute, lab.configure
    lab.execute = lambda d, c: sent.append(c) or real_execute(d, c)  # type: ignore[method-assign]
    lab.configure = lambda d, lines, **k: sent.extend(lines) or real_configure(d, lines)  # type: ignore[method-assign]
    result = ToolExecutor(sim_view(lab), rec).run(tool, "site1-leaf1", **params)
    assert result.status == ToolStatus.error
    assert "invalid parameters" in result.error
    assert sent == []
    assert lab.state_hash() == before
    assert rec.calls[0]["status"] == "error"


def test_show_tool_parses_and_records(lab: SimLab) -> None:
    rec = ListRecorder()
    ex = ToolExecutor(sim_view(lab), rec, incident_id="IM-1")
    result = ex.run("show_ip_bgp_summary", "site1-leaf1")
    assert result.ok and result.parsed
    assert {r["state"] for r in result.parsed} == {"Established"}
    row = rec.calls[0]
    assert row["incident_id"] == "IM-1" and row["command"] == "show ip bgp summary"
    assert row["raw_output"].startswith("BGP router identifier") and row["duration_ms"] >= 0


def test_config_tool_records_before_and_after(lab: SimLab) -> None:
    rec = ListRecorder()
    ex = ToolExecutor(sim_view(lab), rec)
    result = ex.run("set_mtu", "site1-leaf1", interface="GigabitEthernet0/0", mtu=9000)
    assert result.ok
    [change] = rec.changes
    assert "mtu 9000" in change["after_config"] and "mtu 9000" not in change["before_config"]
    assert lab.configs["site1-leaf1"].interfaces["GigabitEthernet0/0"].mtu == 9000


def test_reads_are_shared_within_one_pass_and_fresh_after_a_change_or_a_wait(lab: SimLab) -> None:
    rec = ListRecorder()
    ex = ToolExecutor(sim_view(lab), rec, reuse_reads=True)
    first = ex.run("show_interfaces", "site1-leaf1", interface="GigabitEthernet0/0")
    assert ex.run("show_interfaces", "site1-leaf1", interface="GigabitEthernet0/0") is first
    assert ex.run("show_interfaces", "site1-leaf1", interface="GigabitEthernet0/1") is not first
    assert ex.calls == 2 and len(rec.calls) == 2
    ex.run("interface_shutdown", "site1-leaf1", interface="GigabitEthernet0/0")  # a change: new pass
    after = ex.run("show_interfaces", "site1-leaf1", interface="GigabitEthernet0/0")
    assert after is not first and after.parsed[0]["link_status"] == "administratively down"
    ex.wait(10)  # time let pass: new pass
    assert ex.run("show_interfaces", "site1-leaf1", interface="GigabitEthernet0/0") is not after
    plain = ToolExecutor(sim_view(lab))  # default: every read goes to the device
    plain.run("show_ip_bgp_summary", "site1-leaf1")
    plain.run("show_ip_bgp_summary", "site1-leaf1")
    assert plain.calls == 2


def test_dry_run_changes_nothing(lab: SimLab) -> None:
    before = lab.state_hash()
    result = ToolExecutor(sim_view(lab), dry_run=True).run(
        "interface_shutdown", "site1-leaf1", interface="GigabitEthernet0/0"
    )
    assert result.status == ToolStatus.dry_run
    assert lab.state_hash() == before


def test_unreachable_device_is_a_result_not_an_exception(lab: SimLab) -> None:
    lab.cond.down_devices.append("site1-leaf2")
    lab.commit()
    result = ToolExecutor(sim_view(lab)).run("show_ip_interface_brief", "site1-leaf2")
    assert result.status == ToolStatus.unreachable


def test_unknown_tool_names_the_known_ones() -> None:
    with pytest.raises(RegistryError, match="known tools: .*show_interfaces"):
        TOOLS.get("show_everything")


def test_restore_golden_section_only_touches_that_section(lab: SimLab) -> None:
    lab.configure(
        "site1-leaf1",
        ["interface GigabitEthernet0/0", " mtu 9000", "interface GigabitEthernet0/1", " mtu 9000"],
    )
    ToolExecutor(sim_view(lab)).run(
        "restore_golden_section", "site1-leaf1", section="interface GigabitEthernet0/0"
    )
    assert lab.configs["site1-leaf1"].interfaces["GigabitEthernet0/0"].mtu == 1500
    assert lab.configs["site1-leaf1"].interfaces["GigabitEthernet0/1"].mtu == 9000
