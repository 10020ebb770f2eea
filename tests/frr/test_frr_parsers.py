"""FRR parsers on recorded outputs (tests/frr/samples/): no root, no FRR needed.

The samples were recorded from a live lab by `record_samples.py`; each test pins
the normalised shape the agent relies on (the same shape `tools/ios.py` returns).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from netops_agent.lab.base import CommandOutput
from netops_agent.tools.frr_parsers import (
    FRR_TOOLS,
    FrrParseError,
    build_ping,
    config_section,
    parse_ping,
    parse_show_interfaces,
    parse_show_interfaces_status,
    parse_show_ip_bgp_summary,
    parse_show_ip_interface_brief,
    parse_show_ip_ospf_neighbor,
    parse_show_ip_route,
    parse_show_logging,
    parse_show_running_config,
)

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str, **meta: Any) -> CommandOutput:
    text = (SAMPLES / name).read_text()
    if name.endswith(".json"):
        return CommandOutput(ok=True, text=text, fmt="json", data=json.loads(text), meta=meta)
    return CommandOutput(ok=True, text=text, meta=meta)


def by(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {row[key]: row for row in rows}


def test_every_required_tool_has_a_builder_and_parser() -> None:
    required = {"show_interfaces", "show_ip_interface_brief", "show_ip_bgp_summary",
                "show_ip_ospf_neighbor", "show_ip_route", "show_running_config", "ping",
                "show_logging"}  # fmt: skip
    assert required <= set(FRR_TOOLS)
    for builder, parser in FRR_TOOLS.values():
        assert callable(builder) and callable(parser)


def test_show_interfaces_admin_down_mtu_and_rates() -> None:
    meta = json.loads((SAMPLES / "ip_link_leaf2.meta.json").read_text())
    rows = by(parse_show_interfaces(sample("ip_link_leaf2.json", **meta)), "interface")
    assert rows["eth2"]["link_status"] == "administratively down"
    assert rows["eth2"]["protocol_status"] == "down"
    assert rows["eth1"]["mtu"] == 9000
    assert rows["eth1"]["link_status"] == rows["eth1"]["protocol_status"] == "up"
    eth1 = rows["eth1"]
    assert [eth1["input_rate_bps"], eth1["output_rate_bps"]] == meta["rates_bps"]["eth1"]
    assert rows["eth1"]["bandwidth_kbps"] == 10000
    assert rows["eth1"]["description"] == "to spine1:eth2"
    expected_keys = {"interface", "link_status", "protocol_status", "mtu", "duplex", "input_errors",
                     "crc", "output_drops", "input_rate_bps", "output_rate_bps"}  # fmt: skip
    assert all(expected_keys <= set(r) for r in rows.values())


def test_show_interfaces_cut_cable_is_down_not_admin_down() -> None:
    out = sample("ip_link_edge1.json")
    rows = by(parse_show_interfaces(out), "interface")
    assert (rows["eth1"]["link_status"], rows["eth1"]["protocol_status"]) == ("down", "down")
    raw = {r["ifname"]: r for r in out.data}
    assert rows["eth1"]["output_drops"] == raw["eth1"]["stats64"]["tx"]["dropped"]
    assert rows["eth2"]["link_status"] == "up"


def test_show_interfaces_adds_qdisc_drops() -> None:
    out = sample("ip_link_edge1.json", qdisc_drops={"eth2": 40})
    assert by(parse_show_interfaces(out), "interface")["eth2"]["output_drops"] == 40


def test_show_ip_interface_brief() -> None:
    rows = by(parse_show_ip_interface_brief(sample("ip_addr_leaf1.json")), "interface")
    assert rows["lo"]["ip_address"] == "10.255.0.11"  # 127.0.0.1 is skipped
    assert rows["eth1"] == {"interface": "eth1", "ip_address": "10.1.0.1", "status": "up", "proto": "up"}
    assert rows["Vlan100"]["ip_address"] == "10.100.1.1"


def test_bgp_summary_healthy() -> None:
    rows = parse_show_ip_bgp_summary(sample("bgp_summary_healthy.json"))
    assert [r["neighbor"] for r in rows] == ["10.1.0.1", "10.1.0.3", "10.1.0.5", "10.1.0.7"]
    assert all(r["state"] == "Established" for r in rows)
    assert all(isinstance(r["prefixes_received"], int) for r in rows)
    assert rows[0]["prefixes_received"] == 1
    assert rows[0]["remote_as"] == 65001 and rows[0]["local_as"] == 65000


def test_bgp_summary_admin_shutdown_and_bad_as() -> None:
    rows = by(parse_show_ip_bgp_summary(sample("bgp_summary_faults.json")), "neighbor")
    assert rows["10.1.0.0"]["state"] == "Idle (Admin)"
    assert rows["10.1.0.0"]["prefixes_received"] is None
    assert rows["10.1.0.8"]["state"] == "Idle"
    assert rows["10.1.0.8"]["remote_as"] == 65007


def test_ospf_neighbors_full_and_exstart() -> None:
    full = parse_show_ip_ospf_neighbor(sample("ospf_neighbor_full.json"))
    assert {r["state"] for r in full} == {"FULL"}
    assert full[0] == {"neighbor_id": "10.255.0.11", "state": "FULL", "address": "10.1.0.1",
                       "interface": "eth1"}  # fmt: skip
    stuck = by(parse_show_ip_ospf_neighbor(sample("ospf_neighbor_exstart.json")), "interface")
    assert stuck["eth2"]["state"] == "EXSTART"


def test_show_ip_route_protocols_and_ecmp() -> None:
    rows = parse_show_ip_route(sample("ip_route_leaf1.json"))
    codes = {r["protocol"] for r in rows}
    assert {"C", "O", "B"} <= codes
    connected = [r for r in rows if r["network"] == "10.1.0.0" and r["prefixlen"] == 31]
    assert connected == [{"protocol": "C", "network": "10.1.0.0", "prefixlen": 31,
                          "nexthop_ip": "", "nexthop_if": "eth1"}]  # fmt: skip
    bgp = [r for r in rows if r["protocol"] == "B"]
    assert bgp and all(r["nexthop_ip"] for r in bgp)


def test_show_ip_route_static_null0() -> None:
    rows = parse_show_ip_route(sample("ip_route_edge1.json"))
    service = [r for r in rows if r["network"] == "198.51.100.0"]
    assert service == [{"protocol": "S", "network": "198.51.100.0", "prefixlen": 24,
                        "nexthop_ip": "", "nexthop_if": "Null0"}]  # fmt: skip


def test_running_config_and_sections() -> None:
    out = sample("running_config_leaf1.txt")
    assert parse_show_running_config(out)["text"] == out.text
    eth1 = parse_show_running_config(out, {"section": "interface eth1"})["text"]
    assert eth1.splitlines()[0] == "interface eth1" and " mtu 1500" in eth1
    assert "router bgp" not in eth1
    assert config_section(out.text, "router bgp 65001").startswith("router bgp 65001")
    assert config_section(out.text, "router ospf 1").startswith("router ospf")
    acl = config_section(out.text, "ip access-list extended CUSTOMER-OUT")
    assert acl == "access-list CUSTOMER-OUT seq 100 permit any"


def test_ping_success_failure_unreachable() -> None:
    ok = parse_ping(sample("ping_ok.txt"))
    assert ok["sent"] == ok["received"] == 3 and ok["success_pct"] == 100.0
    avg = float(sample("ping_ok.txt").text.split("rtt min/avg/max/mdev = ")[1].split("/")[1])
    assert ok["rtt_avg_ms"] == avg and ok["stream"] == "!!!"
    fail = parse_ping(sample("ping_fail.txt"))
    assert (fail["sent"], fail["received"], fail["success_pct"], fail["rtt_avg_ms"]) == (3, 0, 0.0, None)
    unreachable = parse_ping(sample("ping_unreachable.txt", count=2))
    assert unreachable == {"sent": 2, "received": 0, "success_pct": 0.0, "rtt_avg_ms": None, "stream": ".."}


def test_ping_builder_maps_ios_size_and_df() -> None:
    cmd = build_ping({"destination": "10.0.0.1", "size": 1500, "count": 2, "df": True})
    assert cmd == "ping -c 2 -W 1 -i 0.2 -s 1472 -M do 10.0.0.1"
    assert build_ping({"destination": "10.0.0.1"}).endswith("-M dont 10.0.0.1")


def test_logging_mnemonics() -> None:
    rows = parse_show_logging(sample("logging_leaf2.txt"))
    mnemonics = {r["mnemonic"] for r in rows}
    assert {"BGP-5-ADJCHANGE", "OSPF-5-ADJCHG", "SYS-5-CONFIG_I"} <= mnemonics
    config = [r for r in rows if r["mnemonic"] == "SYS-5-CONFIG_I"]
    assert "mtu 9000" in config[0]["message"]
    assert all(set(r) >= {"timestamp", "mnemonic", "message"} for r in rows)
    assert rows[0]["timestamp"][:3].isalpha()  # "Nov 25 17:55:46", as the twin prints


def test_interfaces_status() -> None:
    rows = by(parse_show_interfaces_status(sample("ip_link_leaf2.json")), "interface")
    assert rows["eth2"]["status"] == "disabled" and rows["eth1"]["status"] == "connected"


def test_failed_output_raises_parse_error() -> None:
    with pytest.raises(FrrParseError, match="command failed"):
        parse_show_ip_bgp_summary(CommandOutput(ok=False, text="", error="bgpd is not running"))
    with pytest.raises(FrrParseError, match="expected JSON"):
        parse_show_ip_ospf_neighbor(CommandOutput(ok=True, text="% Unknown command"))
