"""Shared test helpers: run one scenario case in-process on an in-memory store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from netops_agent.evaluation.scenario import Case, Fault, Suite, Topology
from netops_agent.runner import CaseResult, RunOptions, run_suite
from netops_agent.store import Store


def one_case(
    *faults: dict[str, Any],
    seed: int = 1,
    profile: str = "small",
    runbooks: Path | None = None,
    intake: str = "noc",
    store: Store | None = None,
    **opts: Any,
) -> tuple[CaseResult, Store]:
    suite = Suite(
        name="test",
        topology=Topology(profile=profile, seed=42),
        cases=[Case(id="c1", seed=seed, faults=[Fault(**f) for f in faults])],
    )
    store = store or Store(":memory:")
    report = run_suite(store, suite, RunOptions(runbooks=runbooks, intake=intake, **opts))
    return report.cases[0], store


def same_target(diagnosed: dict[str, Any] | None, injected: dict[str, Any]) -> bool:
    """Either end of a link counts; a session matches on device + peer."""
    if not diagnosed:
        return False
    ends = {(injected.get("device"), injected.get("interface"))}
    if injected.get("peer_device"):
        ends.add((injected["peer_device"], injected.get("peer_interface")))
    if "peer" in injected and "peer" in diagnosed and injected.get("interface") is None:
        return (diagnosed["device"], diagnosed["peer"]) == (injected["device"], injected["peer"])
    if injected.get("interface") is None:
        return diagnosed.get("device") == injected["device"]
    return (diagnosed.get("device"), diagnosed.get("interface")) in ends
