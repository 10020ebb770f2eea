"""The telemetry ticks a twin sampled (`SimLab.telemetry`), kept without their stamp column."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import numpy as np
import pyarrow as pa

from netops_agent.lab.sim.telemetry import TS_FIELD
from netops_agent.store.telemetry import numeric_array

__all__ = ["Ticks"]


class Ticks:
    """The telemetry ticks a twin sampled, in order: a list of Arrow tables.

    Every row of a tick carries the same time, so each is kept without its `ts` column
    (8 bytes a row: ~26 MB over the large case's 3.3 M rows) and given the same column
    back when read. A tick that does not start with one stamp on every row, in one
    chunk, is kept whole."""

    def __init__(self) -> None:
        # (the table without ts, the ts field, the stamp) or (the table, None, None)
        self._ticks: list[tuple[pa.Table, pa.Field | None, np.datetime64 | None]] = []
        self._firsts: list[datetime | None] = []  # each tick's first stamp, read once (since)

    @staticmethod
    def _pack(tbl: pa.Table) -> tuple[pa.Table, pa.Field | None, np.datetime64 | None]:
        if (
            tbl.num_rows == 0
            or tbl.schema.names[:1] != ["ts"]
            or not pa.types.is_timestamp(tbl.schema[0].type)
        ):
            return tbl, None, None
        col = tbl.column(0)
        if col.num_chunks != 1 or col.null_count:
            return tbl, None, None
        stamps = col.chunk(0).to_numpy()
        if not (stamps == stamps[0]).all():
            return tbl, None, None
        return tbl.remove_column(0), tbl.schema.field(0), stamps[0]

    def _unpack(self, n: int) -> pa.Table:
        tbl, field, stamp = self._ticks[n]
        if field is None:
            return tbl
        return tbl.add_column(0, field, numeric_array(np.full(tbl.num_rows, stamp), field.type))

    def append(self, tbl: pa.Table) -> None:
        self._ticks.append(self._pack(tbl))
        self._firsts.append(None)

    def append_stamped(self, tbl: pa.Table, ts: datetime) -> None:
        """Append a tick given without its `ts` column: every row stamped `ts` (what
        `append` keeps of the table with that column first)."""
        if not tbl.num_rows:  # kept whole, as `_pack` keeps an empty tick
            self.append(tbl.add_column(0, TS_FIELD, pa.array([], TS_FIELD.type)))
            return
        self._ticks.append((tbl, TS_FIELD, np.datetime64(ts, "us")))
        self._firsts.append(None)

    def __len__(self) -> int:
        return len(self._ticks)

    def __getitem__(self, n: int) -> pa.Table:
        return self._unpack(range(len(self._ticks))[n])

    def __setitem__(self, n: int, tbl: pa.Table) -> None:
        self._ticks[n] = self._pack(tbl)
        self._firsts[n] = None

    def __iter__(self) -> Iterator[pa.Table]:
        return (self._unpack(n) for n in range(len(self._ticks)))

    def since(self, since: datetime | None) -> list[pa.Table]:
        """The non-empty ticks stamped after `since` (all of them for None)."""
        out = []
        for n, (tbl, field, stamp) in enumerate(self._ticks):
            if not tbl.num_rows:
                continue
            if since is not None:
                first = self._firsts[n]
                if first is None:
                    first = self._firsts[n] = _as_py(stamp if field is not None else tbl["ts"][0], field)
                if first <= since:
                    continue
            out.append(self._unpack(n))
        return out


def _as_py(stamp: object, field: pa.Field | None) -> datetime:
    """A tick's time as `tbl["ts"][0].as_py()` gives it."""
    if field is None:
        return stamp.as_py()  # type: ignore[attr-defined,no-any-return]
    return pa.scalar(stamp, field.type).as_py()  # type: ignore[no-any-return]
