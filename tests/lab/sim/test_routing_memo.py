"""The twin's path search is networkx's, and what it memoises follows the state."""

from __future__ import annotations

import random
from itertools import pairwise

import networkx as nx
import pytest

from netops_agent.lab.sim.lab import SimLab
from netops_agent.lab.sim.paths import BfsTree, unit_path
from netops_agent.lab.sim.routing import bidirectional_dijkstra


@pytest.mark.parametrize("weights", [(1,), (1, 2, 3), (0, 1, 5), (0.5, 1.5)])
def test_search_equals_networkx_bidirectional_dijkstra(weights: tuple[float, ...]) -> None:
    """Same path among equal-cost ones, for every pair, on graphs with many ties, zero
    and fractional weights, and nodes with no path between them."""
    rnd = random.Random(len(weights))
    for seed in range(6):
        g = nx.gnm_random_graph(40, 70, seed=seed)
        for u, v in g.edges:
            g.edges[u, v]["weight"] = rnd.choice(weights)
        adj = {u: [(v, e["weight"]) for v, e in nbrs.items()] for u, nbrs in g.adj.items()}
        for s in g:
            for t in g:
                try:
                    want = nx.bidirectional_dijkstra(g, s, t, weight="weight")[1]
                except nx.NetworkXNoPath:
                    want = None
                assert bidirectional_dijkstra(adj, s, t) == want, (seed, s, t)


@pytest.mark.parametrize("cost", [1, 2, 0.5])
def test_equal_cost_paths_from_one_tree_per_source_equal_networkx(cost: float) -> None:
    """`unit_path` (one breadth-first tree per source) answers what networkx's
    bidirectional Dijkstra answers, for every pair, on sparse and dense random graphs,
    trees and disconnected ones, when every link costs the same."""
    compared = 0
    for seed in range(16):
        rnd = random.Random(seed)
        n = rnd.choice([4, 9, 25, 50])
        g = nx.gnm_random_graph(n, rnd.randint(n - 2, n * 3), seed=seed)
        nx.set_edge_attributes(g, cost, "weight")
        nbrs = {u: list(vs) for u, vs in g.adj.items()}
        for s in g:
            tree = BfsTree(nbrs, s)
            for t in g:
                try:
                    want = nx.bidirectional_dijkstra(g, s, t, weight="weight")[1]
                except nx.NetworkXNoPath:
                    want = None
                assert unit_path(nbrs, tree, t) == want, (seed, s, t)
                compared += want is not None and len(want) > 2
    assert compared > 5_000


def _ping(lab: SimLab, src: str, ip: str) -> str:
    out = lab.execute(src, f"ping {ip} repeat 3")
    assert out.ok
    return out.text


def test_paths_follow_a_cost_change_and_a_link_going_down() -> None:
    lab = SimLab.build("medium", seed=42)
    src, dst = "site1-leaf1", lab.inventory().device("site3-leaf4").loopback
    first = lab.routing.path(src, dst)
    assert first is not None and len(first[0]) > 2
    hop = first[0][0]
    assert "Success rate is 100 percent" in _ping(lab, src, dst)

    # a higher OSPF cost on the first hop's link: the memoised path must not survive it
    lab.configure(hop.device, [f"interface {hop.out_if}", " ip ospf cost 100"])
    costly = lab.routing.path(src, dst)
    assert costly is not None and costly[0][0].out_if != hop.out_if
    lab._cache.clear()  # a fresh routing view of the same state agrees
    assert lab.routing.path(src, dst) == costly

    # that link down as well: the next path avoids it, and pings still get through
    lab.configure(hop.device, [f"interface {hop.out_if}", " no ip ospf cost", " shutdown"])
    down = lab.routing.path(src, dst)
    assert down is not None and all(h.out_if != hop.out_if for h in down[0] if h.device == src)
    assert "Success rate is 100 percent" in _ping(lab, src, dst)
    trace = lab.execute(src, f"traceroute {dst}").text
    assert down[0][0].next_ip in trace

    # every uplink of the leaf down: no route, and the ping says so (not a memoised success)
    ups = [h for h in lab.inventory().interfaces if h.device == src and h.kind == "p2p"]
    for itf in ups:
        lab.configure(src, [f"interface {itf.name}", " shutdown"])
    assert lab.routing.path(src, dst) is None
    assert "Success rate is 0 percent" in _ping(lab, src, dst)


def test_ping_verdicts_follow_an_acl_change() -> None:
    """The memoised walk (MTU and ACL verdicts per hop) is per state: a deny added on the
    far leaf's customer SVI stops the next ping to a host behind it."""
    lab = SimLab.build("small", seed=42)
    leaf = "site1-leaf2"
    svi = lab.configs[leaf].interfaces["Vlan100"]
    host = svi.ip.rsplit(".", 1)[0] + ".10"  # type: ignore[union-attr]
    src = "site1-leaf1"
    assert "Success rate is 100 percent" in _ping(lab, src, host)
    acl = svi.acl_out
    lab.configure(leaf, [f"ip access-list extended {acl}", f" 5 deny ip any host {host}"])
    assert "Success rate is 0 percent" in _ping(lab, src, host)
    lab.configure(leaf, [f"ip access-list extended {acl}", " no 5"])
    assert "Success rate is 100 percent" in _ping(lab, src, host)


def _first_hops_by_networkx(lab: SimLab, graph: nx.Graph, dev: str, weighted: bool) -> dict[str, object]:
    """What the routing table used before networkx left the twin: networkx's own paths."""
    paths = (
        nx.single_source_dijkstra_path(graph, dev, weight="weight")
        if weighted
        else nx.single_source_shortest_path(graph, dev)
    )
    out = {}
    for target, nodes in paths.items():
        if len(nodes) < 2:
            continue
        cost = sum(graph.edges[u, v].get("weight", 1) for u, v in pairwise(nodes))
        out_if, in_if = graph.edges[nodes[0], nodes[1]]["ends"][nodes[0]]
        out[target] = (nodes[1], out_if, in_if, cost if weighted else None)
    return out


def test_routing_tables_take_networkx_first_hops() -> None:
    """`show ip route` next hops and OSPF costs, for every device, on a fabric with an
    uneven cost and a hole: the same as networkx's single-source paths."""
    lab = SimLab.build("medium", seed=42)
    links = lab.inventory().links
    a, b = links[3], links[11]
    lab.configure(a.a_device, [f"interface {a.a_interface}", " ip ospf cost 30"])
    lab.configure(b.b_device, [f"interface {b.b_interface}", " shutdown"])
    routing = lab.routing
    for dev in lab.inventory().device_names():
        for kind, graph in (("ospf", routing.ospf), ("bgp", routing.bgp)):
            mine = {
                t: (h.next_device, h.out_if, h.next_in_if, cost if kind == "ospf" else None)
                for t, (h, cost) in routing._first_hops(kind, dev).items()
            }
            assert mine == _first_hops_by_networkx(lab, graph, dev, kind == "ospf"), (dev, kind)
