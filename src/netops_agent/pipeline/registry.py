"""Named intakes and agents the case pipeline can run.

An intake turns what monitoring sees into incidents: `(view, store, scope) ->
list[Incident]`. The `oracle` intake is the exception (it reads the ground truth;
debugging only, never a default, labelled in every result). An agent factory is
`(view, services, options) -> object with .handle(incident, ticket_id) -> Outcome`;
it receives the sealed `NetworkView`, never the lab.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from netops_agent.errors import ConfigError
from netops_agent.intake.pipeline import telemetry_intake
from netops_agent.lab.base import NetworkView
from netops_agent.models import Incident
from netops_agent.services import Services
from netops_agent.store import Store

IntakeFn = Callable[[NetworkView, Store, str], list[Incident]]
AgentFactory = Callable[[NetworkView, Services, Any], Any]

ORACLE = "oracle"  # reads ground truth: debugging only (see pipeline.oracle)


def default_agent(view: NetworkView, svc: Services, options: Any) -> Any:
    from netops_agent.agent import Agent
    from netops_agent.audit import StoreRecorder
    from netops_agent.safety.approvals import ApprovalService

    return Agent(
        view,
        retriever=svc.retriever,
        runbooks=svc.runbooks,
        tickets=svc.tickets,
        recorder=StoreRecorder(svc.store),
        policy=options.policy,
        config=options.agent,
        approvals=ApprovalService(svc.store),
    )


def _elsewhere(module: str, table: str, name: str) -> AgentFactory:
    """The factory `name` of `module.table`, imported when an agent is made: a run of the
    default agent loads neither the baselines nor the LLM/external plugins (and what they
    import). tests/evaluation/test_agent_registry.py checks the names match the tables."""

    def make(view: NetworkView, svc: Services, options: Any) -> Any:
        return getattr(importlib.import_module(module), table)[name](view, svc, options)

    make.__qualname__ = make.__name__ = f"{name}_agent"
    return make


_BASELINES = "netops_agent.evaluation.baselines"
_PLUGINS = "netops_agent.agents.plugins"
INTAKES: dict[str, IntakeFn | None] = {"telemetry": telemetry_intake, ORACLE: None}
AGENTS: dict[str, AgentFactory] = {
    "default": default_agent,
    **{n: _elsewhere(_BASELINES, "BASELINES", n) for n in ("seed-baseline", "random")},
    **{n: _elsewhere(_PLUGINS, "PLUGINS", n) for n in ("external", "llm")},
}


def lookup(registry: dict[str, Any], name: str, what: str) -> Any:
    if name not in registry:
        raise ConfigError(f"unknown {what} {name!r}; choose one of: {', '.join(registry)}")
    return registry[name]
