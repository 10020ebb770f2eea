"""Intake: telemetry, syslog and probes in; deduplicated alerts and correlated incidents out.

    detectors (threshold, anomaly, syslog, probe)  ->  episodes (Arrow)
    alerts: fingerprint, dedup, severity, auto-clear  ->  `alerts` table
    correlate: topology-aware grouping, ranked suspects, summary  ->  Incident

This package never reads ground truth (injected faults); only the harness does.
"""

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
