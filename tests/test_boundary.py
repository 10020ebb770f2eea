"""The agent's side never reaches the control face: enforced statically and at run time.

Static (b): every module on the agent side (agent, evidence, intake, tools, knowledge,
safety, tickets, baselines, services) is parsed; `import x`, `from x import y`
(including `from x import *` and `x.y` submodules), relative imports (resolved
against the module's package), `importlib.import_module("...")` / `__import__`
strings, attribute and bare names (`self.lab.ground_truth`, `getattr(v, "inject")`)
and SQL in string constants are checked against the control side.

Run time: the `NetworkView` handed out has no attribute, `__dict__` entry, bound
method or returned object that is the lab, its faults or its control face.
"""

from __future__ import annotations

import ast
import contextlib
import re
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "src" / "netops_agent"
AGENT_SIDE = [
    "agent.py",
    "evidence.py",
    "services.py",
    "audit.py",
    "evaluation/baselines.py",
    "safety",
    "tools",
    "knowledge",
    "intake",
    "tickets",
    "agents",
    "mcp_server",
]
# Modules that hold or lead to a lab's control face, its faults or the ground truth.
FORBIDDEN_MODULES = (
    "netops_agent.pipeline",
    "netops_agent.evaluation.harness",
    "netops_agent.evaluation.metrics",
    "netops_agent.evaluation.report",
    "netops_agent.lab.sim",  # includes lab.sim.disturbance
    "netops_agent.lab.disturbance",  # which entities each injected fault disturbs
    "netops_agent.lab.frr",
    "netops_agent.store.truth",
    "netops_agent.cli",
)
# Names (attributes, variables, getattr strings) of the control face and the twin's insides.
FORBIDDEN_NAMES = {
    "ground_truth",
    "fault_present",
    "injected",
    "inject",
    "repair",
    "disturbed",
    "healthy_entities",
    "set_criticality",
    "ControlFace",
    "SimControl",
    "FrrControl",
    "SimLab",
    "FrrLab",
    "SimFaults",
    "FrrFaultInjector",
    "TruthStore",
    "InjectedFault",
    "cond",
    "lab_state",
    "state_hash",
}
ATTRIBUTE_ONLY = {"cond"}  # a twin's `lab.cond`; a local variable may be called that
SQL_WORDS = re.compile(r"\b(ground_truth|lab_state|interface_counters)\b")


def _files() -> list[Path]:
    out: list[Path] = []
    for name in AGENT_SIDE:
        p = PKG / name
        out.extend(sorted(p.rglob("*.py")) if p.is_dir() else [p])
    missing = [p for p in out if not p.exists()]
    assert not missing, f"boundary list names files that do not exist: {missing}"
    return out


def _module_of(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_of(path: Path) -> str:
    mod = _module_of(path)
    return mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]


