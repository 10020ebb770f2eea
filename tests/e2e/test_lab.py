"""The interactive lab: up, inject, look around with show commands, solve, down."""

from __future__ import annotations

from tests.e2e.conftest import Cli


def test_lab_session(cli: Cli) -> None:
    info = cli.json("lab", "up", "--profile", "small")
    assert info["devices"] == 8
    status = cli.json("lab", "status")
    assert all(d["reachable"] for d in status["devices"])
    cli("lab", "inject", "bgp_neighbor_shutdown", "--device", "site1-leaf1", "--peer", "10.0.0.1")
    out = cli("lab", "exec", "site1-leaf1", "show ip bgp summary").stdout
    assert "Idle (Admin)" in out
    logs = cli("lab", "exec", "site1-leaf1", "show logging").stdout
    assert "%BGP-5-ADJCHANGE" in logs and "%SYS-5-CONFIG_I" in logs
    # the injection is recorded only in the ground-truth store next to the database
    assert "ground_truth" not in cli.json("show-db")
    from netops_agent.store.truth import TruthStore

    with TruthStore(cli.cwd / "outputs" / "netops.truth.duckdb") as truth:
        [fault] = truth.faults("lab")
    assert fault.type == "bgp_neighbor_shutdown" and fault.target["device"] == "site1-leaf1"
    cli("lab", "down")
    assert cli.json("show-db")["devices"] == 0
    with TruthStore(cli.cwd / "outputs" / "netops.truth.duckdb") as truth:
        assert truth.faults("lab") == []


def test_solve_works_what_was_injected_and_does_not_repeat(cli: Cli) -> None:
    cli("lab", "up", "--profile", "small")
    cli(
        "lab",
        "inject",
        "interface_admin_down",
        "--device",
        "site1-leaf2",
        "--interface",
        "GigabitEthernet0/1",
    )
    report = cli.json("solve")
    [inc] = report["incidents"]
    assert inc["diagnosis"]["type"] == "interface_admin_down" and inc["outcome"] == "resolved"
    assert (
        "up" in cli("lab", "exec", "site1-leaf2", "show interfaces GigabitEthernet0/1").stdout.splitlines()[0]
    )
    assert cli.json("solve")["incidents"] == []
