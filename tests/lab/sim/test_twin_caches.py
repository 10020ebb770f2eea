"""What the twin remembers between state changes answers what it would compute afresh,
and a state change (a commit) invalidates it."""

from __future__ import annotations

import pytest

from netops_agent.catalog import CATALOG
from netops_agent.lab.sim.faults import _CONFIGURED, SimFaults
from netops_agent.lab.sim.lab import SimLab
from netops_agent.lab.sim.telemetry import Layout
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


@pytest.mark.parametrize("slug", sorted(_CONFIGURED))
def test_a_configured_fault_needs_no_second_commit(slug: str) -> None:
    """The faults injected by one `configure` (which commits) skip apply_effect's commit:
    committing again would derive the same state and log nothing."""
    lab = _faulted([slug])
    before, events = lab.derived, list(lab.events)
    lab.commit()
    assert lab.derived == before
    assert lab.events == events


def test_config_texts_are_kept_per_state() -> None:
    """A save and a state hash render each config once per state: the kept text is what
    rendering gives, and a change (configure, or an edit in place then commit) replaces it."""
    from netops_agent.lab.sim import config as ios

    lab = SimLab.build("small", seed=42)
    dev = "site1-leaf1"
    first = lab.config_text(dev)
    assert first == ios.render(lab.configs[dev]) and lab.config_text(dev) is first
    assert lab.config_text(dev, golden=True) == ios.render(lab.golden[dev])
    hashed = lab.state_hash()
    lab.configure(dev, ["interface Loopback0", " description changed"])
    assert lab.config_text(dev) == ios.render(lab.configs[dev]) != first
    assert "description changed" in lab.config_text(dev)
    assert lab.config_text(dev, golden=True) == ios.render(lab.golden[dev])  # golden unchanged
    itf = next(iter(lab.configs[dev].interfaces.values()))
    itf.mtu = 1400  # an edit in place, then a commit (as tests and tools do)
    lab.commit()
    assert " mtu 1400" in lab.config_text(dev)
    assert lab.state_hash() != hashed


def _columns(lay: Layout) -> list[tuple[list, list, object]]:
    """Each name column as (its codes, its dictionary, its type)."""
    cols = (lay.device, lay.entity, lay.metric)
    return [(c.indices.to_pylist(), c.dictionary.to_pylist(), c.type) for c in cols]


def test_the_layout_is_kept_until_the_bgp_sessions_change() -> None:
    """Ticks share one layout while the sessions are the same (a change that leaves them, a
    shut interface, keeps it); removing a neighbour makes a new one, as built afresh."""
    from netops_agent.lab.sim.telemetry import layout

    lab = SimLab.build("small", seed=42)
    first = lab.layout()
    lab.configure("site1-leaf1", ["interface Loopback0", " shutdown"])
    assert lab.layout() is first
    fresh = layout(lab.inv, lab.idx, lab.rates)
    assert _columns(first) == _columns(fresh)
    dev = next(d for d, c in lab.configs.items() if c.bgp and c.bgp.neighbors)
    bgp = lab.configs[dev].bgp
    assert bgp is not None
    peer = next(iter(bgp.neighbors))
    lab.configure(dev, [f"router bgp {bgp.asn}", f" no neighbor {peer} remote-as"])
    changed = lab.layout()
    assert changed is not first
    fresh = layout(lab.inv, lab.idx, lab.rates)
    assert changed.rows == fresh.rows != first.rows
    assert _columns(changed) == _columns(fresh)
