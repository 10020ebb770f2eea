"""Schema for external signals and notifications out (migrations 65-69).

Alerts received from Alertmanager keep their labels and a `known` flag (false when the
inventory has no such device: kept and shown, never dropped). `notifications` is the
delivery log of ticket transitions sent to webhooks: one row per (ticket event,
target), with attempts, back-off and a `dead` state for what could not be delivered.
"""

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        65,
        "received alerts: labels and known-device flag; notifications out",
        """
        ALTER TABLE alerts ADD COLUMN labels JSON;
        ALTER TABLE alerts ADD COLUMN known BOOLEAN DEFAULT true;
        CREATE SEQUENCE notification_seq START 1;
        CREATE TABLE notifications (
            id BIGINT PRIMARY KEY DEFAULT nextval('notification_seq'),
            event_id BIGINT, ticket_id VARCHAR, target VARCHAR, kind VARCHAR,
            transition VARCHAR, payload JSON, state VARCHAR, attempts INTEGER,
            next_attempt_at TIMESTAMP, last_error VARCHAR, created_at TIMESTAMP,
            delivered_at TIMESTAMP, UNIQUE (event_id, target));
        """,
    ),
]
