"""Telemetry is stored as series and samples and read back through the `telemetry` view."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from netops_agent.errors import StoreError
from netops_agent.store import Store, telemetry
from netops_agent.store.migrations import MIGRATIONS

T0 = datetime(2026, 11, 30, 8, 0)


def tick(k: int, rows: list[tuple[str, str, str, float]], *, encode: bool = True) -> pa.Table:
    col = (lambda v: pa.array(v, pa.string()).dictionary_encode()) if encode else (lambda v: pa.array(v))
    return pa.table(
        {
            "ts": pa.array([T0 + timedelta(seconds=10 * k)] * len(rows), pa.timestamp("us")),
            "device": col([r[0] for r in rows]),
            "entity": col([r[1] for r in rows]),
            "metric": col([r[2] for r in rows]),
            "value": pa.array([r[3] for r in rows], pa.float64()),
        }
    )


def read_back(store: Store) -> list[tuple]:
    return [
        tuple(r.values())
        for r in store.query("SELECT ts, device, entity, metric, value FROM telemetry ORDER BY ALL")
    ]


@pytest.mark.parametrize("dense", [0, 10**9], ids=["sorted", "marked"])
def test_rows_read_back_as_written_whatever_the_encoding(dense: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Both ways of finding the distinct series (sorting the keys, or marking them over
    # every possible key when that space is small) give the same series and samples.
    monkeypatch.setattr(telemetry, "_DENSE_FACTOR", dense)
    store = Store(":memory:")
    first = [
        ("r1", "Gi0/0", "in-octets", 1.0),
        ("r2", "Gi0/0", "in-octets", 2.0),
        ("r1", "system", "cpu", 9.0),
    ]
    # Chunks whose dictionaries differ (other names, other order), and a plain-string table.
    second = [("r3", "Gi0/1", "oper-status", 2.0), ("r1", "Gi0/0", "in-octets", 3.0)]
    both = pa.concat_tables([tick(1, first), tick(2, second)])
    assert store.append_arrow("telemetry", both) == 5
    assert store.append_arrow("telemetry", tick(3, first, encode=False)) == 3
    expected = sorted(
        [(T0 + timedelta(seconds=10), *r) for r in first]
        + [(T0 + timedelta(seconds=20), *r) for r in second]
        + [(T0 + timedelta(seconds=30), *r) for r in first]
    )
    assert read_back(store) == expected
    # One series per (device, entity, metric), however many samples and appends.
    assert store.scalar("SELECT count(*) FROM telemetry_series") == 4
    assert store.scalar("SELECT count(DISTINCT id) FROM telemetry_series") == 4


def test_append_newer_keeps_only_later_samples() -> None:
    store = Store(":memory:")
    feed = pa.concat_tables([tick(k, [("r1", "Gi0/0", "in-octets", float(k))]) for k in range(3)])
    assert store.append_newer("telemetry", lambda since: feed) == 3
    assert store.append_newer("telemetry", lambda since: feed) == 0  # read twice, stored once
    assert store.scalar("SELECT max(value) FROM telemetry") == 2.0


def test_a_row_without_a_name_is_refused_and_nothing_is_written() -> None:
    store = Store(":memory:")
    bad = tick(1, [("r1", "Gi0/0", "in-octets", 1.0)]).set_column(1, "device", pa.array([None], pa.string()))
    with pytest.raises(StoreError, match="device on every row"):
        store.append_arrow("telemetry", bad)
    assert store.scalar("SELECT count(*) FROM telemetry_samples") == 0
    assert store.scalar("SELECT count(*) FROM telemetry_series") == 0


def test_a_database_with_the_old_telemetry_table_is_migrated(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))  # what every migration before 80 made, with two samples
    con.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)"
    )
    for version, name, sql in MIGRATIONS:
        if version < 80:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
    con.execute(
        "INSERT INTO telemetry VALUES (?, 'r1', 'Gi0/0', 'in-octets', 5), (?, 'r1', 'Gi0/0', 'in-octets', 7)",
        [T0, T0 + timedelta(seconds=10)],
    )
    con.close()
    with Store(db) as store:
        assert 80 in {r["version"] for r in store.query("SELECT version FROM schema_migrations")}
        assert read_back(store) == [
            (T0, "r1", "Gi0/0", "in-octets", 5.0),
            (T0 + timedelta(seconds=10), "r1", "Gi0/0", "in-octets", 7.0),
        ]
        store.append_arrow("telemetry", tick(2, [("r1", "Gi0/0", "in-octets", 9.0)]))
        assert store.scalar("SELECT count(*) FROM telemetry_series") == 1


def test_ticks_that_share_their_name_columns_map_each_row_to_its_series() -> None:
    # The twin reuses one set of name arrays for every tick; a slice of them (an offset
    # into the same buffers) must still map row by row.
    rows = [("r1", "Gi0/0", "in-octets"), ("r1", "Gi0/1", "in-octets"), ("r2", "system", "cpu")]
    names = {
        c: pa.array([r[i] for r in rows], pa.string()).dictionary_encode()
        for i, c in enumerate(("device", "entity", "metric"))
    }

    def shared(k: int, values: list[float]) -> pa.Table:
        stamp = pa.array([T0 + timedelta(seconds=10 * k)] * 3, pa.timestamp("us"))
        return pa.table({"ts": stamp, **names, "value": pa.array(values)})

    feed = pa.concat_tables(
        [shared(1, [1.0, 2.0, 3.0]), shared(2, [4.0, 5.0, 6.0]), shared(3, [7.0, 8.0, 9.0]).slice(1)]
    )
    store = Store(":memory:")
    assert store.append_arrow("telemetry", feed) == 8
    got = {(r[0].second, r[1], r[2], r[3]): r[4] for r in read_back(store)}
    assert got == {
        (10, "r1", "Gi0/0", "in-octets"): 1.0,
        (10, "r1", "Gi0/1", "in-octets"): 2.0,
        (10, "r2", "system", "cpu"): 3.0,
        (20, "r1", "Gi0/0", "in-octets"): 4.0,
        (20, "r1", "Gi0/1", "in-octets"): 5.0,
        (20, "r2", "system", "cpu"): 6.0,
        (30, "r1", "Gi0/1", "in-octets"): 8.0,
        (30, "r2", "system", "cpu"): 9.0,
    }
    assert store.scalar("SELECT count(*) FROM telemetry_series") == 3
