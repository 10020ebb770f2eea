"""The twin's dictionary-encoded name columns are Arrow's `dictionary_encode()` exactly (same
dictionary in first-occurrence order, same int32 codes), built without pyarrow.compute."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from netops_agent.lab.sim.lab import SimLab
from netops_agent.lab.sim.telemetry import _encode, layout


def _arrow(values: np.ndarray) -> pa.Array:
    return pa.array(values, pa.string()).dictionary_encode()


@pytest.mark.parametrize(
    "values",
    [
        ["leaf2", "leaf1", "leaf2", "spine1", "leaf1", "edge1"],  # not in sorted order
        ["only"],
        ["b", "a", "b", "a"],
    ],
)
def test_small_arrays(values: list[str]) -> None:
    arr = np.array(values, dtype=object)
    got, want = _encode(arr), _arrow(arr)
    assert got.type == want.type == pa.dictionary(pa.int32(), pa.string())
    assert got.equals(want)


def test_the_twins_layout() -> None:
    lab = SimLab.build("medium", seed=7)
    lay = layout(lab.inv, lab.idx, lab.rates)
    for col in (lay.device, lay.entity, lay.metric):
        values = np.array(col.to_pylist(), dtype=object)
        assert col.equals(_arrow(values))
        assert col.dictionary.to_pylist() == list(dict.fromkeys(values))  # first-occurrence order
