"""Config translation (IOS/FRR lines -> vtysh + kernel) and command validation: no root."""

from __future__ import annotations

import pytest

from netops_agent.lab.frr.commands import CommandRejected, parse_command
from netops_agent.lab.frr.translate import (
    AclEntry,
    KernelAction,
    augment_running_config,
    parse_access_lists,
    render_nft,
    translate,
)


def test_mtu_goes_to_the_kernel_not_vtysh() -> None:
    tr = translate(["interface eth1", " mtu 9000", " no shutdown"])
    assert tr.vtysh_lines == ["interface eth1", "no shutdown"]
    assert tr.kernel == [KernelAction("mtu", "eth1", mtu=9000)]
    assert translate(["interface eth1", " no mtu"]).kernel[0].mtu == 1500


def test_access_group_binds_and_unbinds() -> None:
    tr = translate(["interface Vlan100", " ip access-group CUSTOMER-OUT out"])
    assert tr.kernel == [KernelAction("acl_bind", "Vlan100", acl="CUSTOMER-OUT", direction="out")]
    assert tr.touches_acl and tr.vtysh_lines == ["interface Vlan100"]
    tr = translate(["interface Vlan100", " no ip access-group CUSTOMER-OUT out"])
    assert tr.kernel[0].kind == "acl_unbind"


def test_ios_forms_are_translated() -> None:
    tr = translate(["interface eth1", " ip address 10.1.0.1 255.255.255.254"])
    assert tr.vtysh_lines == ["interface eth1", "ip address 10.1.0.1/31"]
    assert translate(["no ip access-list extended FOO"]).vtysh_lines == ["no access-list FOO"]


def test_remote_as_change_keeps_the_neighbor() -> None:
    tr = translate(["router bgp 65100", " no neighbor 10.1.0.6 remote-as 65007",
                    " neighbor 10.1.0.6 remote-as 65000"])  # fmt: skip
    assert tr.vtysh_lines == ["router bgp 65100", "neighbor 10.1.0.6 remote-as 65000"]
    alone = translate(["router bgp 65100", " no neighbor 10.1.0.6 remote-as 65007"])
    assert alone.vtysh_lines[-1] == "no neighbor 10.1.0.6 remote-as 65007"


def test_untranslatable_lines_are_errors() -> None:
    assert "not configurable" in translate(["interface eth1", " duplex full"]).errors[0]
    assert "control characters" in translate(["interface eth1\nreload"]).errors[0]
    assert translate(["interface eth1", " mtu 99999"]).errors
    assert translate(["ip access-list extended X"]).errors


def test_banner_lines_and_top_level_exit_are_skipped() -> None:
    tr = translate(["frr version 8.4.4", "no frr version 8.4.4", "end", "exit", "!", "hostname r1"])
    assert tr.vtysh_lines == ["hostname r1"]


def test_access_lists_to_nft() -> None:
    running = (
        "access-list CUSTOMER-OUT seq 50 deny 10.100.3.0/24\naccess-list CUSTOMER-OUT seq 100 permit any\n"
    )
    acls = parse_access_lists(running)
    assert acls == {"CUSTOMER-OUT": [AclEntry(50, "deny", "10.100.3.0/24"), AclEntry(100, "permit", "any")]}
    script = render_nft({"Vlan100": {"out": "CUSTOMER-OUT"}}, acls)
    assert 'oifname "Vlan100" ip daddr 10.100.3.0/24 counter drop' in script
    assert "chain forward" in script and "implicit deny" in script
    empty = render_nft({"Vlan100": {"out": "MISSING"}}, acls)
    assert empty.strip().splitlines() == ["table inet nops_acl", "delete table inet nops_acl"]


def test_running_config_gets_kernel_lines_back() -> None:
    text = "interface eth1\n ip address 10.1.0.0/31\nexit\n!\nend\n"
    out = augment_running_config(text, {"eth1": 9000}, {"Vlan100": {"out": "ACL"}})
    assert "interface eth1\n ip address 10.1.0.0/31\n mtu 9000\nexit" in out
    assert "interface Vlan100\n ip access-group ACL out\nexit" in out


@pytest.mark.parametrize(
    ("command", "kind"),
    [
        ("show bgp summary json", "vtysh"),
        ("show running-config", "running-config"),
        ("show logging", "logging"),
        ("ip -s -s -j link show", "ip"),
        ("ip -j route get 10.0.0.1", "ip"),
        ("ping -c 2 -W 1 -s 1472 -M do 10.0.0.1", "ping"),
        ("clear ip bgp 10.1.0.0", "vtysh"),
    ],
)
def test_supported_commands(command: str, kind: str) -> None:
    assert parse_command(command).kind == kind


@pytest.mark.parametrize(
    "command",
    [
        "ip link set eth1 down",
        "ip -n other link show",
        "ip netns exec x sh",
        "show run | include x",
        "show bgp summary; reboot",
        "ping -c 2 10.0.0.1 10.0.0.2",
        "ping -c 1000 10.0.0.1",
        "ping -I eth1;x 10.0.0.1",
        "reload",
        "configure terminal",
    ],
)
def test_rejected_commands(command: str) -> None:
    with pytest.raises(CommandRejected):
        parse_command(command)
