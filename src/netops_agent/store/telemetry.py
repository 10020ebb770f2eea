"""Append long-format telemetry as series ids and samples (see `schema_telemetry`).

The incoming table is what a `NetworkView` returns: `(ts, device, entity, metric,
value)`, its names usually dictionary-encoded (the twin builds them that way). Only
the distinct (device, entity, metric) triples reach SQL as strings, a few thousand
per append whatever the number of rows; the rows themselves are mapped to series ids
with numpy and appended as `(ts, series, value)`: three numeric columns.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from netops_agent.errors import StoreError

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa


class Store(Protocol):
    """What an append needs of `store.db.Store` (which calls in here: no import back)."""

    def transaction(self) -> AbstractContextManager[Any]: ...
    def register(self, name: str, data: pa.Table) -> None: ...
    def unregister(self, name: str) -> None: ...
    def arrow(self, sql: str, params: Any = None) -> pa.Table: ...
    def query(self, sql: str, params: Any = None) -> list[dict[str, Any]]: ...
    def execute(self, sql: str, params: Any = None) -> None: ...
    def append_arrow(self, table: str, data: pa.Table, *, after: datetime | None = None) -> int: ...
    def remember(self, key: Any, value: Any, *, tables: Any) -> None: ...
    def recall(self, key: Any, default: Any = None) -> Any: ...


NAMES = ("device", "entity", "metric")
_DENSE_FACTOR = 4  # possible triples per row below which they are found without sorting


def numeric_array(values: np.ndarray, typ: pa.DataType) -> pa.Array:
    """`pa.array(values, typ)` for a numpy array of numbers (or datetime64) already of
    `typ`'s numpy type: over the array's own memory (copied only when not contiguous),
    NaN kept as NaN as `pa.array` keeps it. `pa.array` of an ndarray checks for
    `np.ma.MaskedArray`, which imports numpy.ma (~11 ms) on first use;
    `Array.from_buffers` does not. Anything else (another dtype, a zoned timestamp, an
    object array) goes to `pa.array` itself."""
    import numpy as np
    import pyarrow as pa

    if pa.types.is_timestamp(typ):
        fits = typ.tz is None and values.dtype == np.dtype(f"M8[{typ.unit}]")
    else:
        number = pa.types.is_integer(typ) or pa.types.is_floating(typ)
        fits = number and values.dtype == typ.to_pandas_dtype()
    if not fits or values.ndim != 1:
        return pa.array(values, typ)
    data = np.ascontiguousarray(values)
    return pa.Array.from_buffers(typ, len(data), [None, pa.py_buffer(data)])


def append_telemetry(store: Store, data: pa.Table, *, after: datetime | None = None) -> int:
    """Append `data` (with `after`, its rows later than that) to the `telemetry` view's
    tables in one transaction; returns the number of samples appended."""
    import pyarrow as pa

    if data.num_rows == 0:
        return 0
    missing = [c for c in (*NAMES, "value") if c not in data.column_names]
    if missing:
        raise StoreError(f"telemetry rows need device, entity, metric and value columns; missing {missing}")
    for name in NAMES:
        if data.column(name).null_count:
            nulls = data.column(name).null_count
            raise StoreError(f"telemetry rows need a {name} on every row; {nulls} have none")
    if "ts" in data.column_names:
        ts = data.column("ts")
    else:
        ts = pa.chunked_array([pa.nulls(data.num_rows, pa.timestamp("us"))])
    batches = data.select(list(NAMES)).to_batches()
    # A sampler that emits the same rows of names every tick (the twin's layout) shares
    # their buffers: each distinct set of name buffers is mapped to series ids once.
    layouts: dict[tuple, int] = {}
    order: list[int] = []
    firsts: list[pa.RecordBatch] = []
    for batch in batches:
        n = layouts.setdefault(_identity(batch), len(layouts))
        if n == len(firsts):
            firsts.append(batch)
        order.append(n)
    with store.transaction():
        chunks = [known[n] for n in order] if (known := _known_ids(store, firsts)) else []
        if not chunks:  # a set of names not seen since telemetry_series last changed
            ids = _series_ids(store, pa.Table.from_batches(firsts))
            bounds, at = [], 0
            for first in firsts:
                bounds.append((at, first.num_rows))
                at += first.num_rows
            series = numeric_array(ids, pa.int32())
            known = [series.slice(*bound) for bound in bounds]
            for first, ids_of in zip(firsts, known, strict=True):
                # the batch is kept with its ids: its buffers, alive, keep their addresses
                store.remember(_memo(first), (first, ids_of), tables=("telemetry_series",))
            chunks = [known[n] for n in order]
        samples = pa.table(
            {
                "ts": ts,
                "series": pa.chunked_array(chunks, pa.int32()),
                "value": data.column("value"),
            }
        )
        return store.append_arrow("telemetry_samples", samples, after=after)


def _memo(batch: pa.RecordBatch) -> tuple:
    return ("telemetry series ids", _identity(batch))


def _known_ids(store: Store, firsts: list[pa.RecordBatch]) -> list[pa.Array] | None:
    """The series ids of each batch of names, when every one was mapped since
    `telemetry_series` last changed (`Store.remember` forgets them when a statement writes
    that table, a transaction rolls back or another process may have written); else None."""
    out = []
    for first in firsts:
        kept = store.recall(_memo(first))
        if kept is None:
            return None
        out.append(kept[1])
    return out


def _identity(batch: pa.RecordBatch) -> tuple:
    """Equal for batches whose name columns are the same memory (Arrow buffers are immutable)."""
    out: list[object] = [batch.num_rows]
    for col in batch.columns:
        parts = [col.indices, col.dictionary] if hasattr(col, "indices") else [col]
        for part in parts:
            out.append(part.offset)
            out.extend(b.address if b is not None else 0 for b in part.buffers())
    return tuple(out)


def _series_ids(store: Store, names: pa.Table) -> np.ndarray:
    """The series id of each row of `names` (device, entity, metric), numbering new ones."""
    import numpy as np
    import pyarrow as pa

    codes, words = [], []
    for name in NAMES:
        col = names.column(name)
        if pa.types.is_dictionary(col.type):
            col = col.unify_dictionaries() if col.num_chunks > 1 else col
        arr = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
        if not pa.types.is_dictionary(arr.type):
            arr = arr.dictionary_encode()
        codes.append(arr.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False))
        words.append(arr.dictionary)
    sizes = [len(w) for w in words]
    keys = (codes[0] * sizes[1] + codes[1]) * sizes[2] + codes[2]
    space = sizes[0] * sizes[1] * sizes[2]
    # Mark the triples present over every possible key when that space is no bigger than
    # the rows (linear, no sort); otherwise sort the keys. The space grows with the product
    # of the three dictionaries (500 routers x 3,750 entities x 14 metrics = 26 M keys for
    # 121,600 rows): allocating over it would cost ~130 MiB for a moment.
    if space <= _DENSE_FACTOR * len(keys):
        present = np.zeros(space, dtype=bool)
        present[keys] = True
        distinct = np.flatnonzero(present)
        inverse = None
    else:
        distinct, inverse = np.unique(keys, return_inverse=True)
    d, rest = np.divmod(distinct, sizes[1] * sizes[2])
    e, m = np.divmod(rest, sizes[2])
    # Each distinct triple's names as its positions in the three dictionaries: columns go to
    # DuckDB dictionary-encoded (`_names`), the same strings stored, no Python string each.
    codes_of = [d, e, m]
    # New series are numbered after the last id, in the order of their keys. When
    # `telemetry_series` holds none (a fresh run's), every triple is new: no lookup.
    stats = store.query("SELECT count(*) AS held, coalesce(max(id), 0) AS top FROM telemetry_series")[0]
    held, top = stats["held"], stats["top"]
    ids = np.zeros(len(distinct), dtype=np.int32)
    new = np.ones(len(distinct), dtype=bool)
    if held:
        triples = pa.table(
            {"k": numeric_array(np.arange(len(distinct), dtype=np.int64), pa.int64())}
            | _names(codes_of, words)
        )
        store.register("_series_in", triples)
        try:
            found = store.arrow(
                "SELECT s.k, t.id FROM _series_in s JOIN telemetry_series t "
                "ON t.device = s.device AND t.entity = s.entity AND t.metric = s.metric"
            )
        finally:
            store.unregister("_series_in")
        at = found.column("k").to_numpy()
        ids[at] = found.column("id").to_numpy()
        new[at] = False
    fresh = np.flatnonzero(new)
    if len(fresh):
        ids[fresh] = top + 1 + np.arange(len(fresh))
        store.append_arrow(
            "telemetry_series",
            pa.table(
                {"id": numeric_array(ids[fresh], pa.int32())}
                | _names([codes[fresh] for codes in codes_of], words)
            ),
        )
    if inverse is None:
        lookup = np.empty(space, dtype=np.int32)
        lookup[distinct] = ids
        return lookup[keys]
    return ids[inverse]


def _names(codes_of: list[np.ndarray], words: list[pa.Array]) -> dict[str, pa.Array]:
    """The device, entity and metric columns of triples given as positions in their
    dictionaries: dictionary-encoded Arrow arrays (DuckDB stores and compares the strings
    they stand for), where `pa.array(names.tolist(), pa.string())` made a Python string per
    row and name (~30 ms for the large profile's 121,600 series). Array.take would load
    pyarrow.compute (~40 ms)."""
    import numpy as np
    import pyarrow as pa

    return {
        name: pa.DictionaryArray.from_arrays(numeric_array(codes.astype(np.int32), pa.int32()), dictionary)
        for name, codes, dictionary in zip(NAMES, codes_of, words, strict=True)
    }
