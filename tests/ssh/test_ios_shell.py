"""The IOS vty state machine without a socket: prompts, privilege, config mode, commit."""

from __future__ import annotations

from netops_agent.lab.sim.ios_shell import IosShell
from netops_agent.lab.sim.lab import SimLab
from netops_agent.lab.sim.ssh_server import MemoryTwin


def shell() -> tuple[IosShell, SimLab]:
    lab = SimLab.build("small", 42)
    return IosShell(MemoryTwin(lab), "site1-leaf1", "alice", "s3cret"), lab


def test_enable_prompts_and_privilege() -> None:
    sh, _ = shell()
    assert sh.prompt() == "site1-leaf1>"
    assert "% Invalid input" in sh.handle("configure terminal").text  # needs privilege 15
    assert sh.handle("en").secret and sh.prompt() == "Password: "
    assert sh.handle("wrong").text == "% Access denied\n" and sh.prompt() == "site1-leaf1>"
    sh.handle("enable")
    sh.handle("s3cret")
    assert sh.prompt() == "site1-leaf1#"
    assert sh.handle("t").text.startswith("% Ambiguous command")  # terminal / traceroute
    assert sh.handle("term len 0").text == "" and sh.length == 0
    assert sh.handle("disable").text == "" and sh.prompt() == "site1-leaf1>"


def test_config_mode_checks_each_line_and_commits_once_on_end() -> None:
    sh, lab = shell()
    sh.privilege = 15
    clock = lab.now()
    sh.handle("conf t")
    assert sh.prompt() == "site1-leaf1(config)#"
    sh.handle("int gi0/1")
    assert sh.prompt() == "site1-leaf1(config-if)#" and sh.pending == ["interface GigabitEthernet0/1"]
    bad = sh.handle("frobnicate")
    assert "% Invalid input detected at '^' marker." in bad.text and len(sh.pending) == 1
    sh.handle(" description from-the-shell")
    assert lab.configs["site1-leaf1"].interfaces["GigabitEthernet0/1"].description != "from-the-shell"
    sh.handle("exit")
    assert sh.prompt() == "site1-leaf1(config)#"
    sh.handle("router ospf 1")
    assert sh.prompt() == "site1-leaf1(config-router)#"
    sh.handle("\x1a")  # Ctrl-Z commits and leaves
    assert sh.prompt() == "site1-leaf1#"
    assert lab.configs["site1-leaf1"].interfaces["GigabitEthernet0/1"].description == "from-the-shell"
    assert (lab.now() - clock).total_seconds() == 3.0  # one config push on the twin's clock
    assert any("by alice" in e.message for e in lab.events)


def test_show_is_the_twins_and_hangup_keeps_typed_config() -> None:
    sh, lab = shell()
    assert sh.handle("sh ip int br | include Loopback").text.startswith("Loopback0")
    sh.privilege = 15
    sh.handle("configure terminal")
    sh.handle("interface Loopback0")
    sh.handle("description kept")
    sh.hangup()
    assert lab.configs["site1-leaf1"].interfaces["Loopback0"].description == "kept"
