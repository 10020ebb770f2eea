"""Transient spikes are written into the ticks with numpy: the same tables as through
pyarrow.compute's Kleene mask and if_else, for dictionary and plain name columns."""

from __future__ import annotations

import pyarrow as pa

from netops_agent.lab.sim import noise
from netops_agent.lab.sim.lab import SimLab


def test_patch_equals_the_compute_path() -> None:
    lab = SimLab.build("small", seed=42, jitter=0.05)
    lab.advance(40)
    tick = lab.telemetry[2]
    port = next(i for i in lab.inv.interfaces if i.kind == "p2p")
    plain = tick.set_column(1, "device", tick["device"].cast(pa.string()))  # names as strings
    spikes = [
        noise.Spike("errors", port.device, port.name, "in-errors", 0, 1, 700.0),
        noise.Spike("utilisation", port.device, port.name, "out-utilization", 0, 1, 97.5),
        noise.Spike("cpu", port.device, "system", "cpu-utilization", 0, 1, 95.0),
    ]
    for tbl in (tick, plain):
        for s in spikes:
            for kw in ({"add": s.value}, {"set_to": s.value}):
                got = noise._patch(tbl, s, s.metric, **kw)  # type: ignore[arg-type]
                want = noise._patch_compute(tbl, s, s.metric, **kw)  # type: ignore[arg-type]
                assert got.equals(want)
                assert got["value"].to_pylist() != tbl["value"].to_pylist()  # one row changed
    nobody = noise.Spike("cpu", "no-such-device", "system", "cpu-utilization", 0, 1, 95.0)
    assert noise._patch(tick, nobody, nobody.metric, set_to=1.0).equals(tick)


def test_spikes_and_their_ends_are_what_the_compute_path_gives(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    runs = []
    for patch in (noise._patch, noise._patch_compute):
        monkeypatch.setattr(noise, "_patch", patch)
        lab = SimLab.build("small", seed=42, jitter=0.05)
        lab.advance(300)
        spikes = noise.add_transient_spikes(lab, 6, seed=3)
        runs.append((spikes, list(lab.telemetry), dict(lab.spikes)))
    (s1, t1, u1), (s2, t2, u2) = runs
    assert s1 == s2 and u1 == u2 and len(t1) == len(t2)
    assert all(a.equals(b) for a, b in zip(t1, t2, strict=True))
