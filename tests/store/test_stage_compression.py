"""Issue 13: a run's in-memory stage is kept compressed only when one of its cases builds
a large lab (less memory where telemetry is big; no compression CPU for the demo)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from netops_agent.evaluation.scenario import Case, Fault, Suite, Topology, load_suite
from netops_agent.lab.sim.topology import PROFILES
from netops_agent.pipeline import staging
from netops_agent.pipeline.staging import COMPRESS_STAGE_FROM_DEVICES, run_staged, stage_compressed
from netops_agent.store import Store

FAULT = Fault(
    type="interface_admin_down", target={"device": "site1-leaf4", "interface": "GigabitEthernet0/1"}
)


def _suite(profile: str, case_profile: str | None = None) -> Suite:
    case = Case(id="c1", seed=1, faults=[FAULT])
    if case_profile:
        case = Case(id="c1", seed=1, faults=[FAULT], topology=Topology(profile=case_profile, seed=7))
    return Suite(name="t", topology=Topology(profile=profile, seed=42), cases=[case])


def test_only_a_suite_with_a_large_lab_gets_a_compressed_stage() -> None:
    assert PROFILES["medium"].devices < COMPRESS_STAGE_FROM_DEVICES <= PROFILES["large"].devices
    assert not stage_compressed(load_suite("demo"))  # 48 routers
    assert not stage_compressed(_suite("small"))
    assert stage_compressed(_suite("large"))
    assert stage_compressed(_suite("small", case_profile="large"))  # a case's own topology counts
    assert not stage_compressed(_suite("large", case_profile="medium"))  # ... and replaces the suite's


def test_run_staged_opens_the_stage_as_the_rule_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    real = staging.run_suite
    small = _suite("small")

    def spy(stage: Store, suite: Suite, options: Any, **kw: Any) -> Any:
        db = stage.query("SELECT options FROM duckdb_databases() WHERE database_name = current_database()")
        seen.append(db[0]["options"].get("compress"))
        return real(stage, small, options, **kw)  # the small lab runs either way: only the stage differs

    monkeypatch.setattr(staging, "run_suite", spy)
    for name, suite in (("a", small), ("b", _suite("large"))):
        store = Store(tmp_path / f"{name}.duckdb")
        run_staged(store, suite)
        assert store.scalar("SELECT count(*) FROM incidents") >= 1  # published either way
        store.close()
    assert seen == [None, "true"]
