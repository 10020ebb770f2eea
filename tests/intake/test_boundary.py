"""Rule 1 of the architecture: intake never sees ground truth."""

from __future__ import annotations

import ast
from pathlib import Path

import netops_agent.intake as intake_pkg
from netops_agent.intake import telemetry_intake
from tests.intake.conftest import twin

FORBIDDEN_MODULES = (
    "netops_agent.lab.sim.faults",
    "netops_agent.lab.sim.noc",
    "netops_agent.evaluation",
    "netops_agent.runner",
    "netops_agent.catalog",
)
FORBIDDEN_NAMES = {"ground_truth", "fault_present", "SimFaults", "InjectedFault"}


def _sources() -> list[Path]:
    return sorted(Path(intake_pkg.__file__).parent.glob("*.py"))


def test_intake_imports_nothing_that_knows_the_faults() -> None:
    for path in _sources():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                assert not mod.startswith(FORBIDDEN_MODULES), f"{path.name} imports {mod}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith(FORBIDDEN_MODULES), f"{path.name}: {alias.name}"
            elif isinstance(node, ast.Attribute):
                assert node.attr not in FORBIDDEN_NAMES, f"{path.name} touches .{node.attr}"
            elif isinstance(node, ast.Name):
                assert node.id not in FORBIDDEN_NAMES, f"{path.name} names {node.id}"


def test_the_faults_argument_makes_no_difference() -> None:
    class Case:
        id = "t2"

    class Services:
        def __init__(self, store: object) -> None:
            self.store = store

    tw = twin({"type": "bgp_neighbor_shutdown"})
    honest = [(i.title, i.device, i.peer) for i in tw.result.incidents]
    tw.store.execute("UPDATE alerts SET incident_id = NULL, state = 'cleared'")
    again = telemetry_intake(tw.lab, ["lies"], Case(), Services(tw.store))  # type: ignore[arg-type]
    assert [(i.title, i.device, i.peer) for i in again] == honest
