"""The scrapli transport and `--transport ssh`: same outcomes as in process, honest failures."""

from __future__ import annotations

import socket

import pytest

from netops_agent.evaluation.harness import EvalOptions, evaluate
from netops_agent.evaluation.scenario import load_suite
from netops_agent.lab.sim.lab import SimLab
from netops_agent.lab.sim.ssh_lab import ssh_transport_for
from netops_agent.lab.ssh.transport import UNREACHABLE, SshTarget, SshTransport


@pytest.fixture(scope="module")
def served() -> SimLab:
    lab = SimLab.build("small", 42)
    lab.advance(60)
    return lab


def test_reads_and_changes_over_ssh_match_in_process(served: SimLab) -> None:
    reference = SimLab.build("small", 42)
    reference.advance(60)
    with ssh_transport_for(served) as net:
        for cmd in ("show ip interface brief", "show ip bgp summary", "sh ip int br | include Loop"):
            over_ssh, direct = net.execute("site1-leaf3", cmd), reference.execute("site1-leaf3", cmd)
            assert over_ssh.ok and over_ssh.text == direct.text
        lines = ["interface GigabitEthernet0/1", " description via-transport"]
        assert net.configure("site1-leaf3", lines).ok
        reference.configure("site1-leaf3", lines, author="netops-agent")
        bad = net.execute("site1-leaf3", "show ip bgp neighbours")
        assert not bad.ok and bad.error == reference.execute("site1-leaf3", "show ip bgp neighbours").error
        assert net.sessions_opened == 1  # one reused session for all of it
    assert served.state_hash() == reference.state_hash()
    assert served.now() == reference.now()  # session set-up costs the twin's clock nothing


def test_dead_router_and_closed_port_are_unreachable_not_errors(served: SimLab) -> None:
    served.cond.down_devices.append("site1-edge1")
    try:
        with ssh_transport_for(served) as net:
            out = net.execute("site1-edge1", "show version")
            assert (out.ok, out.reachable, out.error) == (False, False, UNREACHABLE)
    finally:
        served.cond.down_devices.remove("site1-edge1")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nobody listens here once the socket closes
    t = SshTransport({"r1": SshTarget("127.0.0.1", port, "u", "p")}, timeout_s=2, retries=1, backoff_s=0)
    out = t.execute("r1", "show version")
    assert out.reachable is False and t.sessions_opened == 0


def test_wrong_password_is_a_clear_error(served: SimLab) -> None:
    with ssh_transport_for(served) as net:
        port = net.targets["site1-leaf1"].port
        t = SshTransport({"site1-leaf1": SshTarget("127.0.0.1", port, "netops-agent", "wrong")}, timeout_s=5)
        out = t.execute("site1-leaf1", "show version")
        assert not out.ok and "Authentication failed for site1-leaf1" in out.error
        assert "wrong" not in out.error and "wrong" not in repr(t.targets)


def test_eval_smoke_over_ssh_gives_the_in_process_outcomes() -> None:
    suite = load_suite("smoke")
    runs = {t: evaluate(suite, EvalOptions(transport=t)) for t in ("inprocess", "ssh")}
    assert runs["ssh"].as_dict()["transport"] == "ssh"
    same = {k: v for k, v in runs["inprocess"].metrics.items() if k != "wall_s"}
    assert same == {k: v for k, v in runs["ssh"].metrics.items() if k != "wall_s"}
    cases = [r.as_dict()["per_case"] for r in runs.values()]
    assert cases[0] == cases[1]
    assert runs["ssh"].metrics["mitigation_success"] == 1.0
