"""The twin keeps its telemetry ticks without their timestamp column and gives back the same tables."""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa
import pytest

from netops_agent.lab.sim.lab import TICK_S, SimLab, Ticks


def _advance_sampling(lab: SimLab, seconds: float) -> list[pa.Table]:
    """`SimLab.advance` as it was: each tick's table from `lab.sample()` (with its `ts`
    column), appended whole; returns the tables sampled."""
    sampled = []
    remaining = float(seconds)
    while remaining > 0:
        step = min(remaining, TICK_S - (lab.clock.timestamp() % TICK_S))
        lab.counters += lab.rates.per_s * step
        lab.clock += timedelta(seconds=step)
        remaining -= step
        if lab.clock.timestamp() % TICK_S < 1e-6:
            sampled.append(lab.sample())
            lab.telemetry.append(sampled[-1])
    return sampled


@pytest.mark.parametrize("jitter", [0.0, 0.05])
def test_ticks_read_back_as_sampled_and_since_filters_the_same(jitter: float) -> None:
    """`advance` keeps each tick without its stamp column (sampled without it, the rates'
    columns kept until a change): read back, the ticks are the tables `sample()` gave,
    random draws (jitter) included, before and after a change."""
    lab = SimLab.build("small", 42, jitter=jitter)
    old = SimLab.build("small", 42, jitter=jitter)
    old.cond.cpu_hogs["site1-leaf1"] = lab.cond.cpu_hogs["site1-leaf1"] = {"SNMP ENGINE": 81.0}
    lab.advance(47)
    sampled = _advance_sampling(old, 47)
    port = next(i for i in lab.inv.interfaces if i.kind == "p2p")
    for twin in (lab, old):  # a port goes down: its status and utilisation change
        twin.configs[port.device].interfaces[port.name].shutdown = True
        twin.commit()
    lab.advance(48)
    sampled += _advance_sampling(old, 48)
    assert len(lab.telemetry) == len(sampled) == 9
    for n, tbl in enumerate(sampled):
        assert lab.telemetry[n].equals(tbl, check_metadata=True)
        kept = lab.telemetry._ticks[n][0]
        assert "ts" not in kept.column_names  # the stamp column is not held
    assert all(a.equals(b) for a, b in zip(lab.telemetry, sampled, strict=True))
    assert lab.telemetry_since(None).equals(pa.concat_tables(sampled))
    mid = sampled[3]["ts"][0].as_py()
    assert lab.telemetry_since(mid).equals(pa.concat_tables(sampled[4:]))
    assert lab.telemetry_since(mid - timedelta(microseconds=1)).equals(pa.concat_tables(sampled[3:]))
    assert lab.telemetry_since(sampled[-1]["ts"][0].as_py()).num_rows == 0
    assert lab.telemetry_since(mid).equals(pa.concat_tables(sampled[4:]))  # stamps read once


def test_a_tick_with_several_stamps_is_kept_whole() -> None:
    ticks = Ticks()
    t0 = pa.scalar(0, pa.timestamp("us")).as_py()
    mixed = pa.table(
        {"ts": pa.array([t0, t0 + timedelta(seconds=1)], pa.timestamp("us")), "value": [1.0, 2.0]}
    )
    ticks.append(mixed)
    ticks.append(mixed.slice(0, 0))
    assert ticks[0].equals(mixed) and ticks[1].num_rows == 0
    ticks[1] = mixed.slice(0, 1)  # replaced (as transient noise does): packed again
    assert ticks[1].equals(mixed.slice(0, 1)) and "ts" not in ticks._ticks[1][0].column_names
    assert [t.num_rows for t in ticks.since(None)] == [2, 1]
    assert [t.num_rows for t in ticks.since(t0)] == []  # both start at t0
