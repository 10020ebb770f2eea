"""Telemetry stored as series and samples (migration 80).

A sample row used to carry its device, interface and metric names as strings: 664,020
rows in the demo, 3.3 M in a 500-router case, where DuckDB spent most of an append
turning the same few thousand names into strings again. Now each (device, entity,
metric) is one row of `telemetry_series` and a sample is (ts, series, value); the
`telemetry` view joins them back, so every reader still sees
`telemetry(ts, device, entity, metric, value)`. Writers go through `Store.append_arrow`
/ `append_newer` with the same long-format Arrow table as before (`store.telemetry`).
"""

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        80,
        "telemetry as series and samples",
        """
        CREATE TABLE telemetry_series (
            id INTEGER PRIMARY KEY, device VARCHAR, entity VARCHAR, metric VARCHAR);
        CREATE TABLE telemetry_samples (ts TIMESTAMP, series INTEGER, value DOUBLE);
        INSERT INTO telemetry_series
            SELECT row_number() OVER (ORDER BY device, entity, metric), device, entity, metric
            FROM (SELECT DISTINCT device, entity, metric FROM telemetry);
        INSERT INTO telemetry_samples
            SELECT t.ts, s.id, t.value FROM telemetry t JOIN telemetry_series s
            ON t.device IS NOT DISTINCT FROM s.device AND t.entity IS NOT DISTINCT FROM s.entity
            AND t.metric IS NOT DISTINCT FROM s.metric
            ORDER BY t.ts;
        DROP TABLE telemetry;
        CREATE VIEW telemetry AS
            SELECT s.ts, k.device, k.entity, k.metric, s.value
            FROM telemetry_samples s JOIN telemetry_series k ON s.series = k.id;
        """,
    ),
]

RUN_TABLES = ["telemetry_series", "telemetry_samples"]
