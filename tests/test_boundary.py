"""The agent's side never touches ground truth: enforced by reading the imports and SQL."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "src" / "netops_agent"
AGENT_SIDE = [
    "agent.py",
    "evidence.py",
    "safety/policy.py",
    "safety/snapshot.py",
    "tools",
    "knowledge",
    "intake",
    "tickets",
]
FORBIDDEN_MODULES = (
    "netops_agent.lab.sim.faults",
    "netops_agent.lab.sim.noc",
    "netops_agent.evaluation",
    "netops_agent.runner",
    "netops_agent.lab.sim.lab",
    "netops_agent.lab.frr.lab",
    "netops_agent.lab.sim.persist",
    "netops_agent.lab.sim.state",
    "netops_agent.lab.frr.faults",
    "netops_agent.lab.frr.fault_kinds",
    "netops_agent.lab.frr.persist",
    "netops_agent.frr_runner",
)
FORBIDDEN_WORDS = ("ground_truth", "fault_present", ".cond.", "lab_state")


def _files() -> list[Path]:
    out: list[Path] = []
    for name in AGENT_SIDE:
        p = PKG / name
        out.extend(sorted(p.rglob("*.py")) if p.is_dir() else [p])
    missing = [p for p in out if not p.exists()]
    assert not missing, f"boundary list names files that do not exist: {missing}"
    return out


def test_agent_side_does_not_import_ground_truth() -> None:
    offenders = []
    for path in _files():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith(FORBIDDEN_MODULES)]
    assert offenders == []


def test_agent_side_does_not_read_ground_truth() -> None:
    offenders = [
        f"{p.relative_to(PKG)}: {w}" for p in _files() for w in FORBIDDEN_WORDS if w in p.read_text()
    ]
    assert offenders == []


def test_the_check_covers_the_agent() -> None:
    assert PKG / "agent.py" in _files() and len(_files()) > 10
