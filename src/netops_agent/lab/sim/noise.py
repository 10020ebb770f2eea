"""Benign transient noise for the twin's telemetry (scenario `noise.transient_spikes`).

A transient spike is what makes a NOC's life hard without anything being wrong: a
utilisation burst, a CPU blip, a short burst of input errors, gone within a sample
or two. Spikes are written into the telemetry samples the twin has buffered
(`lab.telemetry`) and nowhere else: configuration, condition and the counters the
CLI shows are untouched, so `state_hash()` is unchanged. `lab.spikes` records each
spike (key -> until, epoch seconds) for whoever inspects the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa

from netops_agent.lab.sim.lab import TICK_S, SimLab
from netops_agent.lab.sim.state import key
from netops_agent.store.telemetry import numeric_array

KINDS = ("utilisation", "cpu", "errors")
MAX_TICKS = 2  # a spike lasts one or two samples (never long enough to be a condition)


@dataclass(frozen=True)
class Spike:
    kind: str
    device: str
    entity: str
    metric: str
    tick: int  # index into lab.telemetry
    ticks: int
    value: float

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "device": self.device,
            "entity": self.entity,
            "metric": self.metric,
            "tick": self.tick,
            "ticks": self.ticks,
            "value": self.value,
        }


def add_transient_spikes(
    lab: SimLab, count: int, *, seed: int = 0, kinds: tuple[str, ...] = KINDS
) -> list[Spike]:
    """Inject `count` spikes into the buffered telemetry; return what was injected."""
    ticks = len(lab.telemetry)
    if count <= 0 or ticks == 0:
        return []
    rng = np.random.default_rng([seed, 1729, count])
    busy: dict[tuple[str, str, str], set[int]] = {}
    spikes = [_plan_apart(lab, rng, str(rng.choice(kinds)), ticks, busy) for _ in range(count)]
    for spike in spikes:
        _apply(lab, spike)
    return spikes


def _plan_apart(
    lab: SimLab, rng: np.random.Generator, kind: str, ticks: int, busy: dict[tuple[str, str, str], set[int]]
) -> Spike:
    """A spike that leaves a clean sample before and after it on its series, so that two
    spikes never join into one longer condition (they are transient by definition)."""
    spike = _plan(lab, rng, kind, ticks)
    for _ in range(50):
        taken = busy.get((spike.device, spike.entity, spike.metric), set())
        span = set(range(spike.tick - 1, spike.tick + spike.ticks + 1))
        if not span & taken:
            break
        spike = _plan(lab, rng, kind, ticks)
    busy.setdefault((spike.device, spike.entity, spike.metric), set()).update(
        range(spike.tick, spike.tick + spike.ticks)
    )
    return spike


def _plan(lab: SimLab, rng: np.random.Generator, kind: str, ticks: int) -> Spike:
    length = int(rng.integers(1, MAX_TICKS + 1))
    start = int(rng.integers(0, ticks))
    length = min(length, ticks - start)
    if kind == "cpu":
        dev = str(rng.choice(lab.inv.device_names()))
        return Spike(kind, dev, "system", "cpu-utilization", start, length, float(rng.uniform(92, 99)))
    ports = [(i.device, i.name) for i in lab.inv.interfaces if i.kind == "p2p"]
    dev, name = ports[int(rng.integers(0, len(ports)))]
    if kind == "errors":
        return Spike(kind, dev, name, "in-errors", start, 1, float(rng.integers(200, 2000)))
    metric = str(rng.choice(["in-utilization", "out-utilization"]))
    return Spike(kind, dev, name, metric, start, length, float(rng.uniform(96, 100)))


def _apply(lab: SimLab, spike: Spike) -> None:
    if spike.kind == "errors":
        # A burst of errors: counters only grow, so every later sample carries it too.
        for i in range(spike.tick, len(lab.telemetry)):
            for metric in ("in-errors", "in-fcs-errors"):
                lab.telemetry[i] = _patch(lab.telemetry[i], spike, metric, add=spike.value)
    else:
        for i in range(spike.tick, spike.tick + spike.ticks):
            lab.telemetry[i] = _patch(lab.telemetry[i], spike, spike.metric, set_to=spike.value)
    last = lab.telemetry[spike.tick + spike.ticks - 1]
    lab.spikes[key(spike.device, spike.entity)] = _latest(last["ts"]).timestamp() + TICK_S


def _latest(ts: pa.ChunkedArray) -> datetime:
    """`pc.max(ts).as_py()` without loading pyarrow.compute (~40 ms)."""
    if ts.null_count or not len(ts) or ts.type != pa.timestamp("us"):
        import pyarrow.compute as pc

        return pc.max(ts).as_py()  # type: ignore[no-any-return]
    return ts.to_numpy().max().item()  # type: ignore[no-any-return]


def _matches(col: pa.ChunkedArray, word: str) -> np.ndarray:
    """Rows of a name column (dictionary-encoded or plain strings) equal to `word`."""
    arr = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    if pa.types.is_dictionary(arr.type):
        hits = np.flatnonzero(arr.dictionary.to_numpy(zero_copy_only=False) == word)
        return np.isin(arr.indices.to_numpy(zero_copy_only=False), hits)
    return arr.to_numpy(zero_copy_only=False) == word


def _patch(
    tbl: pa.Table, spike: Spike, metric: str, *, set_to: float | None = None, add: float = 0.0
) -> pa.Table:
    """The tick with the spike's series set to `set_to` (or `add` added), as
    `pc.if_else(mask, ..., values)` over the name columns would give it (with numpy: no
    pyarrow.compute to load, no name column cast to strings per tick)."""
    names = (tbl["device"], tbl["entity"], tbl["metric"])
    values = tbl["value"]
    if any(c.null_count for c in names) or values.null_count or values.type != pa.float64():
        return _patch_compute(tbl, spike, metric, set_to=set_to, add=add)
    mask = _matches(names[0], spike.device) & _matches(names[1], spike.entity) & _matches(names[2], metric)
    out = values.to_numpy().copy()
    if set_to is not None:
        out[mask] = set_to
    else:
        out[mask] = out[mask] + add
    return tbl.set_column(tbl.schema.get_field_index("value"), "value", numeric_array(out, pa.float64()))


def _patch_compute(
    tbl: pa.Table, spike: Spike, metric: str, *, set_to: float | None = None, add: float = 0.0
) -> pa.Table:
    """`_patch` through pyarrow.compute (names or values with nulls: Kleene logic)."""
    import pyarrow.compute as pc

    mask = pc.and_(
        pc.and_(
            pc.equal(tbl["device"].cast(pa.string()), spike.device),
            pc.equal(tbl["entity"].cast(pa.string()), spike.entity),
        ),
        pc.equal(tbl["metric"].cast(pa.string()), metric),
    )
    values = tbl["value"]
    new = pc.if_else(
        mask, pa.scalar(set_to, pa.float64()) if set_to is not None else pc.add(values, add), values
    )
    return tbl.set_column(tbl.schema.get_field_index("value"), "value", new)
