"""The FRR lab profile and its golden configs: no root needed."""

from __future__ import annotations

import ipaddress
import os
import re
from collections import Counter

import pytest

from netops_agent.errors import BackendUnavailableError, LabError
from netops_agent.lab.frr import check_prerequisites, frr_inventory, render_frr_config
from netops_agent.lab.frr.netns import plan
from netops_agent.lab.frr.topology import PROFILES


@pytest.mark.parametrize(("profile", "routers"), [("small", 6), ("medium", 7), ("large", 8)])
def test_profiles(profile: str, routers: int) -> None:
    inv = frr_inventory(profile=profile)
    roles = Counter(d.role for d in inv.devices)
    assert len(inv.devices) == routers and roles["spine"] == 2 and roles["edge"] == 1
    assert len(inv.links) == 2 * (routers - 2)
    assert len(inv.bgp_sessions) == 2 * len(inv.links)


def test_addressing_and_asns() -> None:
    inv = frr_inventory()
    spines = {d.asn for d in inv.devices if d.role == "spine"}
    others = [d.asn for d in inv.devices if d.role != "spine"]
    assert len(spines) == 1 and len(set(others)) == len(others) and not spines & set(others)
    for link in inv.links:
        assert ipaddress.ip_network(link.subnet).prefixlen == 31
    for i in inv.interfaces:
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]{0,14}", i.name)
        if i.kind == "loopback":
            assert i.name == "lo" and i.prefixlen == 32
    assert inv.prefixes["edge1"] == ["198.51.100.0/24"]
    assert all(len(p) == 1 and p[0].endswith("/24") for p in inv.prefixes.values())
    assert frr_inventory(seed=7) == inv  # deterministic


def test_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(LabError, match="small"):
        frr_inventory(profile="huge")
    assert set(PROFILES) == {"small", "medium", "large"}


def test_golden_config_lines() -> None:
    inv = frr_inventory()
    edge = render_frr_config(inv, "edge1")
    assert "ip route 198.51.100.0/24 Null0" in edge and "  network 198.51.100.0/24" in edge
    leaf = render_frr_config(inv, "leaf1", frr_version="8.4.4")
    assert leaf.startswith("frr version 8.4.4\n")
    for line in (" bgp log-neighbor-changes", " no bgp ebgp-requires-policy",
                 " neighbor 10.1.0.0 remote-as 65000", " ip ospf hello-interval 1",
                 " ip ospf dead-interval 4", " mtu 1500", " ip access-group CUSTOMER-OUT out",
                 "  network 10.100.1.0/24"):  # fmt: skip
        assert line in leaf.splitlines()


def test_plan_names_everything_with_the_prefix() -> None:
    state = plan(frr_inventory(), "/tmp/x", "nops-t", "now")
    assert all(ns.startswith("nops-t-") for ns in state.namespaces())
    assert state.routers["leaf1"].dir == "/var/run/frr/nops-t-leaf1"
    assert state.hosts["leaf1"].ip == "10.100.1.10"
    with pytest.raises(LabError):
        plan(frr_inventory(), "/tmp/x", "Bad Prefix!", "now")


def test_prerequisite_error_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(BackendUnavailableError) as exc:
        check_prerequisites()
    message = str(exc.value)
    assert "root" in message and "apt-get install" in message
