"""The agent registry names every baseline and plugin agent without importing them, and
each name makes the agent its own module's factory makes, with the same arguments."""

from __future__ import annotations

from typing import Any

import pytest

from netops_agent.pipeline import registry


def test_the_registry_names_every_agent_of_the_tables_in_order() -> None:
    from netops_agent.agents.plugins import PLUGINS
    from netops_agent.evaluation.baselines import BASELINES

    assert list(registry.AGENTS) == ["default", *BASELINES, *PLUGINS]


@pytest.mark.parametrize(
    ("name", "module", "table"),
    [
        ("seed-baseline", "netops_agent.evaluation.baselines", "BASELINES"),
        ("random", "netops_agent.evaluation.baselines", "BASELINES"),
        ("external", "netops_agent.agents.plugins", "PLUGINS"),
        ("llm", "netops_agent.agents.plugins", "PLUGINS"),
    ],
)
def test_each_name_makes_its_tables_agent(
    name: str, module: str, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    factories = getattr(importlib.import_module(module), table)
    seen: list[tuple[Any, ...]] = []

    def fake(view: Any, svc: Any, options: Any) -> str:
        seen.append((view, svc, options))
        return f"made {name}"

    monkeypatch.setitem(factories, name, fake)
    assert registry.AGENTS[name]("view", "svc", "options") == f"made {name}"
    assert seen == [("view", "svc", "options")]


def test_an_unknown_agent_is_refused_with_the_known_names() -> None:
    from netops_agent.errors import ConfigError

    with pytest.raises(ConfigError, match="default, seed-baseline, random, external, llm"):
        registry.lookup(registry.AGENTS, "nope", "agent")
