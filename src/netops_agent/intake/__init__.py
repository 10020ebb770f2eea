"""Intake: telemetry, syslog and probes in; deduplicated alerts and correlated incidents out.

    detectors (threshold, anomaly, syslog, probe)  ->  episodes (Arrow)
    alerts: fingerprint, dedup, severity, auto-clear  ->  `alerts` table
    correlate: topology-aware grouping, ranked suspects, summary  ->  Incident

This package never reads ground truth (injected faults); only the harness does.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from netops_agent.intake.alerts import AlertStats, fingerprint, record_alerts, relink_alerts
    from netops_agent.intake.config import DetectionConfig, load_detection
    from netops_agent.intake.correlate import Correlator, Draft, Topology
    from netops_agent.intake.detectors import (
        DETECTORS,
        EPISODE_SCHEMA,
        DetectContext,
        Detector,
        DetectorRegistry,
        run_detectors,
    )
    from netops_agent.intake.pipeline import IntakeResult, ingest, recheck, run_intake, telemetry_intake

# Names are loaded on first use: the read views (`intake.views`) need none of the
# detectors' pyarrow/numpy, so `incidents`, `serve` and `mcp` start without them.
_HOME = {
    "alerts": ("AlertStats", "fingerprint", "record_alerts", "relink_alerts"),
    "config": ("DetectionConfig", "load_detection"),
    "correlate": ("Correlator", "Draft", "Topology"),
    "detectors": (
        "DETECTORS",
        "EPISODE_SCHEMA",
        "DetectContext",
        "Detector",
        "DetectorRegistry",
        "run_detectors",
    ),
    "pipeline": ("IntakeResult", "ingest", "recheck", "run_intake", "telemetry_intake"),
}
_WHERE = {name: module for module, names in _HOME.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "DETECTORS",
    "EPISODE_SCHEMA",
    "AlertStats",
    "Correlator",
    "DetectContext",
    "DetectionConfig",
    "Detector",
    "DetectorRegistry",
    "Draft",
    "IntakeResult",
    "Topology",
    "fingerprint",
    "ingest",
    "load_detection",
    "recheck",
    "record_alerts",
    "relink_alerts",
    "run_detectors",
    "run_intake",
    "telemetry_intake",
]
