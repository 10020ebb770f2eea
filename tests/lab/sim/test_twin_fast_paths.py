"""The twin's faster paths give what the straightforward code gave: device gauges from
arrays kept per twin, the duplex check from the inventory's cable ends, the routing graphs
built inline, the layout kept while the derived state is the same."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import numpy as np

from netops_agent.lab.sim.lab import SimLab
from netops_agent.lab.sim.routing import Routing
from netops_agent.lab.sim.telemetry import C, _peer_duplex, compute_rates, device_gauges


def test_gauges_equal_device_gauges_and_follow_the_conditions() -> None:
    lab = SimLab.build("small", seed=7)
    names = lab.inv.device_names()

    def same() -> None:
        cpu, mem = lab.gauges()
        ref_cpu, ref_mem = device_gauges(lab.inv, lab.cond, lab.clock, lab.base_cpu, lab.base_mem)
        assert cpu.tolist() == ref_cpu.tolist() and mem.tolist() == ref_mem.tolist()
        for n, name in enumerate(names):
            assert lab.device_gauges(name) == (ref_cpu[n], ref_mem[n])

    same()
    lab.cond.cpu_hogs[names[1]] = {"SNMP ENGINE": 81.0, "IP Input": 3.3}
    lab.cond.cpu_hogs["not-a-device"] = {"Exec": 50.0}
    since = (lab.clock - timedelta(minutes=25)).isoformat()
    lab.cond.mem_leak[names[2]] = {"rate": 1.6, "since": since}
    same()
    assert lab.gauges()[0][1] == 99.0  # the hog shows (capped), read from the conditions
    lab.advance(600)  # the leak grows with the clock
    same()
    lab.cond.cpu_hogs.clear()
    lab.cond.mem_leak.clear()
    same()
    lab.base_cpu = {**lab.base_cpu, names[0]: 50.0}  # new bases: read again
    same()
    assert lab.gauges()[0][0] == 50.0


def _rates_by_peer_duplex(lab: SimLab) -> Any:
    """`compute_rates` with the duplex check written as it was (`_peer_duplex` per end)."""
    d = lab.derived
    rates = compute_rates(lab.inv, lab.idx, replace(d, duplex={}), lab.cond, lab.configs)
    oper = rates.oper_up
    for (dev, name), eff in d.duplex.items():
        p = lab.idx.pos[(dev, name)]
        if eff != _peer_duplex(lab.inv, d, dev, name):
            if eff == "half":
                rates.per_s[p, C["late_collisions"]] += 4.0
            else:
                rates.per_s[p, C["in_crc"]] += 6.0
            rates.per_s[p, C["in_errors"]] = rates.per_s[p, C["in_crc"]] if oper[p] else 0.0
            if not oper[p]:
                rates.per_s[p] = 0.0
            rates.loss[p] = rates.loss[p] + 0.03 if oper[p] else 0.0
    return rates


def test_duplex_mismatches_cost_what_they_did() -> None:
    lab = SimLab.build("small", seed=7)
    link = lab.inv.links[0]
    lab.configure(link.a_device, [f"interface {link.a_interface}", " duplex full"])
    lab.configure(link.b_device, [f"interface {link.b_interface}", " duplex half"])
    other = lab.inv.links[2]
    lab.configure(other.a_device, [f"interface {other.a_interface}", " duplex full"])  # vs auto
    got, want = lab.rates, _rates_by_peer_duplex(lab)
    assert np.array_equal(got.per_s, want.per_s) and np.array_equal(got.loss, want.loss)
    hit = [lab.idx.pos[e] for lk in (link, other) for e in lk.ends()]
    assert (got.per_s[hit, C["late_collisions"]] + got.per_s[hit, C["in_crc"]] > 0).sum() >= 3


def _graphs_by_add_edge(lab: SimLab) -> tuple[dict, dict]:
    """The OSPF and BGP graphs built as `Routing` built them, one `add_edge` at a time."""
    d, configs, inv = lab.derived, lab.configs, lab.inv
    edges: dict[str, list] = {"ospf": [], "bgp": []}
    adj: dict[str, dict] = {k: {n: {} for n in inv.device_names()} for k in edges}

    def add_edge(kind: str, u: str, v: str, attrs: dict) -> None:
        edges[kind].append((u, v, attrs))
        old = adj[kind].setdefault(u, {}).get(v)
        weight = attrs.get("weight", old[0] if old else 1)
        ends = attrs.get("ends", old[1] if old else {})
        adj[kind][u][v] = adj[kind].setdefault(v, {})[u] = (weight, ends)

    for link in inv.links:
        (ad, ai), (bd, bi) = link.ends()
        if d.ospf.get((ad, ai)) == "FULL":
            cost = max(configs[ad].interfaces[ai].ospf_cost or 1, configs[bd].interfaces[bi].ospf_cost or 1)
            add_edge("ospf", ad, bd, {"ends": {ad: (ai, bi), bd: (bi, ai)}, "weight": cost})
    peer = {(s.device, s.peer_ip): s for s in inv.bgp_sessions}
    links = {link.id: link for link in inv.links}
    for (dev, ip), st in d.bgp.items():
        if st.state == "Established":
            (ad, ai), (bd, bi) = links[peer[(dev, ip)].link_id].ends()
            add_edge("bgp", ad, bd, {"ends": {ad: (ai, bi), bd: (bi, ai)}})
    return edges, adj


def test_routing_graphs_are_built_as_edge_by_edge() -> None:
    lab = SimLab.build("medium", seed=42)
    for step in range(3):
        routing = Routing(lab.inv, lab.configs, lab.derived)
        edges, adj = _graphs_by_add_edge(lab)
        assert routing._edges == edges
        for kind in ("ospf", "bgp"):  # the same neighbours in the same order
            assert list(routing._adj[kind]) == list(adj[kind])
            assert all(list(routing._adj[kind][u].items()) == list(vs.items()) for u, vs in adj[kind].items())
        link = lab.inv.links[5 * step + 1]
        lab.configure(link.a_device, [f"interface {link.a_interface}", " ip ospf cost 40"])
        s = lab.inv.bgp_sessions[7 * step + 3]
        asn = lab.configs[s.device].bgp.asn  # type: ignore[union-attr]
        lab.configure(s.device, [f"router bgp {asn}", f" neighbor {s.peer_ip} shutdown"])


def test_the_layout_is_kept_while_the_state_is_the_same_and_read_after_a_change() -> None:
    lab = SimLab.build("small", seed=7)
    first = lab.layout()
    lab.advance(30)
    assert lab.layout() is first
    s = lab.inv.bgp_sessions[0]
    asn = lab.configs[s.device].bgp.asn  # type: ignore[union-attr]
    lab.configure(s.device, [f"router bgp {asn}", f" no neighbor {s.peer_ip} remote-as"])
    changed = lab.layout()
    assert changed is not first and changed.rows == first.rows - 1
    lab.advance(10)
    assert lab.telemetry[-1].num_rows == changed.rows


def test_twins_of_one_network_share_an_interface_index_equal_to_a_fresh_one() -> None:
    from netops_agent.lab.sim.telemetry import InterfaceIndex
    from netops_agent.lab.sim.topology import generate

    a, b = SimLab.build("small", seed=3), SimLab.build("small", seed=3)
    assert a.idx is b.idx
    assert a.inv.__dict__["_sim_wiring"] is b.inv.__dict__["_sim_wiring"]  # derive's lookups too
    inv, _ = generate("small", 3)
    fresh = InterfaceIndex(inv)
    for name in ("speed_bps", "kind", "base_util", "devices", "names"):
        assert np.array_equal(getattr(a.idx, name), getattr(fresh, name))
    assert a.idx.keys == fresh.keys and a.idx.pos == fresh.pos
    other = inv.model_copy(update={"interfaces": inv.interfaces[:-1]})  # another list: its own
    assert InterfaceIndex.of(other) is not InterfaceIndex.of(inv)
    assert len(InterfaceIndex.of(other).keys) == len(fresh.keys) - 1
    assert not a.idx.base_util.flags.writeable  # shared: never written in place


def test_derive_fast_path_equals_the_general_one() -> None:
    """A device neither down nor with an err-disabled port takes derive's short path; one
    err-disabled entry anywhere sends every device through the general one: same states."""
    from netops_agent.lab.sim.state import Conditions, derive

    lab = SimLab.build("medium", seed=42)
    link, s = lab.inv.links[4], lab.inv.bgp_sessions[9]
    lab.configure(link.a_device, [f"interface {link.a_interface}", " shutdown"])
    asn = lab.configs[s.device].bgp.asn  # type: ignore[union-attr]
    lab.configure(s.device, [f"router bgp {asn}", f" neighbor {s.peer_ip} shutdown"])
    cond = Conditions(cut_links=[lab.inv.links[7].id])
    short = derive(lab.inv, lab.configs, cond)
    general = derive(lab.inv, lab.configs, Conditions(cut_links=cond.cut_links, err_disabled={"x|y": {}}))
    assert short == general
    assert list(short.iface) == list(general.iface)  # the same order too
    assert not short.iface[link.ends()[0]].admin_up and not short.iface[link.ends()[1]].oper_up
    assert short.bgp[(s.device, s.peer_ip)].state == "Idle (Admin)"


def test_customer_prefixes_are_what_ipaddress_makes_of_them() -> None:
    """Leaves' customer /24s are written as text: each is a valid network, its SVI is the
    network's first host, and BGP announces it."""
    import ipaddress

    from netops_agent.lab.sim.topology import generate

    inv, configs = generate("large", 42)
    leaves = [d.name for d in inv.devices if d.role == "leaf"]
    assert len(leaves) == 440
    for leaf in leaves:
        nets = [ipaddress.IPv4Network(p) for p in inv.prefixes[leaf]]
        assert [str(n) for n in nets] == inv.prefixes[leaf] and all(n.prefixlen == 24 for n in nets)
        svis = [configs[leaf].interfaces[f"Vlan{v}"].ip for v in (100, 200)]
        assert svis == [str(n.network_address + 1) for n in nets]
        bgp = configs[leaf].bgp
        assert bgp is not None and bgp.networks == [(str(n.network_address), 24) for n in nets]