def imported_modules(path: Path, source: str | None = None) -> list[str]:
    """Every module a file imports, relative imports resolved, `from x import y` as x and x.y."""
    tree = ast.parse(source if source is not None else path.read_text())
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = _package_of(path).split(".")
                anchor = pkg[: len(pkg) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            out.append(base)
            out += [f"{base}.{a.name}" for a in node.names if a.name != "*"]
        elif isinstance(node, ast.Call):
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
            if name in ("import_module", "__import__") and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    out.append(arg.value)
    return out


def forbidden_names(path: Path, source: str | None = None) -> list[str]:
    """Attribute and bare names, getattr/hasattr/setattr strings and SQL naming the control side."""
    tree = ast.parse(source if source is not None else path.read_text())
    docstrings = {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and n.body
        and isinstance(n.body[0], ast.Expr)
        and isinstance(n.body[0].value, ast.Constant)
    }
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_NAMES:
            out.append(f".{node.attr}")
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES - ATTRIBUTE_ONLY:
            out.append(node.id)
        elif isinstance(node, ast.alias) and (node.asname or node.name).split(".")[-1] in FORBIDDEN_NAMES:
            out.append(f"import {node.name}")
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("getattr", "hasattr", "setattr"):
            arg = node.args[1] if len(node.args) > 1 else None
            if isinstance(arg, ast.Constant) and arg.value in FORBIDDEN_NAMES:
                out.append(f"{node.func.id}(..., {arg.value!r})")  # type: ignore[attr-defined]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            out += [f"SQL {m}" for m in SQL_WORDS.findall(node.value)]
    return out


def leaks(path: Path, source: str | None = None) -> list[str]:
    mods = [m for m in imported_modules(path, source) if m.startswith(FORBIDDEN_MODULES)]
    return [f"imports {m}" for m in mods] + forbidden_names(path, source)


def test_agent_side_does_not_reach_the_control_face() -> None:
    offenders = {str(p.relative_to(PKG)): leaks(p) for p in _files()}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_check_covers_the_agent_side() -> None:
    files = _files()
    for must in ("agent.py", "evaluation/baselines.py", "intake/pipeline.py", "safety/gate.py"):
        assert PKG / must in files
    assert len(files) > 20


@pytest.mark.parametrize(
    ("where", "leak"),
    [
        ("agent.py", "import netops_agent.pipeline\n"),
        ("agent.py", "from netops_agent.lab.sim.control import SimControl\n"),
        ("agent.py", "from netops_agent.lab import sim\n"),
        ("intake/pipeline.py", "from ..lab.sim import persist\n"),
        ("intake/pipeline.py", "from ..pipeline import case\n"),
        (
            "tools/executor.py",
            "from . import registry\nimport importlib\nimportlib.import_module('netops_agent.store.truth')\n",
        ),
        ("evaluation/baselines.py", "def f(v):\n    return v.lab.ground_truth\n"),
        ("safety/gate.py", "def f(v):\n    return getattr(v, 'inject')\n"),
        ("knowledge/index.py", "def f(s):\n    return s.query('SELECT * FROM ground_truth')\n"),
        ("tickets/service.py", "def f(c):\n    return c.fault_present(None)\n"),
    ],
)
def test_each_kind_of_leak_is_caught(where: str, leak: str) -> None:
    """A planted leak of every kind the check claims to cover makes it fail."""
    path = PKG / where
    assert leaks(path) == []
    assert leaks(path, path.read_text() + "\n" + leak) != []


def test_relative_imports_resolve_against_the_package() -> None:
    path = PKG / "intake" / "pipeline.py"
    assert "netops_agent.lab.sim.persist" in imported_modules(path, "from ..lab.sim import persist\n")
    assert "netops_agent.intake.config" in imported_modules(path, "from .config import x\n")


# --- run time: the view leads nowhere -------------------------------------------------------------
def _reachable(root: object, depth: int = 6) -> list[object]:
    """Objects reachable from `root` through slots, `__dict__`, containers and bound methods'
    `__self__` (not closure cells: see lab/base.py on the in-process limit)."""
    seen: dict[int, object] = {}
    todo = [(root, 0)]
    while todo:
        obj, d = todo.pop()
        if id(obj) in seen or d > depth or isinstance(obj, (str, bytes, int, float, bool, type(None), type)):
            continue
        seen[id(obj)] = obj
        children: list[object] = []
        if isinstance(obj, dict):
            children += [*obj.keys(), *obj.values()]
        elif isinstance(obj, (list, tuple, set, frozenset)):
            children += list(obj)
        for cls in type(obj).__mro__:
            for n in getattr(cls, "__slots__", ()):
                with contextlib.suppress(AttributeError):
                    children.append(object.__getattribute__(obj, n))
        children += list((getattr(obj, "__dict__", None) or {}).values())
        if hasattr(obj, "__self__"):
            children.append(obj.__self__)
        todo += [(c, d + 1) for c in children]
    return list(seen.values())


def test_the_view_leads_to_no_lab_fault_or_control() -> None:
    from netops_agent.lab.base import NetworkView
    from netops_agent.lab.sim.control import SimControl
    from netops_agent.lab.sim.faults import SimFaults
    from netops_agent.lab.sim.lab import SimLab
    from netops_agent.models import FaultSpec, InjectedFault

    lab = SimLab.build("small", 42)
    ctl = SimControl(lab)
    ctl.inject(FaultSpec(type="bgp_neighbor_shutdown"), seed=1)
    view = ctl.view()
    found = [o for o in _reachable(view) if isinstance(o, (SimLab, SimControl, SimFaults, InjectedFault))]
    assert found == []
    with pytest.raises(AttributeError):
        view.lab = lab  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        object.__getattribute__(view, "__dict__")
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(view)
    assert not hasattr(view, "ground_truth") and not hasattr(view, "inject")
    assert {n for n in dir(view) if not n.startswith("_")} == {
        "backend", "platform", "inventory", "golden_config", "execute", "configure",
        "now", "wait", "telemetry_since", "logs_since", "with_transport", "concurrent",
    }  # fmt: skip
    assert isinstance(view.with_transport(view._transport), NetworkView)  # type: ignore[attr-defined]


def test_the_reachability_walk_would_find_a_planted_back_reference() -> None:
    """The run-time check can fail: a view whose transport is the lab's bound method is caught."""
    from netops_agent.lab.base import CallTransport, NetworkView
    from netops_agent.lab.sim.lab import SimLab

    lab = SimLab.build("small", 42)
    leaky = NetworkView(
        backend="sim",
        platform=lab.platform,
        inventory=lambda: lab.inv,
        golden_config=lambda d: "",
        transport=CallTransport(lab.execute, lab.configure),  # bound methods: __self__ is the lab
        now=lambda: lab.clock,
        wait=lambda s: None,
    )
    assert any(isinstance(o, SimLab) for o in _reachable(leaky))
