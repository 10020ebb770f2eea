"""`disturbance.observable` reads the twin's derived state and routing view as kept since
its last commit: the same entities and states as deriving and routing afresh."""

from __future__ import annotations

from netops_agent.lab.sim import disturbance
from netops_agent.lab.sim.faults import SimFaults
from netops_agent.lab.sim.lab import SimLab
from netops_agent.models import FaultSpec


def _fresh(lab: SimLab) -> dict:
    lab._derived = None  # derive and route again from configuration and condition
    lab._cache.clear()
    return disturbance.observable(lab)


def test_observable_from_the_kept_state_equals_a_fresh_derive() -> None:
    lab = SimLab.build("small", seed=42)
    specs = [FaultSpec(type=t) for t in ("bgp_neighbor_shutdown", "link_failure", "acl_blocking")]
    faults = SimFaults(lab).inject_all(specs, seed=5)
    kept = disturbance.observable(lab)
    assert kept == _fresh(lab)
    for f in faults:
        twin = disturbance.replay("small", 42, [f])
        seen = disturbance.observable(twin)
        assert seen == _fresh(twin) and seen != disturbance._clean("small", 42)
