"""Schema for real devices over SSH: the config archive (migrations 70-74)."""

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        70,
        "config archive",
        """
        CREATE TABLE config_archive (
            id VARCHAR PRIMARY KEY, ts TIMESTAMP, device VARCHAR, reason VARCHAR, config VARCHAR);
        """,
    ),
]

RUN_TABLES: list[str] = []  # the archive outlives runs: it is how a change is undone
