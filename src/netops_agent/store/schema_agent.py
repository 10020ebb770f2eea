"""Schema for what the agent records on a ticket beyond the primary diagnosis (migrations 45-49)."""

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        45,
        "ticket causes and changes still in the network",
        """
        ALTER TABLE tickets ADD COLUMN causes JSON;
        ALTER TABLE tickets ADD COLUMN changes_in_network JSON;
        """,
    ),
]
