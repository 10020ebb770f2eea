"""Schema for intake: alerts raised by detectors (migrations 10-19)."""

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
]

RUN_TABLES = ["alerts"]
