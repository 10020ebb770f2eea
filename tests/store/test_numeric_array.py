"""`store.telemetry.numeric_array` is `pa.array` for numpy arrays already of the Arrow
type's width (the same values, types and NaN), built without loading numpy.ma; the
twin's ticks and saves go through it, so a twin that samples and saves loads no numpy.ma."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime

import numpy as np
import pyarrow as pa
import pytest

from netops_agent.store.telemetry import numeric_array

CASES = [
    (np.array([1, -2, 3], np.int32), pa.int32()),
    (np.arange(5, dtype=np.int64), pa.int64()),
    (np.array([0.5, np.nan, -1e300, 1e11], np.float64), pa.float64()),
    (np.full(4, np.datetime64(datetime(2026, 11, 30, 8, 0, 0, 123456), "us")), pa.timestamp("us")),
    (np.arange(12, dtype=np.float64).reshape(3, 4)[:, 1], pa.float64()),  # a strided column
    (np.zeros(0, np.int32), pa.int32()),
    # not of the type's width: pa.array itself converts (or refuses) them
    (np.array([1, 2, 3], np.int64), pa.int32()),
    (np.array([1.5, 2.5]), pa.float32()),
    (np.full(2, np.datetime64("2026-11-30T08:00:00", "s")), pa.timestamp("us")),
    (np.full(2, np.datetime64("2026-11-30T08:00:00", "us")), pa.timestamp("us", tz="UTC")),
]


@pytest.mark.parametrize(("values", "typ"), CASES)
def test_the_same_array_as_pa_array(values: np.ndarray, typ: pa.DataType) -> None:
    got, want = numeric_array(values, typ), pa.array(values, typ)
    assert got.type == want.type
    assert got.null_count == want.null_count == 0
    np.testing.assert_array_equal(got.to_numpy(zero_copy_only=False), want.to_numpy(zero_copy_only=False))


def test_nan_stays_a_value_not_a_null() -> None:
    got = numeric_array(np.array([np.nan, 1.0]), pa.float64())
    assert got.null_count == 0 and np.isnan(got.to_numpy()[0])


def test_the_array_outlives_the_numpy_one() -> None:
    values = np.arange(1000, dtype=np.float64)
    got = numeric_array(values * 2, pa.float64())  # a temporary: its buffer must be kept
    del values
    assert got.to_pylist()[-1] == 1998.0


PROBE = """
import json, sys
from netops_agent.lab.sim import persist
from netops_agent.lab.sim.lab import SimLab
from netops_agent.store import Store
lab = SimLab.build("small", seed=42)
lab.advance(60)
store = Store(":memory:")
persist.save(lab, store, fresh=True)
rows = store.scalar("SELECT count(*) FROM telemetry")
print(json.dumps({"rows": rows, "ma": "numpy.ma" in sys.modules}))
"""


def test_a_twin_that_samples_and_saves_loads_no_numpy_ma() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    assert data["rows"] > 0
    assert data["ma"] is False
