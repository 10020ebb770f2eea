"""The intake pipeline: lab observations -> store -> detectors -> alerts -> incidents.

`telemetry_intake` is the runner's default intake (`INTAKES["telemetry"]`). It never
looks at the injected faults it is handed (that argument exists only because every
intake shares one signature): it sees the network as a NOC does, through telemetry,
syslog, synthetic pings and the inventory.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from netops_agent.intake import alerts as alert_store
from netops_agent.intake.config import DetectionConfig, load_detection
from netops_agent.intake.correlate import Correlator, Draft
from netops_agent.intake.detectors import DetectContext, run_detectors
from netops_agent.intake.probes import ProbeRound, run_probes
from netops_agent.lab.base import Lab
from netops_agent.models import Incident
from netops_agent.store import Store

log = logging.getLogger("netops_agent.intake")


class HasStore(Protocol):
    """What the intake needs from the runner's shared services."""

    store: Store


@dataclass
class IntakeResult:
    """What one intake run found: incidents (with their alert ids) and counts."""

    incidents: list[Incident] = field(default_factory=list)
    alert_ids: dict[str, list[str]] = field(default_factory=dict)
    episodes: int = 0
    alerts: alert_store.AlertStats = field(default_factory=alert_store.AlertStats)
    probes: ProbeRound | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "episodes": self.episodes,
            "alerts_new": self.alerts.new,
            "alerts_updated": self.alerts.updated,
            "alerts_cleared": self.alerts.cleared,
            "alerts_active": self.alerts.active,
            "incidents": len(self.incidents),
            "probes": len(self.probes.rows) if self.probes else 0,
            "probes_failed": len(self.probes.failed) if self.probes else 0,
        }


def flush_lab(lab: Lab, store: Store) -> None:
    """Move the twin's buffered telemetry and syslog into the store (other labs: no-op)."""
    if getattr(lab, "backend", "") == "sim":
        from netops_agent.lab.sim import persist

        if len(lab.telemetry) > 1:  # one bulk append instead of one per tick
            lab.telemetry = [pa.concat_tables(lab.telemetry, promote_options="permissive")]
        persist.flush(lab, store)  # type: ignore[arg-type]


def detect(
    store: Store,
    config: DetectionConfig,
    *,
    now: datetime,
    scope: str = "lab",
    detectors: list[str] | None = None,
) -> tuple[pa.Table, alert_store.AlertStats]:
    """Run detectors over the store and merge their episodes into `alerts`."""
    ctx = DetectContext(store, config, now, scope)
    episodes = run_detectors(ctx, detectors)
    stats = alert_store.record_alerts(store, episodes, config, scope=scope, now=now)
    return episodes, stats


def correlate(
    store: Store, lab: Lab, config: DetectionConfig, *, scope: str = "lab", first_number: int | None = None
) -> tuple[list[Incident], dict[str, list[str]]]:
    """Group unassigned active alerts into incidents and link the alerts to them."""
    drafts: list[Draft] = Correlator(lab.inventory(), config).correlate(
        alert_store.active_alerts(store, scope)
    )
    start = (
        first_number if first_number is not None else int(store.scalar("SELECT count(*) FROM incidents")) + 1
    )
    incidents, links, ids = [], {}, {}
    for n, draft in enumerate(drafts, start=start):
        inc = draft.incident(f"IM-{n:04d}", lab.now())
        incidents.append(inc)
        ids[inc.id] = draft.alert_ids
        links.update(dict.fromkeys(draft.alert_ids, inc.id))
    alert_store.assign(store, links)
    return incidents, ids


def run_intake(
    lab: Lab,
    store: Store,
    *,
    scope: str = "lab",
    config: DetectionConfig | None = None,
    detection: Path | None = None,
    probes: bool = True,
) -> IntakeResult:
    """One monitoring cycle: probe, flush, detect, record alerts, correlate into incidents."""
    cfg = config or load_detection(detection)
    result = IntakeResult()
    flush_lab(lab, store)
    if probes and cfg.probes.enabled:
        result.probes = run_probes(lab, store, cfg.probes, scope=scope)
        flush_lab(lab, store)
    episodes, result.alerts = detect(store, cfg, now=lab.now(), scope=scope)
    result.episodes = episodes.num_rows
    result.incidents, result.alert_ids = correlate(store, lab, cfg, scope=scope)
    log.info("intake %s: %s", scope, result.as_dict())
    return result


def telemetry_intake(lab: Lab, faults: object, case: Any, services: HasStore) -> list[Incident]:
    """The runner's intake: incidents from what monitoring sees (never from `faults`)."""
    del faults  # ground truth is not monitoring's to know
    return run_intake(lab, services.store, scope=str(getattr(case, "id", "lab"))).incidents
