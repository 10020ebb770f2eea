"""Transient spikes touch the buffered telemetry only, briefly, and never the twin's state."""

from __future__ import annotations

from itertools import pairwise

import pyarrow as pa
import pyarrow.compute as pc

from netops_agent.lab.sim.lab import SimLab
from netops_agent.lab.sim.noise import MAX_TICKS, add_transient_spikes


def _value(tbl: pa.Table, device: str, entity: str, metric: str) -> float:
    mask = pc.and_(
        pc.and_(
            pc.equal(tbl["device"].cast(pa.string()), device),
            pc.equal(tbl["entity"].cast(pa.string()), entity),
        ),
        pc.equal(tbl["metric"].cast(pa.string()), metric),
    )
    return tbl.filter(mask)["value"][0].as_py()


def test_spikes_change_samples_not_state() -> None:
    lab = SimLab.build("small", 42)
    lab.advance(180)
    before_hash, counters = lab.state_hash(), lab.counters.copy()
    clean = list(lab.telemetry)
    spikes = add_transient_spikes(lab, 9, seed=3)
    assert len(spikes) == 9 and {s.kind for s in spikes} <= {"utilisation", "cpu", "errors"}
    assert lab.state_hash() == before_hash and (lab.counters == counters).all()
    for s in spikes:
        assert 1 <= s.ticks <= MAX_TICKS
        got = _value(lab.telemetry[s.tick], s.device, s.entity, s.metric)
        was = _value(clean[s.tick], s.device, s.entity, s.metric)
        assert got != was
        if s.kind != "errors" and s.tick + s.ticks < len(clean):  # gone by the next sample
            after = s.tick + s.ticks
            assert _value(lab.telemetry[after], s.device, s.entity, s.metric) == _value(
                clean[after], s.device, s.entity, s.metric
            ) or any(
                o.tick <= after < o.tick + o.ticks and (o.device, o.entity) == (s.device, s.entity)
                for o in spikes
            )
    assert len(lab.spikes) >= 1


def test_no_spikes_no_change() -> None:
    lab = SimLab.build("small", 42)
    lab.advance(60)
    before = [t.to_pydict() for t in lab.telemetry]
    assert add_transient_spikes(lab, 0) == []
    assert [t.to_pydict() for t in lab.telemetry] == before


def test_spikes_on_one_series_never_join_into_a_longer_condition() -> None:
    lab = SimLab.build("small", 42)
    lab.advance(180)  # 18 samples, 8 devices: 30 CPU spikes must share series
    spikes = add_transient_spikes(lab, 30, seed=5, kinds=("cpu",))
    by_series: dict[str, list[int]] = {}
    for s in spikes:
        by_series.setdefault(s.device, []).extend(range(s.tick, s.tick + s.ticks))
    for ticks in by_series.values():
        ticks.sort()
        run = 1
        for a, b in pairwise(ticks):
            run = run + 1 if b == a + 1 else 1
            assert run <= MAX_TICKS
