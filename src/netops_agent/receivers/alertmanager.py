"""Prometheus Alertmanager webhooks in (format version 4) -> rows of the `alerts` table.

Alertmanager posts one notification per alert group, with every alert of the group
in `alerts`, and resends it every `repeat_interval` (and on restarts). So an alert is
identified by Alertmanager's own `fingerprint` together with its `startsAt`: a resend
updates the row it made the first time, `status: resolved` clears it, and a new
firing of the same labels later (new `startsAt`) is a new alert, as it would be for
our own detectors.

Labels map to inventory entities through `receivers.alertmanager` in the detection
config (by default `device`/`instance`/`hostname`, `ifName`/`interface`, `peer`/
`neighbor`). An alert whose device the inventory does not know is stored and flagged
(`known = false`), never dropped: a person can still see it and map it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from netops_agent.intake.config import AlertmanagerMapping

ZERO_TIME = datetime(1, 1, 1)  # Alertmanager's "not set" for endsAt


class AmAlert(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: str = "firing"
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime
    endsAt: datetime | None = None
    generatorURL: str = ""
    fingerprint: str = Field(min_length=1, max_length=128)

    @field_validator("status")
    @classmethod
    def _status(cls, v: str) -> str:
        if v not in ("firing", "resolved"):
            raise ValueError("status must be 'firing' or 'resolved'")
        return v


class AmWebhook(BaseModel):
    """The body Alertmanager's webhook receiver posts (only what we use is required)."""

    model_config = ConfigDict(extra="allow")

    version: str = "4"
    groupKey: str = ""
    truncatedAlerts: int = 0
    status: str = "firing"
    receiver: str = ""
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""
    alerts: list[AmAlert] = Field(max_length=10_000)

    @field_validator("version")
    @classmethod
    def _version(cls, v: str) -> str:
        if v != "4":
            raise ValueError(f"webhook format version {v!r} is not supported; Alertmanager sends version 4")
        return v


def _utc(ts: datetime | None) -> datetime | None:
    if ts is None:
        return None
    if ts.tzinfo is not None:
        ts = ts.astimezone(timezone.utc).replace(tzinfo=None)
    return None if ts.year <= 1 else ts


def _first(labels: dict[str, str], keys: list[str]) -> str:
    return next((labels[k] for k in keys if labels.get(k)), "")


def _device(raw: str) -> str:
    """`instance` labels are often host:port (a scrape target); the device is the host."""
    if raw.count(":") == 1 and raw.rsplit(":", 1)[1].isdigit():
        return raw.rsplit(":", 1)[0]
    return raw


def alert_rows(
    hook: AmWebhook, mapping: AlertmanagerMapping, now: datetime | None = None
) -> list[dict[str, Any]]:
    """One normalised row per alert of a (possibly grouped) notification."""
    received = now or datetime.now(timezone.utc).replace(tzinfo=None)
    rows = []
    for a in hook.alerts:
        labels = {**hook.commonLabels, **a.labels}
        device = _device(_first(labels, mapping.device_labels))
        iface = _first(labels, mapping.interface_labels)
        peer = _first(labels, mapping.peer_labels)
        if peer:
            kind, entity = "bgp", peer
        elif iface:
            kind, entity = "interface", iface
        else:
            kind, entity = "device", "system"
        name = labels.get("alertname", "alert")
        raw_sev = labels.get(mapping.severity_label, "").lower()
        severity = mapping.severity_map.get(raw_sev, mapping.default_severity)
        annotations = {**hook.commonAnnotations, **a.annotations}
        text = annotations.get("summary") or annotations.get("description") or name
        started = _utc(a.startsAt) or received
        ended = _utc(a.endsAt)
        resolved = a.status == "resolved"
        rows.append(
            {
                "fingerprint": f"am:{a.fingerprint}",
                "source": "alertmanager",
                "device": device or "unknown",
                "entity": entity,
                "kind": kind,
                "check_name": f"am-{name}"[:64],
                "severity": severity,
                "state": "cleared" if resolved else "active",
                "first_seen": started,
                "last_seen": (ended if resolved and ended else received),
                "cleared_at": (ended or received) if resolved else None,
                "message": f"{text} ({name} on {device or 'an unknown device'}"
                + (f" {entity}" if kind != "device" else "")
                + ")",
                "detail": _detail(labels, annotations, a.generatorURL),
                "labels": labels,
            }
        )
    return rows


def _detail(labels: dict[str, str], annotations: dict[str, str], url: str) -> str:
    parts = [",".join(f"{k}={v}" for k, v in sorted(labels.items()))]
    parts += [f"{k}: {v}" for k, v in sorted(annotations.items())]
    if url:
        parts.append(url)
    return " | ".join(parts)[:2000]
