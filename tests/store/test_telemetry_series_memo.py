"""The series ids of a set of name columns are looked up once and remembered
(`Store.remember`) until `telemetry_series` changes: what a later append maps from memory
is what the lookup gives, and a clear or a rollback makes it look again."""

from __future__ import annotations

from datetime import datetime, timedelta

import pyarrow as pa
import pytest

from netops_agent.store import Store, telemetry

T0 = datetime(2026, 11, 30, 8, 0)
NAMES = {
    "device": pa.array(["r1", "r2", "r1", "r3"], pa.string()).dictionary_encode(),
    "entity": pa.array(["Gi0/0", "Gi0/0", "system", "Gi0/1"], pa.string()).dictionary_encode(),
    "metric": pa.array(["in-octets", "in-octets", "cpu", "oper-status"], pa.string()).dictionary_encode(),
}


def tick(k: int, names: dict[str, pa.Array] = NAMES) -> pa.Table:
    """A tick that shares its name columns (the same buffers) with every other tick."""
    n = len(names["device"])
    return pa.table(
        {
            "ts": pa.array([T0 + timedelta(seconds=10 * k)] * n, pa.timestamp("us")),
            **names,
            "value": pa.array([float(k * 10 + j) for j in range(n)], pa.float64()),
        }
    )


def rows(store: Store) -> list[tuple]:
    return [
        tuple(r.values())
        for r in store.query("SELECT ts, device, entity, metric, value FROM telemetry ORDER BY ALL")
    ]


def series(store: Store) -> list[tuple]:
    return [tuple(r.values()) for r in store.query("SELECT * FROM telemetry_series ORDER BY id")]


def counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = telemetry._series_ids

    def spy(store, names):  # type: ignore[no-untyped-def]
        calls.append(names.num_rows)
        return real(store, names)

    monkeypatch.setattr(telemetry, "_series_ids", spy)
    return calls


def test_a_remembered_mapping_stores_what_a_lookup_stores(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = counting(monkeypatch)
    cached, fresh = Store(":memory:"), Store(":memory:")
    with cached.transaction():
        for k in range(4):
            cached.append_arrow("telemetry", tick(k))
    assert len(calls) == 1  # the first tick looked the names up; the rest were remembered
    for k in range(4):  # the same names in new buffers each tick: looked up every time
        copied = {c: pa.array(a.to_pylist(), pa.string()).dictionary_encode() for c, a in NAMES.items()}
        fresh.append_arrow("telemetry", tick(k, copied))
    assert len(calls) == 5
    assert rows(cached) == rows(fresh) and len(rows(cached)) == 16
    assert series(cached) == series(fresh)


def test_a_change_to_the_series_table_makes_it_look_again(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = counting(monkeypatch)
    store = Store(":memory:")
    store.append_arrow("telemetry", tick(0))
    store.append_arrow("telemetry", tick(1))
    assert len(calls) == 1
    # cleared (a fresh lab's observations): the ids are numbered again, not reused from memory
    store.clear(("telemetry_samples", "telemetry_series"))
    other = {
        k: pa.array(["x"] * 4, pa.string()).dictionary_encode() if k == "device" else v
        for k, v in NAMES.items()
    }
    store.append_arrow("telemetry", tick(2, other))  # other names take the first ids
    store.append_arrow("telemetry", tick(3))
    assert len(calls) == 3
    got = {
        (r["device"], r["entity"], r["metric"]): r["value"] for r in store.query("SELECT * FROM telemetry")
    }
    assert got[("r1", "Gi0/0", "in-octets")] == 30.0 and got[("x", "Gi0/0", "in-octets")] == 20.0
    # a rollback takes back the series it numbered: the next append must look them up again
    store.clear(("telemetry_samples", "telemetry_series"))
    with pytest.raises(RuntimeError), store.transaction():
        store.append_arrow("telemetry", tick(4))
        raise RuntimeError("crash")
    assert series(store) == []
    store.append_arrow("telemetry", tick(5))
    assert len(calls) == 5
    names = [NAMES[c].to_pylist() for c in ("device", "entity", "metric")]
    assert [r[1:4] for r in rows(store)] == sorted(zip(*names, strict=True))
    assert len(series(store)) == 4
