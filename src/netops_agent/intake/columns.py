"""Columns of the `alerts` table in the order intake writes them (no heavy imports: the
read views of the CLI and the web service use them without loading pyarrow)."""

from __future__ import annotations

ALERT_COLUMNS = (
    "id",
    "fingerprint",
    "scope",
    "source",
    "device",
    "entity",
    "kind",
    "check_name",
    "severity",
    "state",
    "count",
    "first_seen",
    "last_seen",
    "cleared_at",
    "value",
    "message",
    "detail",
    "incident_id",
)
