"""Intake test helpers: a twin with faults (and noise) flushed to a store, synthetic telemetry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from netops_agent.intake import IntakeResult, load_detection, run_intake
from netops_agent.intake.config import DetectionConfig
from netops_agent.lab.base import NetworkView
from netops_agent.lab.sim import noise, persist
from netops_agent.lab.sim.control import SimControl
from netops_agent.lab.sim.lab import EPOCH, SimLab
from netops_agent.models import FaultSpec, InjectedFault
from netops_agent.store import Store

BASELINE_S = 60.0
SETTLE_S = 120.0


@dataclass
class Twin:
    lab: SimLab  # the test's control side; the intake got only `view`
    view: NetworkView
    store: Store
    faults: list[InjectedFault]
    result: IntakeResult

    def alerts(self, **where: str) -> list[dict[str, Any]]:
        sql = "SELECT * FROM alerts"
        if where:
            sql += " WHERE " + " AND ".join(f"{k} = ?" for k in where)
        return self.store.query(sql + " ORDER BY id", list(where.values()))


def twin(
    *faults: dict[str, Any],
    profile: str = "small",
    seed: int = 1,
    spikes: int = 0,
    config: DetectionConfig | None = None,
    jitter: float = 0.0,
) -> Twin:
    """Build a twin, inject faults (no ground truth reaches intake), run one intake cycle."""
    lab = SimLab.build(profile, 42, jitter=jitter)
    ctl = SimControl(lab)
    ctl.advance(BASELINE_S)
    injected = [ctl.inject(FaultSpec(**f), seed=seed) for f in faults]
    ctl.advance(SETTLE_S)
    noise.add_transient_spikes(lab, spikes, seed=seed)
    store = Store(":memory:")
    persist.save(lab, store, fresh=True)
    view = ctl.view()
    result = run_intake(view, store, scope="t", config=config or load_detection(use_env=False))
    return Twin(lab, view, store, injected, result)


def series(
    device: str,
    entity: str,
    metric: str,
    values: list[float],
    *,
    start: datetime = EPOCH,
    step_s: float = 10.0,
) -> pa.Table:
    """One telemetry series in the store's long format."""
    n = len(values)
    return pa.table(
        {
            "ts": pa.array(
                [start + timedelta(seconds=step_s * (i + 1)) for i in range(n)], pa.timestamp("us")
            ),
            "device": [device] * n,
            "entity": [entity] * n,
            "metric": [metric] * n,
            "value": pa.array(values, pa.float64()),
        }
    )


def at(i: int, step_s: float = 10.0) -> datetime:
    """The timestamp of sample i (1-based) of `series`."""
    return EPOCH + timedelta(seconds=step_s * i)


def alert_row(
    n: int, check: str, kind: str, device: str, entity: str, t: int = 1, severity: str = "major"
) -> dict[str, Any]:
    """An active alert as the correlator reads it (`alerts.active_alerts`), first seen at
    sample `t` (`at`)."""
    return {
        "id": f"AL{n:06d}",
        "check_name": check,
        "kind": kind,
        "device": device,
        "entity": entity,
        "severity": severity,
        "first_seen": at(t),
        "last_seen": at(t) + timedelta(seconds=30),
        "count": 1,
        "value": None,
        "message": f"{check} on {device} {entity}",
        "detail": "",
    }


@pytest.fixture(scope="module")
def small() -> SimLab:
    return SimLab.build("small", 42)


@pytest.fixture
def store() -> Store:
    return Store(":memory:")


@pytest.fixture
def config() -> DetectionConfig:
    return load_detection(use_env=False)
