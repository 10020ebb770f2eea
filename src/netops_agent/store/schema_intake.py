"""Schema for intake: alerts raised by detectors and reachability probe results (migrations 10-19).

`alerts` holds one row per deduplicated alert (fingerprint = source, device, entity,
check) with its occurrence count, first/last seen, state (active | cleared), the
incident it was correlated into, a worded `message` and the raw `detail` (the log
line or probe result behind it). `scope` keeps alerts of different twins apart (the
runner uses the case id). `probe_results` keeps every synthetic ping the intake ran.
"""

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        10,
        "alerts",
        """
        CREATE TABLE alerts (
            id VARCHAR PRIMARY KEY, fingerprint VARCHAR, source VARCHAR, device VARCHAR,
            entity VARCHAR, check_name VARCHAR, severity VARCHAR, state VARCHAR,
            count INTEGER, first_seen TIMESTAMP, last_seen TIMESTAMP, cleared_at TIMESTAMP,
            value DOUBLE, message VARCHAR, incident_id VARCHAR);
        """,
    ),
    (
        11,
        "alert scope and entity kind, alert ids, probe results",
        """
        ALTER TABLE alerts ADD COLUMN scope VARCHAR DEFAULT 'lab';
        ALTER TABLE alerts ADD COLUMN kind VARCHAR;
        CREATE SEQUENCE alert_seq START 1;
        CREATE TABLE probe_results (
            ts TIMESTAMP, scope VARCHAR, vantage VARCHAR, target VARCHAR, kind VARCHAR,
            device VARCHAR, entity VARCHAR, success_pct DOUBLE, status VARCHAR);
        """,
    ),
    (
        12,
        "alert detail (raw log line or probe result), probe route lookups",
        """
        ALTER TABLE alerts ADD COLUMN detail VARCHAR;
        ALTER TABLE probe_results ADD COLUMN route VARCHAR;
        """,
    ),
]

RUN_TABLES = ["alerts", "probe_results"]
