"""Schema for crash-safe runs and durable evaluations (issue 12; migrations 50-54)."""

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        50,
        "durable evaluation runs: status, what to resume from",
        """
        ALTER TABLE eval_runs ADD COLUMN status VARCHAR;
        ALTER TABLE eval_runs ADD COLUMN finished_at TIMESTAMP;
        ALTER TABLE eval_runs ADD COLUMN suite_source VARCHAR;
        ALTER TABLE eval_runs ADD COLUMN runbooks VARCHAR;
        """,
    ),
]
