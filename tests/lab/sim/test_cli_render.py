"""The twin's IOS CLI: rendered text parses with ntc-templates, healthy and faulty.

These tests pin the parsed field names (ntc-templates returns lowercase keys) that
the agent's tools rely on, compare a fixed state byte for byte with golden files
(refresh with `pytest --update-golden`), and check that bad input never raises.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ntc_templates.parse import parse_output

from netops_agent.lab.sim.cli import run_command
from netops_agent.lab.sim.config import AclEntry
from netops_agent.lab.sim.lab import SimLab

GOLDEN = Path(__file__).parent / "golden"
LEAF = "site1-leaf1"
LEAF2 = "site1-leaf2"
SPINE = "site1-spine1"
EDGE = "site1-edge1"
GI0 = "GigabitEthernet0/0"
GI1 = "GigabitEthernet0/1"
# The topology seed decides which spine port leaf1 Gi0/0 is patched into (Gi0/3 for seed 42).
SPINE_GI = "GigabitEthernet0/3"
LINK = f"site1-leaf1:GigabitEthernet0/0--site1-spine1:{SPINE_GI}"
SPINE_IP = "10.0.0.1"  # spine1's end of leaf1 Gi0/0


@pytest.fixture
def lab() -> SimLab:
    lab = SimLab.build("small", seed=42)
    _ = lab.derived  # so commit() after a mutation logs the change
    return lab


def show(lab: SimLab, device: str, command: str) -> str:
    out = lab.execute(device, command)
    assert out.ok, out.text
    return out.text


def parse(lab: SimLab, device: str, command: str, parse_as: str | None = None) -> list[dict]:
    text = show(lab, device, command)
    return parse_output(platform="cisco_ios", command=parse_as or command, data=text)


def by(rows: list[dict], field: str) -> dict[str, dict]:
    return {r[field]: r for r in rows}


# --- healthy ---------------------------------------------------------------------------------


def test_the_topology_seed_decides_the_patching(lab: SimLab) -> None:
    from netops_agent.lab.sim.topology import generate

    link = lab.inv.link_of(LEAF, GI0)
    assert link is not None and link.id == LINK
    wirings = {tuple(lk.id for lk in generate("small", seed)[0].links) for seed in (1, 2, 3, 42)}
    assert len(wirings) == 4, "each seed patches the fabric differently"
    again = tuple(lk.id for lk in generate("small", 42)[0].links)
    assert again == tuple(lk.id for lk in lab.inv.links), "same seed, same wiring"


def test_show_interfaces_healthy(lab: SimLab) -> None:
    rows = by(parse(lab, LEAF, "show interfaces"), "interface")
    assert set(rows) == {GI0, GI1, "Loopback0", "Vlan100", "Vlan200"}
    gi = rows[GI0]
    assert (gi["link_status"], gi["protocol_status"]) == ("up", "up")
    assert gi["ip_address"] == "10.0.0.0" and gi["prefix_length"] == "31"
    assert gi["mtu"] == "1500" and gi["duplex"] == "Full-duplex" and gi["speed"] == "1000Mb/s"
    assert gi["media_type"] == "RJ45" and gi["bandwidth"] == "1000000 Kbit"
    assert gi["description"] == "to site1-spine1 GigabitEthernet0/3"
    assert gi["crc"] == "0" and gi["input_errors"] == "0" and gi["output_errors"] == "0"
    assert gi["queue_output_drops"] == "0" and gi["queue_drops"] == "0"
    assert int(gi["input_rate"]) > 0 and int(gi["input_packets"]) > 0
    assert re.fullmatch(r"[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}", gi["mac_address"])
    one = parse(lab, LEAF, "sh int Gi0/1", parse_as="show interfaces GigabitEthernet0/1")
    assert [r["interface"] for r in one] == [GI1]


def test_show_interfaces_status_and_brief_healthy(lab: SimLab) -> None:
    status = by(parse(lab, LEAF, "show interfaces status"), "port")
    assert set(status) == {"Gi0/0", "Gi0/1"}
    assert status["Gi0/0"]["status"] == "connected"
    assert status["Gi0/0"]["duplex"] == "a-full" and status["Gi0/0"]["vlan_id"] == "routed"
    brief = by(parse(lab, LEAF, "sh ip int br", parse_as="show ip interface brief"), "interface")
    assert brief[GI0] == {"interface": GI0, "ip_address": "10.0.0.0", "status": "up", "proto": "up"}
    assert brief["Loopback0"]["ip_address"] == "10.255.0.3"


def test_show_interfaces_description_and_terminal(lab: SimLab) -> None:
    lab.configs[LEAF].interfaces[GI0].shutdown = True
    lab.commit()
    rows = by(parse(lab, LEAF, "show interfaces description"), "port")
    assert rows["Gi0/0"] == {
        "port": "Gi0/0",
        "status": "admin down",
        "protocol": "down",
        "description": "to site1-spine1 GigabitEthernet0/3",
    }
    assert rows["Lo0"]["description"] == ""
    assert run_command(lab, LEAF, "terminal length 0").text == ""


def test_bgp_ospf_route_healthy(lab: SimLab) -> None:
    bgp = by(parse(lab, LEAF, "show ip bgp summary"), "bgp_neighbor")
    assert set(bgp) == {"10.0.0.1", "10.0.0.3"}
    row = bgp["10.0.0.1"]
    assert row["router_id"] == "10.255.0.3" and row["local_as"] == "65001"
    assert row["neighbor_as"] == "65100" and row["state_or_prefixes_received"] == "8"
    ospf = by(parse(lab, LEAF, "show ip ospf neighbor"), "interface")
    assert ospf[GI0]["state"] == "FULL/  -" and ospf[GI0]["neighbor_id"] == "10.255.0.1"
    assert ospf[GI0]["ip_address"] == SPINE_IP and re.fullmatch(r"00:00:\d\d", ospf[GI0]["dead_time"])
    routes = parse(lab, EDGE, "show ip route")
    found = {(r["protocol"], r["network"], r["prefix_length"]) for r in routes}
    assert ("S", "198.18.0.0", "24") in found  # the edge's service route
    assert ("B", "10.100.0.0", "24") in found and ("O", "10.255.0.3", "32") in found
    ospf_route = next(r for r in routes if r["network"] == "10.255.0.3")
    assert ospf_route["distance"] == "110" and ospf_route["nexthop_if"].startswith("Gigabit")
    assert ospf_route["nexthop_ip"] and ospf_route["metric"]
    static = next(r for r in routes if r["protocol"] == "S")
    assert static["nexthop_ip"] == "100.64.0.1" and static["distance"] == "1"


def test_show_ip_route_entry(lab: SimLab) -> None:
    text = show(lab, LEAF, "show ip route 10.100.2.77")
    assert text.startswith("Routing entry for 10.100.2.0/24\n")
    assert 'Known via "bgp 65001"' in text
    assert show(lab, LEAF, "show ip route 192.0.2.1") == "% Network not in table\n"
    bgp_only = parse(lab, LEAF, "show ip route bgp")
    assert bgp_only and {r["protocol"] for r in bgp_only} == {"B"}


def test_processes_cpu_version_access_lists_healthy(lab: SimLab) -> None:
    procs = parse(lab, LEAF, "show processes cpu sorted")
    assert int(procs[0]["cpu_usage_5_sec"]) < 40
    assert {
        "process_pid",
        "process_name",
        "process_cpu_usage_5_sec",
        "cpu_usage_1_min",
        "cpu_usage_5_min",
    } <= set(procs[0])
    unsorted = parse(lab, LEAF, "show processes cpu")
    assert [int(p["process_pid"]) for p in unsorted] == sorted(int(p["process_pid"]) for p in unsorted)
    ver = parse(lab, LEAF, "show version")[0]
    assert ver["hostname"] == LEAF and ver["version"] == "15.9(3)M4" and ver["uptime_weeks"]
    acl = parse(lab, LEAF, "show access-lists")
    assert acl[0]["name"] == "CUSTOMER-OUT" and acl[0]["action"] == "permit"
    assert acl[0]["sn"] == "100" and int(acl[0]["matches"]) > 0


def test_ping_and_traceroute_healthy(lab: SimLab) -> None:
    ping = parse(lab, LEAF, "ping 10.100.2.1")[0]
    assert ping["success_pct"] == "100" and ping["sent_qty"] == "5"
    assert ping["response_stream"] == ["!!!!!"] and int(ping["rtt_avg"]) >= 1
    big = parse(lab, LEAF, "ping 10.255.0.7 size 1500 repeat 10 df-bit")[0]
    assert big["success_qty"] == "10" and big["sent_type"] == "1500-byte ICMP Echos"
    hops = parse(lab, LEAF, "traceroute 10.255.0.7")
    assert [h["hop_num"] for h in hops] == ["1", "2"]
    assert hops[-1]["ip_address"] == "10.255.0.7" and len(hops[0]["rtt_response"]) == 3


def test_running_config_views(lab: SimLab) -> None:
    text = show(lab, LEAF, "show running-config")
    head, body = text.split("\n", 3)[2], text.split("\n", 3)[3]
    assert head == f"Current configuration : {len(body.encode())} bytes"
    assert "hostname site1-leaf1" in body and body.endswith("end\n")
    sec = show(lab, LEAF, "sh run | section router bgp")
    assert sec.startswith("router bgp 65001\n") and " neighbor 10.0.0.1 remote-as 65100" in sec
    itf = show(lab, LEAF, "show running-config interface GigabitEthernet 0/1")
    assert "interface GigabitEthernet0/1\n" in itf and "interface GigabitEthernet0/0" not in itf
    inc = show(lab, LEAF, "show ip interface brief | include Vlan")
    assert inc.count("\n") == 2


def test_memory_statistics_tracks_leak(lab: SimLab) -> None:
    def used() -> int:
        text = show(lab, LEAF, "show memory statistics")
        return int(re.search(r"^Processor\s+\S+\s+(\d+)\s+(\d+)", text, re.M).group(2))

    before = used()
    lab.cond.mem_leak[LEAF] = {"rate": 0.5, "since": lab.clock.isoformat()}
    lab.commit()
    lab.advance(600)
    assert used() > before


# --- faulty states ---------------------------------------------------------------------------


def test_interface_admin_down(lab: SimLab) -> None:
    lab.configs[LEAF].interfaces[GI0].shutdown = True
    lab.commit()
    gi = by(parse(lab, LEAF, "show interfaces"), "interface")[GI0]
    assert (gi["link_status"], gi["protocol_status"]) == ("administratively down", "down")
    assert by(parse(lab, LEAF, "show ip interface brief"), "interface")[GI0]["status"] == (
        "administratively down"
    )
    assert by(parse(lab, LEAF, "show interfaces status"), "port")["Gi0/0"]["status"] == "disabled"
    peer = by(parse(lab, SPINE, "show interfaces"), "interface")[SPINE_GI]
    assert (peer["link_status"], peer["protocol_status"]) == ("down", "down")
    bgp = by(parse(lab, LEAF, "show ip bgp summary"), "bgp_neighbor")
    assert bgp[SPINE_IP]["state_or_prefixes_received"] == "Active"
    assert re.fullmatch(r"00:00:\d\d", bgp[SPINE_IP]["up_down"])
    assert GI0 not in by(parse(lab, LEAF, "show ip ospf neighbor"), "interface")
    logs = parse(lab, LEAF, "show logging")
    tags = [(r["facility"], r["severity"], r["mnemonic"]) for r in logs]
    assert ("LINK", "5", "CHANGED") in tags and ("BGP", "5", "ADJCHANGE") in tags
    assert any("administratively down" in " ".join(r["message"]) for r in logs)


def test_link_failure_both_ends_down_no_light(lab: SimLab) -> None:
    lab.cond.cut_links.append(LINK)
    lab.commit()
    for dev, port in ((LEAF, GI0), (SPINE, SPINE_GI)):
        gi = by(parse(lab, dev, "show interfaces"), "interface")[port]
        assert (gi["link_status"], gi["protocol_status"]) == ("down", "down")
        assert gi["duplex"] == "Auto-duplex"
    assert by(parse(lab, LEAF, "show interfaces status"), "port")["Gi0/0"]["status"] == "notconnect"
    optics = by(
        parse(lab, LEAF, "show interfaces transceiver", parse_as="show interface transceiver"),
        "interface",
    )
    assert optics["Gi0/0"]["rx_pwr"] == "-40.0" and float(optics["Gi0/1"]["rx_pwr"]) > -4


def test_err_disabled_port(lab: SimLab) -> None:
    lab.cond.err_disabled[f"{LEAF}|{GI1}"] = {"cause": "bpduguard"}
    lab.commit()
    status = by(parse(lab, LEAF, "show interfaces status"), "port")
    assert status["Gi0/1"]["status"] == "err-disabled"
    gi = by(parse(lab, LEAF, "show interfaces"), "interface")[GI1]
    assert (gi["link_status"], gi["protocol_status"]) == ("down", "down (err-disabled)")
    brief = by(parse(lab, LEAF, "show ip interface brief"), "interface")[GI1]
    assert (brief["status"], brief["proto"]) == ("down", "down")


def test_optic_degradation_crc_rising_low_rx(lab: SimLab) -> None:
    lab.cond.optic_rx_dbm[f"{LEAF}|{GI0}"] = -14.5
    lab.commit()
    first = by(parse(lab, LEAF, "show interfaces"), "interface")[GI0]
    lab.advance(30)
    second = by(parse(lab, LEAF, "show interfaces"), "interface")[GI0]
    assert int(second["crc"]) > int(first["crc"]) > 0
    assert int(second["input_errors"]) >= int(second["crc"])
    optic = parse(lab, LEAF, f"show interfaces {GI0} transceiver", parse_as="show interface transceiver")
    assert optic == [
        {
            "interface": "Gi0/0",
            "temperature": optic[0]["temperature"],
            "voltage": optic[0]["voltage"],
            "current": optic[0]["current"],
            "tx_pwr": optic[0]["tx_pwr"],
            "rx_pwr": "-14.5",
        }
    ]
    peer = by(parse(lab, SPINE, "show interfaces"), "interface")[SPINE_GI]
    assert peer["crc"] == "0"


def test_duplex_mismatch_late_collisions(lab: SimLab) -> None:
    lab.configs[LEAF].interfaces[GI0].duplex = "full"  # the spine end stays auto -> half
    lab.commit()
    mine = by(parse(lab, LEAF, "show interfaces"), "interface")[GI0]
    first = by(parse(lab, SPINE, "show interfaces"), "interface")[SPINE_GI]
    lab.advance(30)
    second = by(parse(lab, SPINE, "show interfaces"), "interface")[SPINE_GI]
    assert mine["duplex"] == "Full-duplex" and first["duplex"] == "Half-duplex"
    assert int(second["output_errors"]) > int(first["output_errors"])  # late collisions
    assert "late collision" in show(lab, SPINE, f"show interfaces {SPINE_GI}")
    status = by(parse(lab, SPINE, "show interfaces status"), "port")["Gi0/3"]
    assert status["duplex"] == "a-half"


def test_mtu_mismatch_exstart_and_big_ping_fails(lab: SimLab) -> None:
    lab.configs[LEAF].interfaces[GI0].mtu = 1400
    lab.commit()
    assert by(parse(lab, LEAF, "show interfaces"), "interface")[GI0]["mtu"] == "1400"
    ospf = by(parse(lab, LEAF, "show ip ospf neighbor"), "interface")
    assert ospf[GI0]["state"] == "EXSTART/  -" and ospf[GI1]["state"] == "FULL/  -"
    small = parse(lab, LEAF, f"ping {SPINE_IP}")[0]
    big = parse(lab, LEAF, f"ping {SPINE_IP} size 1500 df-bit")[0]
    assert small["success_pct"] == "100" and big["success_pct"] == "0"


def test_bgp_states(lab: SimLab) -> None:
    bgp_cfg = lab.configs[LEAF].bgp
    bgp_cfg.neighbors[SPINE_IP].shutdown = True
    bgp_cfg.neighbors["10.0.0.3"].remote_as = 65999
    lab.commit()
    rows = by(parse(lab, LEAF, "show ip bgp summary"), "bgp_neighbor")
    assert rows[SPINE_IP]["state_or_prefixes_received"] == "Idle (Admin)"
    assert rows["10.0.0.3"]["state_or_prefixes_received"] == "Idle"
    assert rows["10.0.0.3"]["neighbor_as"] == "65999"
    assert show(lab, LEAF, "show running-config | include shutdown") == (f" neighbor {SPINE_IP} shutdown\n")
    logs = parse(lab, LEAF, "show logging")
    assert any(r["mnemonic"] == "NOTIFICATION" for r in logs)


def test_bgp_max_prefix(lab: SimLab) -> None:
    lab.cond.peer_prefixes[f"{LEAF}|{SPINE_IP}"] = 6000
    lab.commit()
    rows = by(parse(lab, LEAF, "show ip bgp summary"), "bgp_neighbor")
    assert rows[SPINE_IP]["state_or_prefixes_received"] == "Idle (PfxCt)"
    logs = parse(lab, LEAF, "show logging")
    assert any(r["mnemonic"] == "MAXPFXEXCEED" for r in logs)


def test_route_missing(lab: SimLab) -> None:
    lab.configs[EDGE].statics.clear()
    lab.commit()
    routes = parse(lab, EDGE, "show ip route")
    assert not [r for r in routes if r["network"] == "198.18.0.0"]
    assert show(lab, EDGE, "show ip route static").endswith("Gateway of last resort is not set\n\n")
    assert not [r for r in parse(lab, LEAF, "show ip route") if r["network"] == "198.18.0.0"]


def test_acl_blocking_deny_hits_rise(lab: SimLab) -> None:
    entries = lab.configs[LEAF2].acls["CUSTOMER-OUT"]
    entries.append(AclEntry(10, "deny", "ip", "any", "10.100.2.0 0.0.0.255"))
    lab.commit()
    first = by(parse(lab, LEAF2, "show access-lists CUSTOMER-OUT"), "sn")
    lab.advance(30)
    second = by(parse(lab, LEAF2, "show access-lists"), "sn")
    assert second["10"]["action"] == "deny" and second["10"]["destination"] == "10.100.2.0 0.0.0.255"
    assert int(second["10"]["matches"]) > int(first["10"]["matches"]) > 0
    assert int(second["100"]["matches"]) >= int(first["100"]["matches"])
    ping = parse(lab, LEAF, "ping 10.100.2.10")[0]
    assert ping["success_pct"] == "0" and ping["response_stream"] == ["U.U.U"]
    hops = parse(lab, LEAF, "traceroute 10.100.2.10")
    assert hops[-1]["rtt_response"] == ["!A", "!A", "!A"]


def test_high_cpu_process(lab: SimLab) -> None:
    lab.cond.cpu_hogs[LEAF] = {"SNMP ENGINE": 85.0}
    lab.commit()
    procs = parse(lab, LEAF, "show processes cpu sorted")
    assert int(procs[0]["cpu_usage_5_sec"]) >= 90
    assert procs[0]["process_name"] == "SNMP ENGINE"
    assert float(procs[0]["process_cpu_usage_5_sec"]) > 80


def test_congestion_output_drops(lab: SimLab) -> None:
    lab.cond.extra_load[LINK] = 1.0
    lab.commit()
    first = by(parse(lab, LEAF, "show interfaces"), "interface")[GI0]
    lab.advance(30)
    second = by(parse(lab, LEAF, "show interfaces"), "interface")[GI0]
    assert int(second["queue_output_drops"]) > int(first["queue_output_drops"]) > 0
    assert "txload 255/255" in show(lab, LEAF, f"show interfaces {GI0}")


def test_unreachable_destination_traceroute_and_ping(lab: SimLab) -> None:
    ping = parse(lab, LEAF, "ping 192.0.2.9 repeat 4")[0]
    assert ping["success_qty"] == "0" and ping["sent_qty"] == "4"
    hops = parse(lab, LEAF, "traceroute 192.0.2.9")
    assert hops and all(h["rtt_response"] == ["*", "*", "*"] for h in hops)


# --- counters, bad input, golden -------------------------------------------------------------


def test_counters_monotonic_across_reads(lab: SimLab) -> None:
    fields = ("input_packets", "output_packets", "crc", "input_errors", "queue_output_drops")
    first = by(parse(lab, LEAF, "show interfaces"), "interface")
    lab.advance(20)
    second = by(parse(lab, LEAF, "show interfaces"), "interface")
    for name, row in second.items():
        for f in fields:
            assert int(row[f]) >= int(first[name][f]), (name, f)
    assert int(second[GI0]["input_packets"]) > int(first[GI0]["input_packets"])


@pytest.mark.parametrize(
    "command",
    [
        "show foo",
        "sh ipx",
        "show interfaces Gi9/9",
        "show ip route 10.0.0.300",
        "ping 10.0.0.1 size 5",
        "ping 10.0.0.1 repeat x",
        "ping 10.0.0.1 bogus",
        "ping 10.0.0.1 size",
        "traceroute 10.0.0.1 extra",
        "show ip bgp summary extra",
        "show run | frobnicate x",
        "show run | include [",
        "configure terminal now",
    ],
)
def test_invalid_input(lab: SimLab, command: str) -> None:
    out = run_command(lab, LEAF, command)
    assert out.ok is False
    assert "% Invalid input detected at '^' marker." in out.text
    assert out.text.splitlines()[0].strip() == "^"


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("ping not-an-ip", "% Unrecognized host or address, or protocol not running."),
        ("show i", '% Ambiguous command:  "show i"'),
        ("show ip", "% Incomplete command."),
    ],
)
def test_other_cli_errors(lab: SimLab, command: str, message: str) -> None:
    out = run_command(lab, LEAF, command)
    assert out.ok is False and out.text.strip() == message


def test_empty_command_is_ok(lab: SimLab) -> None:
    assert run_command(lab, LEAF, "   ").ok


GOLDEN_CASES = [
    (LEAF, "show interfaces"),
    (LEAF, "show interfaces status"),
    (LEAF, "show ip interface brief"),
    (LEAF, "show ip bgp summary"),
    (LEAF, "show ip ospf neighbor"),
    (EDGE, "show ip route"),
    (LEAF, "show ip route 10.100.2.1"),
    (LEAF, "show logging"),
    (LEAF, "show processes cpu sorted"),
    (LEAF, "show memory statistics"),
    (LEAF, "show access-lists"),
    (LEAF, "show running-config"),
    (LEAF, "show version"),
    (LEAF, "show interfaces transceiver"),
    (LEAF, "ping 10.100.2.1"),
    (LEAF, "traceroute 10.100.2.10"),
]


def _slug(device: str, command: str) -> str:
    return f"{device}__{re.sub(r'[^A-Za-z0-9]+', '_', command).strip('_')}.txt"


@pytest.mark.parametrize(("device", "command"), GOLDEN_CASES)
def test_golden(device: str, command: str, update_golden: bool) -> None:
    lab = SimLab.build("small", seed=42)
    if command == "show logging":  # give the buffer something to show
        _ = lab.derived
        lab.configs[LEAF].interfaces[GI1].shutdown = True
        lab.commit()
        lab.clock += timedelta(seconds=42)
        lab.configs[LEAF].interfaces[GI1].shutdown = False
        lab.commit()
    out = run_command(lab, device, command)
    assert out.ok, out.text
    path = GOLDEN / _slug(device, command)
    if update_golden or not path.exists():
        path.write_text(out.text)
        if not update_golden:
            pytest.fail(f"golden file {path.name} was missing; written, re-run to compare")
    assert out.text == path.read_text()


WORDS = [
    "show",
    "sh",
    "ip",
    "int",
    "interfaces",
    "Gi0/0",
    "gi",
    "0/1",
    "status",
    "brief",
    "bgp",
    "summary",
    "ospf",
    "neighbor",
    "route",
    "10.0.0.1",
    "999.1.1.1",
    "logging",
    "processes",
    "cpu",
    "sorted",
    "memory",
    "statistics",
    "access-lists",
    "running-config",
    "interface",
    "version",
    "transceiver",
    "ping",
    "traceroute",
    "size",
    "repeat",
    "df-bit",
    "source",
    "Loopback0",
    "1500",
    "0",
    "-1",
    "|",
    "include",
    "section",
    "begin",
    "exclude",
    "(",
    "x",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(WORDS), min_size=0, max_size=7))
def test_any_word_salad_never_raises(lab: SimLab, words: list[str]) -> None:
    out = run_command(lab, LEAF, " ".join(words))
    assert isinstance(out.text, str)
    assert out.ok or out.text.startswith(("%", " "))
