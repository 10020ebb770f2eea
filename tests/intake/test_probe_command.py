"""The ping poller speaks each platform's ping: the tool registry's command for the
view's platform (FRR refuses IOS `ping A repeat N`; the twin refuses iputils flags)."""

from __future__ import annotations

from datetime import datetime

import pytest

from netops_agent.errors import ConfigError
from netops_agent.intake.config import load_detection
from netops_agent.intake.probes import Prober
from netops_agent.lab.base import CallTransport, CommandOutput, NetworkView
from netops_agent.lab.frr.commands import parse_command
from netops_agent.models import Inventory

LINUX_PING = (
    "PING 10.0.0.1 (10.0.0.1) 72(100) bytes of data.\n\n--- 10.0.0.1 ping statistics ---\n"
    "3 packets transmitted, 2 received, 33.3333% packet loss, time 402ms\n"
)


def _view(platform: str, sent: list[str]) -> NetworkView:
    def execute(device: str, command: str) -> CommandOutput:
        sent.append(command)
        return CommandOutput(ok=True, text=LINUX_PING)

    return NetworkView(
        backend="test", platform=platform, inventory=lambda: Inventory(devices=[], links=[]),
        golden_config=lambda d: "", transport=CallTransport(execute, lambda d, lines: execute(d, "")),
        now=datetime.now, wait=lambda s: None,
    )  # fmt: skip


def test_frr_probes_send_an_iputils_ping_the_lab_accepts() -> None:
    cfg = load_detection().probes
    sent: list[str] = []
    pct = Prober(_view("frr", sent), cfg).ping("edge1", "10.0.0.1")
    assert pct == pytest.approx(66.67, abs=0.01)
    [command] = sent
    parsed = parse_command(command)  # raises CommandRejected for IOS syntax
    assert parsed.kind == "ping" and parsed.count == cfg.count and parsed.args[-1] == "10.0.0.1"


def test_twin_probes_keep_the_ios_ping() -> None:
    sent: list[str] = []
    Prober(_view("cisco_ios", sent), load_detection().probes).ping("edge1", "10.0.0.1")
    assert sent == [f"ping 10.0.0.1 size 100 repeat {load_detection().probes.count}"]


def test_a_platform_without_a_ping_is_one_clear_error() -> None:
    with pytest.raises(ConfigError, match="no ping command for platform 'junos'"):
        Prober(_view("junos", []), load_detection().probes)
