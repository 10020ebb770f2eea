"""The import graph is one-way: agent side -> (nothing of the control side); backends ->
(not the pipeline); pipeline -> backends, agents, intake; harness -> pipeline. No cycles
among the case pipeline, the harness, the baselines, the agent and the backends."""

from __future__ import annotations

from pathlib import Path

from tests.test_boundary import PKG, _module_of, imported_modules

LAYERS = {
    "netops_agent.pipeline": "pipeline",
    "netops_agent.evaluation.harness": "harness",
    "netops_agent.evaluation.baselines": "baselines",
    "netops_agent.agent": "agent",
    "netops_agent.lab": "backends",
    "netops_agent.intake": "intake",
}


def test_shared_config_imports_no_layer() -> None:
    path = PKG / "intake" / "config.py"
    assert not [m for m in imported_modules(path) if m.startswith("netops_agent.") and _layer(m)]


# Shared configuration (detector rules and thresholds, read by monitoring, the agent's
# re-observation and the twin's "fault present" for congestion) is no layer of its own
# in the case flow: it imports nothing of the others.
SHARED = ("netops_agent.intake.config",)


def _layer(module: str) -> str | None:
    if any(module == m or module.startswith(m + ".") for m in SHARED):
        return None
    for prefix, layer in LAYERS.items():
        if module == prefix or module.startswith(prefix + "."):
            return layer
    return None


def layer_edges() -> set[tuple[str, str]]:
    edges = set()
    for path in sorted(PKG.rglob("*.py")):
        src = _layer(_module_of(path))
        if src is None:
            continue
        for mod in imported_modules(path):
            dst = _layer(mod)
            if dst is not None and dst != src:
                edges.add((src, dst))
    return edges


def _cycle(edges: set[tuple[str, str]]) -> list[str] | None:
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        for nxt in sorted(graph.get(node, ())):
            found = visit(nxt, [*path, node])
            if found:
                return found
        return None

    for start in sorted(graph):
        found = visit(start, [])
        if found:
            return found
    return None


def test_no_cycle_among_pipeline_harness_baselines_agent_and_backends() -> None:
    edges = layer_edges()
    assert _cycle(edges) is None, _cycle(edges)
    assert ("harness", "pipeline") in edges  # the harness depends on the pipeline ...
    assert ("pipeline", "harness") not in edges  # ... never the other way round
    for side in ("agent", "baselines", "intake", "backends"):
        assert (side, "pipeline") not in edges and (side, "harness") not in edges, side


def test_the_cycle_check_finds_a_planted_cycle() -> None:
    assert _cycle(layer_edges() | {("pipeline", "harness")}) is not None


def test_frr_runner_and_runner_are_gone() -> None:
    assert not (PKG / "frr_runner.py").exists() and not (PKG / "runner.py").exists()
    assert not (PKG / "lab" / "sim" / "noc.py").exists()
    assert isinstance(PKG, Path)
