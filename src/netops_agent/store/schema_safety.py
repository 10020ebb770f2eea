"""Schema for change safety: approvals and policy decisions (migrations 30-39)."""

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        30,
        "approvals and policy decisions",
        """
        CREATE TABLE approvals (
            id VARCHAR PRIMARY KEY, incident_id VARCHAR, ticket_id VARCHAR, runbook_id VARCHAR,
            plan JSON, diff VARCHAR, risk VARCHAR, reason VARCHAR, state VARCHAR,
            requested_at TIMESTAMP, decided_at TIMESTAMP, decided_by VARCHAR, comment VARCHAR);
        CREATE TABLE policy_decisions (
            ts TIMESTAMP, incident_id VARCHAR, device VARCHAR, tool VARCHAR, risk VARCHAR,
            decision VARCHAR, reason VARCHAR);
        """,
    ),
]

RUN_TABLES = ["approvals", "policy_decisions"]
