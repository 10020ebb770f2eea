"""Numbered schema migrations, applied in order and recorded in `schema_migrations`.

Core tables live here; each area keeps its own list in `schema_<area>.py` with its
own number range (intake 10-19, evaluation 20-29, safety 30-39). Add a migration
by appending a new number; never edit one that has shipped.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "inventory, lab state and telemetry",
        """
        CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
        CREATE TABLE sites (name VARCHAR PRIMARY KEY, slug VARCHAR, region VARCHAR);
        CREATE TABLE devices (
            name VARCHAR PRIMARY KEY, site VARCHAR, role VARCHAR, platform VARCHAR,
            asn BIGINT, loopback VARCHAR, router_id VARCHAR);
        CREATE TABLE interfaces (
            device VARCHAR, name VARCHAR, kind VARCHAR, ip VARCHAR, prefixlen INTEGER,
            mtu INTEGER, description VARCHAR, speed_mbps INTEGER, PRIMARY KEY (device, name));
        CREATE TABLE links (
            id VARCHAR PRIMARY KEY, a_device VARCHAR, a_interface VARCHAR,
            b_device VARCHAR, b_interface VARCHAR, subnet VARCHAR);
        CREATE TABLE bgp_sessions (
            device VARCHAR, peer_device VARCHAR, local_ip VARCHAR, peer_ip VARCHAR,
            local_as BIGINT, remote_as BIGINT, link_id VARCHAR, PRIMARY KEY (device, peer_ip));
        CREATE TABLE prefixes (device VARCHAR, prefix VARCHAR);
        CREATE TABLE device_config (
            device VARCHAR PRIMARY KEY, golden VARCHAR, running VARCHAR, updated_at TIMESTAMP);
        CREATE TABLE lab_state (
            id INTEGER PRIMARY KEY, backend VARCHAR, profile VARCHAR, seed BIGINT,
            clock TIMESTAMP, state JSON, created_at TIMESTAMP);
        CREATE TABLE interface_counters (
            device VARCHAR, interface VARCHAR, in_octets DOUBLE, out_octets DOUBLE,
            in_packets DOUBLE, out_packets DOUBLE, in_errors DOUBLE, in_crc DOUBLE,
            in_discards DOUBLE, out_discards DOUBLE, late_collisions DOUBLE);
        CREATE TABLE ground_truth (
            id VARCHAR PRIMARY KEY, type VARCHAR, target JSON, severity VARCHAR,
            params JSON, injected_at TIMESTAMP);
        CREATE TABLE telemetry (
            ts TIMESTAMP, device VARCHAR, entity VARCHAR, metric VARCHAR, value DOUBLE);
        CREATE TABLE events (
            ts TIMESTAMP, device VARCHAR, facility VARCHAR, severity INTEGER,
            mnemonic VARCHAR, message VARCHAR);
        """,
    ),
    (
        2,
        "incidents, knowledge, tickets and audit",
        """
        CREATE TABLE incidents (
            id VARCHAR PRIMARY KEY, title VARCHAR, summary VARCHAR, severity VARCHAR,
            device VARCHAR, interface VARCHAR, peer VARCHAR, suspects JSON, alerts INTEGER,
            status VARCHAR, opened_at TIMESTAMP);
        CREATE TABLE runbooks (
            id VARCHAR PRIMARY KEY, title VARCHAR, fault_types VARCHAR[], symptoms VARCHAR,
            body JSON);
        CREATE TABLE runbook_vectors (runbook_id VARCHAR, term VARCHAR, weight DOUBLE);
        CREATE TABLE runbook_vocab (term VARCHAR PRIMARY KEY, idf DOUBLE);
        CREATE SEQUENCE ticket_seq START 1;
        CREATE TABLE tickets (
            id VARCHAR PRIMARY KEY, incident_id VARCHAR, state VARCHAR, severity VARCHAR,
            assignment_group VARCHAR, short_description VARCHAR, runbook_id VARCHAR,
            diagnosis JSON, resolution VARCHAR, escalation_reason VARCHAR,
            created_at TIMESTAMP, updated_at TIMESTAMP, closed_at TIMESTAMP);
        CREATE SEQUENCE ticket_event_seq START 1;
        CREATE TABLE ticket_events (
            id BIGINT PRIMARY KEY DEFAULT nextval('ticket_event_seq'), ticket_id VARCHAR,
            ts TIMESTAMP, kind VARCHAR, from_state VARCHAR, to_state VARCHAR,
            note VARCHAR, author VARCHAR, data JSON);
        CREATE SEQUENCE tool_call_seq START 1;
        CREATE TABLE tool_calls (
            id BIGINT PRIMARY KEY DEFAULT nextval('tool_call_seq'), ts TIMESTAMP,
            incident_id VARCHAR, device VARCHAR, tool VARCHAR, command VARCHAR, params JSON,
            risk VARCHAR, status VARCHAR, raw_output VARCHAR, parsed JSON, error VARCHAR,
            duration_ms DOUBLE);
        CREATE SEQUENCE change_seq START 1;
        CREATE TABLE changes (
            id BIGINT PRIMARY KEY DEFAULT nextval('change_seq'), ts TIMESTAMP,
            incident_id VARCHAR, device VARCHAR, tool VARCHAR, risk VARCHAR, lines VARCHAR,
            before_config VARCHAR, after_config VARCHAR, status VARCHAR, kind VARCHAR);
        """,
    ),
]

MIGRATIONS.append((3, "incident prefix", "ALTER TABLE incidents ADD COLUMN prefix VARCHAR;"))
MIGRATIONS.append(
    (
        4,
        "ground truth leaves the agent's database; inventory criticality",
        """
        DROP TABLE IF EXISTS ground_truth;
        ALTER TABLE sites ADD COLUMN criticality VARCHAR DEFAULT 'normal';
        ALTER TABLE devices ADD COLUMN criticality VARCHAR DEFAULT 'normal';
        """,
    )
)

from netops_agent.store import (  # noqa: E402
    schema_agent,
    schema_durable,
    schema_eval,
    schema_gear,
    schema_intake,
    schema_receivers,
    schema_safety,
    schema_telemetry,
)

MIGRATIONS += schema_intake.MIGRATIONS + schema_eval.MIGRATIONS + schema_safety.MIGRATIONS
MIGRATIONS += schema_agent.MIGRATIONS + schema_durable.MIGRATIONS
MIGRATIONS += schema_receivers.MIGRATIONS + schema_gear.MIGRATIONS + schema_telemetry.MIGRATIONS
MIGRATIONS.sort(key=lambda m: m[0])

# Tables that describe one lab and the work done on it; `run` starts them afresh.
RUN_TABLES = [
    *schema_intake.RUN_TABLES,
    *schema_safety.RUN_TABLES,
    *schema_telemetry.RUN_TABLES,
    "sites",
    "devices",
    "interfaces",
    "links",
    "bgp_sessions",
    "prefixes",
    "device_config",
    "lab_state",
    "interface_counters",
    "events",
    "incidents",
    "tickets",
    "ticket_events",
    "tool_calls",
    "changes",
]
