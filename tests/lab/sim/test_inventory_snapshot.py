"""A case's inventory snapshot equals a deep copy and stays put when the lab's changes."""

from __future__ import annotations

import copy

from netops_agent.lab.base import apply_criticality
from netops_agent.lab.sim.topology import generate
from netops_agent.pipeline.case import snapshot_inventory


def test_snapshot_equals_a_deep_copy_and_ignores_later_criticality() -> None:
    inv, _ = generate("small", 42)
    apply_criticality(inv, {"site1": "high", "site1-leaf1": "critical"})
    assert inv.device("site1-leaf1").criticality == "critical"  # builds the lookup index
    deep = copy.deepcopy(inv)
    snap = snapshot_inventory(inv)
    assert snap.model_dump() == deep.model_dump()
    assert snap.model_fields_set == inv.model_fields_set

    apply_criticality(inv, {"site1-leaf2": "low"})  # the next case on a shared (FRR) lab
    assert inv.device("site1-leaf1").criticality == "normal"
    assert snap.model_dump() == deep.model_dump()
    assert snap.device("site1-leaf1").criticality == "critical"  # not the original's index
    assert snap.device("site1-leaf2").criticality == "normal"
    assert snap.criticality("site1-leaf3") == "high"  # from its site
    inv.prefixes["site1-leaf1"].append("10.99.0.0/24")
    assert "10.99.0.0/24" not in snap.prefixes["site1-leaf1"]
