"""The intake pipeline: network view -> store -> detectors -> alerts -> incidents.

`telemetry_intake` is the case pipeline's default intake (`pipeline.INTAKES["telemetry"]`).
It gets a `NetworkView` and sees the network as a NOC does: the telemetry and syslog
feeds since the last read, synthetic pings through `execute`, and the inventory.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa

from netops_agent.intake import alerts as alert_store
from netops_agent.intake.config import DetectionConfig, load_detection
from netops_agent.intake.correlate import Correlator, Draft
from netops_agent.intake.detectors import DetectContext, run_detectors
from netops_agent.intake.probes import ProbeRound, run_probes
from netops_agent.lab.base import NetworkView
from netops_agent.models import Incident, Inventory
from netops_agent.store import Store

log = logging.getLogger("netops_agent.intake")


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


def ingest(view: NetworkView, store: Store) -> int:
    """Append the view's telemetry and syslog newer than what the store holds; rows added."""
    return store.append_newer("telemetry", view.telemetry_since) + store.append_newer(
        "events", view.logs_since
    )


def detect(
    store: Store,
    config: DetectionConfig,
    *,
    now: datetime,
    scope: str = "lab",
    detectors: list[str] | None = None,
) -> tuple[pa.Table, alert_store.AlertStats]:
    """Run detectors over the store and merge their episodes into `alerts`.

    Stored times are naive UTC; a clock that tells aware time (FRR's real clock) is read
    as naive UTC here, so detectors and the alert merge compare like with like."""
    if now.tzinfo is not None:
        now = now.astimezone(timezone.utc).replace(tzinfo=None)
    ctx = DetectContext(store, config, now, scope)
    episodes = run_detectors(ctx, detectors)
    stats = alert_store.record_alerts(store, episodes, config, scope=scope, now=now)
    return episodes, stats


def correlate(
    store: Store,
    lab: NetworkView,
    config: DetectionConfig,
    *,
    scope: str = "lab",
    first_number: int | None = None,
) -> tuple[list[Incident], dict[str, list[str]]]:
    """Group unassigned active alerts into incidents and link the alerts to them."""
    drafts = draft_incidents(alert_store.active_alerts(store, scope), lab.inventory(), config)
    return record_drafts(store, lab, drafts, first_number=first_number)


def draft_incidents(
    alerts: list[dict[str, Any]], inventory: Inventory, config: DetectionConfig
) -> list[Draft]:
    """Group alerts into incident drafts, oldest first. Pure: no store, so it may run on
    any thread (the receivers' writer keeps taking signals while a storm's drafts form)."""
    return Correlator(inventory, config).correlate(alerts)


def record_drafts(
    store: Store, lab: NetworkView, drafts: list[Draft], *, first_number: int | None = None
) -> tuple[list[Incident], dict[str, list[str]]]:
    """Number drafts as incidents (after the last one stored) and link their alerts to them.

    Recording a list's drafts in parts, one after the other, gives the same incidents as
    recording it at once: each part is numbered after what the parts before it stored."""
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
    lab: NetworkView,
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
    ingest(lab, store)
    if probes and cfg.probes.enabled:
        result.probes = run_probes(lab, store, cfg.probes, scope=scope)
        ingest(lab, store)
    episodes, result.alerts = detect(store, cfg, now=lab.now(), scope=scope)
    result.episodes = episodes.num_rows
    result.incidents, result.alert_ids = correlate(store, lab, cfg, scope=scope)
    log.info("intake %s: %s", scope, result.as_dict())
    return result


def telemetry_intake(view: NetworkView, store: Store, scope: str = "lab") -> list[Incident]:
    """The pipeline's intake: incidents from what monitoring sees through the view."""
    return run_intake(view, store, scope=scope).incidents


def recheck(
    view: NetworkView, store: Store, scope: str = "lab", config: DetectionConfig | None = None
) -> None:
    """One more detection pass after the agent: alerts whose condition cleared auto-clear."""
    cfg = config or load_detection()
    view.wait(recheck_wait(cfg))
    ingest(view, store)
    detect(store, cfg, now=view.now(), scope=scope)


def recheck_wait(config: DetectionConfig | None = None) -> float:
    """Seconds `recheck` lets pass before it looks: the longest hold, at least a minute."""
    cfg = config or load_detection()
    return max(cfg.settings.hold_s, 60.0)
