"""The twin's ping reads its address through a memo (`render_probes._ipv4`): the same text
as `ipaddress.IPv4Address` for a good address, the IOS error for a bad one, every time."""

from __future__ import annotations

import ipaddress

from netops_agent.lab.sim import render_probes
from netops_agent.lab.sim.cli import run_command
from netops_agent.lab.sim.lab import SimLab

WORDS = ["10.0.0.1", "10.255.0.7", "0.0.0.0", "255.255.255.255", "10.0.0", "10.0.0.256", "010.0.0.1", "x", ""]


def _plain(word: str) -> str | None:
    try:
        return str(ipaddress.IPv4Address(word))
    except ValueError:
        return None


def test_memo_answers_as_ipaddress_twice() -> None:
    render_probes._ipv4.cache_clear()
    for _ in range(2):
        assert [render_probes._ipv4(w) for w in WORDS] == [_plain(w) for w in WORDS]
    assert render_probes._ipv4.cache_info().hits == len(WORDS)


def test_ping_of_a_bad_address_is_the_ios_error_every_time() -> None:
    lab = SimLab.build("small", seed=42)
    device = lab.inv.devices[0].name
    for _ in range(2):
        out = run_command(lab, device, "ping 10.0.0.256")
        assert not out.ok and out.error == "% Unrecognized host or address, or protocol not running."
    good = run_command(lab, device, f"ping {lab.inv.devices[1].loopback}")
    assert good.ok and "Success rate is" in good.text
