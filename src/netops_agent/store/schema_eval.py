"""Schema for evaluation results kept across runs (migrations 20-29)."""

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        20,
        "evaluation runs and cases",
        """
        CREATE TABLE eval_runs (
            id VARCHAR PRIMARY KEY, started_at TIMESTAMP, suite VARCHAR, suite_version INTEGER,
            suite_digest VARCHAR, agent VARCHAR, backend VARCHAR, cases INTEGER,
            metrics JSON, wall_s DOUBLE);
        CREATE TABLE eval_cases (
            run_id VARCHAR, case_id VARCHAR, expected_outcome VARCHAR, outcome VARCHAR,
            injected JSON, diagnosis JSON, ground_truth_fixed BOOLEAN, false_resolution BOOLEAN,
            tool_calls INTEGER, ticket_id VARCHAR, detail JSON);
        """,
    ),
    (
        21,
        "evaluation runs: intake and seed; case order",
        """
        ALTER TABLE eval_runs ADD COLUMN intake VARCHAR;
        ALTER TABLE eval_runs ADD COLUMN seed BIGINT;
        ALTER TABLE eval_cases ADD COLUMN position INTEGER;
        """,
    ),
]
