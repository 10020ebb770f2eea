"""The twin's memoised shortest paths are networkx's, equal-cost ties broken the same way."""

from __future__ import annotations

import networkx as nx
import pytest

from netops_agent.lab.sim.lab import SimLab


def _lab_with_changes() -> SimLab:
    lab = SimLab.build("medium", seed=42)
    _ = lab.derived
    links = lab.inventory().links
    a = links[3]
    lab.configs[a.a_device].interfaces[a.a_interface].ospf_cost = 30  # uneven weights
    b = links[11]
    lab.configs[b.b_device].interfaces[b.b_interface].shutdown = True  # a hole in both graphs
    lab.commit()
    return lab


@pytest.mark.parametrize("changed", [False, True])
def test_paths_equal_networkx_for_every_pair(changed: bool) -> None:
    lab = _lab_with_changes() if changed else SimLab.build("medium", seed=42)
    routing = lab.routing
    names = lab.inventory().device_names()
    compared = 0
    for graph in (routing.ospf, routing.bgp):
        for src in names:
            for dst in names:
                try:
                    want = nx.shortest_path(graph, src, dst, weight="weight")
                except nx.NetworkXNoPath:
                    want = None
                assert routing._shortest(graph, src, dst) == want, (src, dst)
                compared += want is not None
    assert compared > 2 * len(names) ** 2 * 0.9  # nearly all pairs are connected


def test_pings_and_traceroutes_unchanged_by_memoising() -> None:
    """Asking twice (memoised) answers as asking once on a fresh routing view."""
    lab = _lab_with_changes()
    targets = [d.loopback for d in lab.inventory().devices[:12]]
    first = [lab.routing.path("site1-edge1", ip) for ip in targets]
    again = [lab.routing.path("site1-edge1", ip) for ip in targets]
    lab._cache.clear()  # a fresh Routing for the same state
    fresh = [lab.routing.path("site1-edge1", ip) for ip in targets]
    assert first == again == fresh
    assert sum(p is not None and len(p[0]) > 1 for p in first) >= 6
