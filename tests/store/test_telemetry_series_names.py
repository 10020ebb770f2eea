"""New series' names reach DuckDB as dictionary-encoded columns (positions in the input's
dictionaries), not as a Python string per row: the same rows stored in `telemetry_series`,
the same ids returned, and the same lookups of known series, as with plain string columns
(the way they went in before, kept here as the reference)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from netops_agent.lab.sim.lab import SimLab
from netops_agent.store import Store, telemetry

T0 = datetime(2026, 12, 1, 8, 0)


def _plain_names(codes_of: list[np.ndarray], words: list[pa.Array]) -> dict[str, pa.Array]:
    return {
        name: pa.array(w.to_numpy(zero_copy_only=False)[codes].tolist(), pa.string())
        for name, codes, w in zip(telemetry.NAMES, codes_of, words, strict=True)
    }


def _feeds() -> list[pa.Table]:
    """Appends that number new series, meet known ones and mix input encodings: a twin's
    ticks (dictionary columns), then rows whose dictionaries hold unused and reordered
    words, plain string columns, and a column in two chunks with different dictionaries."""
    lab = SimLab.build("small", seed=42)
    lab.advance(20)
    ticks = [lab.telemetry[0], lab.telemetry[1]]
    dev = pa.DictionaryArray.from_arrays(
        pa.array([2, 0, 2, 3], pa.int32()), pa.array(["unused", "site1-leaf1", "zz-new", "site1-spine1"])
    )
    mixed = pa.table(
        {
            "ts": pa.array([T0] * 4, pa.timestamp("us")),
            "device": dev,
            "entity": pa.array(["GigabitEthernet0/1", "Loopback9", "Loopback9", "system"]),
            "metric": pa.array(["in-octets", "in-octets", "oper-status", "cpu-utilization"]),
            "value": pa.array([1.0, 2.0, 3.0, 4.0]),
        }
    )
    chunked = pa.table(
        {
            "ts": pa.array([T0 + timedelta(seconds=10)] * 3, pa.timestamp("us")),
            "device": pa.chunked_array(
                [pa.array(["r9", "site1-leaf2"]).dictionary_encode(), pa.array(["r9"]).dictionary_encode()]
            ),
            "entity": pa.array(["Gi0/0", "GigabitEthernet0/0", "Gi0/1"]),
            "metric": pa.array(["in-octets", "in-octets", "in-octets"]).dictionary_encode(),
            "value": pa.array([5.0, 6.0, 7.0]),
        }
    )
    return [*ticks, mixed, chunked]


def _run(monkeypatch: pytest.MonkeyPatch, plain: bool) -> tuple[list[list[int]], list[tuple], list[tuple]]:
    if plain:
        monkeypatch.setattr(telemetry, "_names", _plain_names)
    ids = []
    with Store(":memory:") as store:
        for feed in _feeds():
            names = feed.select(list(telemetry.NAMES))
            ids.append(telemetry._series_ids(store, names).tolist())
            telemetry.append_telemetry(store, feed)
        series = [tuple(r.values()) for r in store.query("SELECT * FROM telemetry_series ORDER BY id")]
        read = "SELECT * FROM telemetry ORDER BY ts, device, entity, metric"
        samples = [tuple(r.values()) for r in store.query(read)]
    monkeypatch.undo()
    return ids, series, samples


def test_dictionary_encoded_names_store_what_plain_strings_stored(monkeypatch: pytest.MonkeyPatch) -> None:
    got = _run(monkeypatch, plain=False)
    want = _run(monkeypatch, plain=True)
    assert got == want
    ids, series, samples = got
    assert len(series) > 100 and len(samples) > 1000
    new = {("zz-new", "GigabitEthernet0/1", "in-octets"), ("zz-new", "Loopback9", "oper-status")}
    assert new <= {s[1:] for s in series}
    assert ids[1] == ids[0]  # the second tick's series are the first's
    assert {s[1] for s in series} >= {"r9", "site1-leaf2", "site1-spine1"}
