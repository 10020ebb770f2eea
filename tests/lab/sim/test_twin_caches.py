"""What the twin remembers between state changes answers what it would compute afresh,
and a state change (a commit) invalidates it."""

from __future__ import annotations

import pytest

from netops_agent.catalog import CATALOG
from netops_agent.lab.sim.faults import SimFaults
from netops_agent.lab.sim.lab import SimLab
from netops_agent.models import FaultSpec


def _faulted(slugs: list[str], seed: int = 5) -> SimLab:
    lab = SimLab.build("small", seed=42)
    SimFaults(lab).inject_all([FaultSpec(type=s, target="auto") for s in slugs], seed=seed)
    return lab


def _every_fault_alone() -> list[list[str]]:
    return [[slug] for slug in CATALOG]


@pytest.mark.parametrize("slugs", [[], *_every_fault_alone(), list(CATALOG)[:6]])
def test_route_count_is_the_routing_tables_length(slugs: list[str]) -> None:
    """`show ip bgp summary` counts routes without building the table: the same number,
    on a healthy twin, with each catalog fault and with several at once."""
    lab = _faulted(slugs)
    for dev in lab.inv.device_names():
        fresh = lab.routing.__class__(lab.inv, lab.configs, lab.derived)
        assert fresh.route_count(dev) == len(fresh.routes(dev)), (slugs, dev)
        assert fresh.route_count(dev) == len(fresh.routes(dev))  # counted from the table


def test_route_count_follows_a_state_change() -> None:
    lab = SimLab.build("small", seed=42)
    dev = "site1-leaf1"
    before = lab.routing.route_count(dev)
    link = next(lk for lk in lab.inv.links if dev in (lk.a_device, lk.b_device))
    other = link.b_device if link.a_device == dev else link.a_device
    other_if = link.b_interface if link.a_device == dev else link.a_interface
    lab.configure(other, [f"interface {other_if}", " shutdown"])
    after = lab.routing.route_count(dev)
    assert after == len(lab.routing.__class__(lab.inv, lab.configs, lab.derived).routes(dev))
    assert after != before
