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


def test_twins_of_one_network_share_its_generation_not_their_state() -> None:
    """A second twin of the same (profile, seed) reuses the generated network: the same
    inventory and golden configs as generating afresh, and its own criticality, running
    configs and lookups."""
    from netops_agent.lab.base import apply_criticality
    from netops_agent.lab.sim import config as ios
    from netops_agent.lab.sim.topology import generate

    a, b = SimLab.build("small", seed=11), SimLab.build("small", seed=11)
    inv, golden = generate("small", 11)
    texts = {d: ios.render(c) for d, c in golden.items()}
    for lab in (a, b):
        assert lab.inv.model_dump() == inv.model_dump()
        assert {d: ios.render(c) for d, c in lab.golden.items()} == texts
    dev = inv.devices[0].name
    apply_criticality(a.inv, {dev: "critical", inv.sites[0].name: "high"})
    assert a.inv.device(dev).criticality == "critical" and a.inv.sites[0].criticality == "high"
    assert b.inv.device(dev).criticality == "normal" and b.inv.sites[0].criticality == "normal"
    assert SimLab.build("small", seed=11).inv.model_dump() == inv.model_dump()
    a.configure(dev, ["interface Loopback0", " shutdown"])
    assert a.configs[dev] is not b.configs[dev]
    assert b.configs[dev] == golden[dev] and a.configs[dev] != golden[dev]
    assert a.golden is not b.golden


def test_saved_inventory_tables_are_the_records_tables() -> None:
    """The inventory tables a save writes (made once for twins that share the lists) are
    the records' own: per twin and per network, criticality included."""
    from netops_agent.lab.base import apply_criticality
    from netops_agent.lab.sim import persist
    from netops_agent.store import Store

    def stored(lab: SimLab) -> dict[str, list[dict]]:
        store = Store(":memory:")
        persist.save(lab, store, fresh=True)
        return {t: store.query(f'SELECT * FROM "{t}"') for t, _ in persist._INVENTORY}

    def direct(lab: SimLab) -> dict[str, list[dict]]:
        return {t: persist._rows_table(getattr(lab.inv, t), m).to_pylist() for t, m in persist._INVENTORY}

    a, b, other = SimLab.build("small", seed=5), SimLab.build("small", seed=5), SimLab.build("small", seed=6)
    apply_criticality(b.inv, {b.inv.devices[0].name: "critical"})
    for lab in (a, b, other, a):
        assert stored(lab) == direct(lab)
    assert stored(a)["devices"] != stored(b)["devices"]
    assert stored(a)["interfaces"] == stored(b)["interfaces"] != stored(other)["interfaces"]
