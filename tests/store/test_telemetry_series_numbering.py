"""New telemetry series are numbered as the join-based lookup numbered them: after the
last id, in the order of their (device, entity, metric) keys; known ones keep their ids;
an empty series table (a fresh run's) takes no lookup at all."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from netops_agent.store import Store, telemetry

T0 = datetime(2026, 11, 30, 8, 0)


def _tick(k: int, devices: list[str], entities: list[str], metrics: list[str]) -> pa.Table:
    n = len(devices)
    return pa.table(
        {
            "ts": pa.array([T0 + timedelta(seconds=10 * k)] * n, pa.timestamp("us")),
            "device": pa.array(devices, pa.string()).dictionary_encode(),
            "entity": pa.array(entities, pa.string()),  # plain strings too
            "metric": pa.array(metrics, pa.string()).dictionary_encode(),
            "value": pa.array([float(j) for j in range(n)]),
        }
    )


def _reference_ids(store: Store, names: pa.Table) -> np.ndarray:
    """The lookup as it was: join the distinct triples to telemetry_series, number the
    missing ones with one INSERT (max(id) + row_number over the keys), join again."""
    cols = {c: names.column(c).to_pylist() for c in ("device", "entity", "metric")}
    triples = sorted(set(zip(cols["device"], cols["entity"], cols["metric"], strict=True)))
    # the keys sort as the dictionaries' codes do: first-occurrence order per column
    order = {c: {v: n for n, v in enumerate(dict.fromkeys(cols[c]))} for c in cols}
    triples.sort(key=lambda t: (order["device"][t[0]], order["entity"][t[1]], order["metric"][t[2]]))
    tbl = pa.table(
        {
            "k": pa.array(range(len(triples)), pa.int64()),
            "device": [t[0] for t in triples],
            "entity": [t[1] for t in triples],
            "metric": [t[2] for t in triples],
        }
    )
    known = (
        "SELECT s.k, t.id FROM _series_in s JOIN telemetry_series t "
        "ON t.device = s.device AND t.entity = s.entity AND t.metric = s.metric"
    )
    store.register("_series_in", tbl)
    store.execute(
        "INSERT INTO telemetry_series SELECT (SELECT coalesce(max(id), 0) FROM telemetry_series)"
        " + row_number() OVER (ORDER BY k), device, entity, metric FROM _series_in s"
        " WHERE NOT EXISTS (SELECT 1 FROM telemetry_series t WHERE t.device = s.device"
        " AND t.entity = s.entity AND t.metric = s.metric)"
    )
    found = store.arrow(known)
    store.unregister("_series_in")
    by_key = dict(zip(found.column("k").to_pylist(), found.column("id").to_pylist(), strict=True))
    at = {t: by_key[n] for n, t in enumerate(triples)}
    return np.array([at[t] for t in zip(cols["device"], cols["entity"], cols["metric"], strict=True)])


def _series(store: Store) -> list[tuple]:
    return [tuple(r.values()) for r in store.query("SELECT * FROM telemetry_series")]  # stored order


@pytest.mark.parametrize("held", [0, 3])
def test_ids_and_stored_series_equal_the_join_based_numbering(held: int) -> None:
    new, old = Store(":memory:"), Store(":memory:")
    devices, entities, metrics = ["r2", "r1", "r2"], ["a", "a", "b"], ["m", "n", "m"]
    first = _tick(0, devices[:held], entities[:held], metrics[:held])
    for store in (new, old):
        if held:
            store.append_arrow("telemetry", first)  # some series known beforehand
    devices, entities = ["r1", "r3", "r2", "r1", "r4", "r2"], ["a", "c", "b", "z", "a", "b"]
    later = _tick(1, devices, entities, ["n", "m", "m", "n", "m", "q"])
    with new.transaction():
        got = telemetry._series_ids(new, later.select(["device", "entity", "metric"]))
    with old.transaction():
        want = _reference_ids(old, later.select(["device", "entity", "metric"]))
    assert got.tolist() == want.tolist()
    assert _series(new) == _series(old)
    assert len(_series(new)) == (7 if held else 6)  # two of the later six were known


def test_a_fresh_series_table_takes_no_lookup_join() -> None:
    store = Store(":memory:")
    seen: list[str] = []
    real = store._relation

    def spy(sql, *a, **kw):  # type: ignore[no-untyped-def]
        seen.append(sql)
        return real(sql, *a, **kw)

    store._relation = spy  # type: ignore[method-assign]
    store.append_arrow("telemetry", _tick(0, ["r1", "r2"], ["a", "a"], ["m", "m"]))
    assert not any("JOIN telemetry_series" in q for q in seen)
    store.append_arrow("telemetry", _tick(1, ["r1", "r9"], ["a", "a"], ["m", "m"]))  # r9 is new
    assert any("JOIN telemetry_series" in q for q in seen)
    assert _series(store) == [(1, "r1", "a", "m"), (2, "r2", "a", "m"), (3, "r9", "a", "m")]
