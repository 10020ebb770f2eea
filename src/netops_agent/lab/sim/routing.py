"""Forwarding in the twin: routing tables, paths, ping and traceroute from derived state.

OSPF carries loopbacks and link subnets over FULL adjacencies; eBGP carries the
customer and service prefixes over Established sessions. A packet follows the
shortest path in the relevant graph and is subject to every interface it crosses:
MTU (with DF set), ACLs, loss from errors or congestion, queueing latency.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np

from netops_agent.lab.sim.config import DeviceConfig
from netops_agent.lab.sim.paths import BfsTree, _bfs_tree, _dijkstra_tree, bidirectional_dijkstra, unit_path
from netops_agent.lab.sim.state import Derived, _dotted, _ip_int, _net_ints, _network_of, _prefix, _Wiring
from netops_agent.lab.sim.telemetry import InterfaceIndex, Rates
from netops_agent.models import Inventory

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True, slots=True)
class Route:
    protocol: str  # C L S O B
    network: str
    prefixlen: int
    nexthop_ip: str = ""
    nexthop_if: str = ""
    distance: int = 0
    metric: int = 0


@dataclass(frozen=True, slots=True)
class Hop:
    device: str
    out_if: str
    next_device: str
    next_in_if: str
    next_ip: str  # address of the next router's ingress interface


@dataclass
class PingResult:
    sent: int
    received: int
    rtts_ms: list[float]
    code: str  # '!' success, '.' timeout, 'U' unreachable, 'M' fragmentation needed
    source_ip: str = ""


# what a packet meets on its way (see Routing._walk)
_Walk = tuple[list[tuple[int, bool]], bool, list[int] | None, list[tuple[str, str]]]


class Routing:
    """Routing view of one derived state; build once per state change.

    The OSPF and BGP graphs are held as adjacency dicts in the order networkx would hold
    them (`ospf` / `bgp` build the networkx graphs on first use, for routing tables):
    neighbours in the order their first cable was added, a later parallel cable replacing
    the attributes. Paths, routing tables and the addresses a ping needs are memoised for
    the state."""

    def __init__(self, inv: Inventory, configs: dict[str, DeviceConfig], d: Derived) -> None:
        self.inv, self.configs, self.d = inv, configs, d
        names = inv.device_names()
        wiring = _Wiring.of(inv)
        # each graph: the add_edge calls in order (for networkx) and the adjacency they make,
        # {u: {v: (weight, {u: (u's interface, v's interface), v: ...})}}
        self._edges: dict[str, list[tuple[str, str, dict[str, Any]]]] = {"ospf": [], "bgp": []}
        self._adj: dict[str, dict[str, dict[str, tuple[float, dict[str, tuple[str, str]]]]]] = {
            "ospf": {n: {} for n in names},
            "bgp": {n: {} for n in names},
        }
        # `nx.Graph.add_edge(u, v, **attrs)` on the adjacency, inline (~5,500 edges per
        # state on the large profile): a later parallel cable replaces the attributes
        ospf_of = d.ospf.get
        edges, adj = self._edges["ospf"], self._adj["ospf"]
        for _, ad, ai, bd, bi in wiring.links:
            if ospf_of((ad, ai)) == "FULL":
                cost = max(
                    configs[ad].interfaces[ai].ospf_cost or 1, configs[bd].interfaces[bi].ospf_cost or 1
                )
                ends = {ad: (ai, bi), bd: (bi, ai)}
                edges.append((ad, bd, {"ends": ends, "weight": cost}))
                adj.setdefault(ad, {})
                adj[ad][bd] = adj.setdefault(bd, {})[ad] = (cost, ends)
        session_ends = wiring.session_ends
        edges, adj = self._edges["bgp"], self._adj["bgp"]
        for k, st in d.bgp.items():
            ad, ai, bd, bi = session_ends[k]
            if st.state == "Established":
                ends = {ad: (ai, bi), bd: (bi, ai)}
                edges.append((ad, bd, {"ends": ends}))
                old = adj.setdefault(ad, {}).get(bd)
                adj[ad][bd] = adj.setdefault(bd, {})[ad] = (old[0] if old else 1, ends)
        self._graphs: dict[str, nx.Graph] = {}
        self.addr: dict[str, tuple[str, str]] = {}  # ip -> (device, interface)
        # connected subnets as integers: (network, mask, prefix length, device, interface)
        self._conn: list[tuple[int, int, int, str, str]] = []
        for dev, cfg in configs.items():
            for name, itf in cfg.interfaces.items():
                if itf.ip:
                    self.addr[itf.ip] = (dev, name)
                    self._conn.append((*_net_ints(itf.ip, itf.prefixlen), dev, name))
        self.origin: list[tuple[ipaddress.IPv4Network, str]] = [
            (_prefix(p), dev) for dev, ps in d.originated.items() for p in ps
        ]
        # lookups a sweep of pings repeats: per-device connected nets and the origins as
        # integers (network, mask), paths and routing tables once computed
        self._connected_of: dict[str, list[tuple[int, int, str]]] = {}
        for net, mask, _, dev, name in self._conn:
            self._connected_of.setdefault(dev, []).append((net, mask, name))
        self._origin_at: dict[int, dict[int, int]] = {}  # mask -> network -> first origin index
        for n, (net, _) in enumerate(self.origin):
            self._origin_at.setdefault(int(net.netmask), {}).setdefault(int(net.network_address), n)
        self._weights: dict[str, dict[str, list[tuple[str, float]]]] = {}
        self._nbrs: dict[str, dict[str, list[str]]] = {}  # neighbours, for equal-cost graphs
        self._trees: dict[tuple[str, str], BfsTree] = {}
        self._uniform: dict[str, bool] = {}
        self._paths: dict[tuple[str, str, str], list[str] | None] = {}
        self._found: dict[tuple[str, str], tuple[tuple[Hop, ...], str] | None] = {}
        self._routes: dict[str, list[Route]] = {}
        self._comps: dict[str, dict[str, int]] = {}  # per graph: device -> component number
        self._ospf_nets: dict[int, set[tuple[int, int]]] | None = None  # component -> subnets
        self._bgp_origins: dict[int, int] | None = None  # component -> prefixes originated
        self._per_if: tuple[Rates, list[float], list[float]] | None = None
        self._walks: dict[tuple[str, str], _Walk | None] = {}
        self._walk_idx: InterfaceIndex | None = None

    def _graph(self, kind: str) -> nx.Graph:
        """The networkx graph of the same edges (for callers that want networkx)."""
        if kind not in self._graphs:
            import networkx as nx

            g = nx.Graph()
            g.add_nodes_from(self.inv.device_names())
            for u, v, attrs in self._edges[kind]:
                g.add_edge(u, v, **attrs)
            self._graphs[kind] = g
        return self._graphs[kind]

    @property
    def connected(self) -> list[tuple[ipaddress.IPv4Network, str, str]]:
        """Every connected subnet as (network, device, interface), in config order."""
        return [(_network_of(net, plen), dev, name) for net, _, plen, dev, name in self._conn]

    @property
    def ospf(self) -> nx.Graph:
        return self._graph("ospf")

    @property
    def bgp(self) -> nx.Graph:
        return self._graph("bgp")

    # --- lookups ----------------------------------------------------------------------------
    def _ip_of(self, dev: str, ifname: str) -> str:
        return self.configs[dev].interfaces[ifname].ip or ""

    def path(self, src: str, dst_ip: str) -> tuple[list[Hop], str] | None:
        """Hops from `src` towards `dst_ip` and the device that answers; None if no route."""
        k = (src, dst_ip)
        if k not in self._found:
            self._found[k] = self._path(src, dst_ip)
        found = self._found[k]
        return None if found is None else (list(found[0]), found[1])

    def _path(self, src: str, dst_ip: str) -> tuple[tuple[Hop, ...], str] | None:
        ip = _ip_int(dst_ip)
        owner = self.addr.get(dst_ip)
        if owner and owner[0] == src:
            return (), src
        for net, mask, name in self._connected_of.get(src, ()):
            dev = src
            if ip & mask == net and self.d.iface[(dev, name)].oper_up:
                if owner and self.d.iface[owner].oper_up:
                    return (Hop(src, name, owner[0], owner[1], dst_ip),), owner[0]
                if self.inv.interface(dev, name).kind in ("svi", "uplink"):  # hosts behind it
                    return (), src
                return None
        if owner and self.inv.interface(*owner).kind in ("loopback", "p2p"):
            target, kind = owner[0], "ospf"
        else:
            hits = [at[ip & mask] for mask, at in self._origin_at.items() if ip & mask in at]
            if not hits:
                return None
            target, kind = self.origin[min(hits)][1], "bgp"  # the first origin that covers ip
        nodes = self._shortest_in(kind, src, target)
        if nodes is None:
            return None
        adj = self._adj[kind]
        hops = []
        for u, v in pairwise(nodes):
            out_if, in_if = adj[u][v][1][u]
            hops.append(Hop(u, out_if, v, in_if, self._ip_of(v, in_if)))
        return tuple(hops), target

    def _shortest(self, graph: nx.Graph, src: str, target: str) -> list[str] | None:
        """`nx.shortest_path(graph, src, target, weight="weight")` for this view's `ospf` or
        `bgp` graph, memoised for this state; None when there is no path
        (tests/lab/sim/test_routing_paths.py: same paths)."""
        kind = "ospf" if graph is self.ospf else "bgp" if graph is self.bgp else None
        if kind is None:
            raise ValueError("not one of this routing view's graphs")
        return self._shortest_in(kind, src, target)

    def _shortest_in(self, kind: str, src: str, target: str) -> list[str] | None:
        """networkx's bidirectional Dijkstra path; on a graph whose links all cost the same,
        from the source's breadth-first tree, built once per source (paths.unit_path)."""
        k = (kind, src, target)
        if k not in self._paths:
            graph = self._adj[kind]
            if src not in graph or target not in graph:
                self._paths[k] = None
            elif self._equal_costs(kind):
                nbrs = self._nbrs.get(kind)
                if nbrs is None:
                    nbrs = self._nbrs[kind] = {u: list(vs) for u, vs in graph.items()}
                tree = self._trees.get((kind, src))
                if tree is None:
                    tree = self._trees[(kind, src)] = BfsTree(nbrs, src)
                self._paths[k] = unit_path(nbrs, tree, target)
            else:
                adj = self._weights.get(kind)
                if adj is None:
                    adj = self._weights[kind] = {
                        u: [(v, e[0]) for v, e in vs.items()] for u, vs in graph.items()
                    }
                self._paths[k] = bidirectional_dijkstra(adj, src, target)
        found = self._paths[k]
        return list(found) if found is not None else None

    def _equal_costs(self, kind: str) -> bool:
        if kind not in self._uniform:
            costs = {e[0] for vs in self._adj[kind].values() for e in vs.values()}
            self._uniform[kind] = len(costs) <= 1 and all(c > 0 for c in costs)
        return self._uniform[kind]

    # --- routing table -----------------------------------------------------------------------
    def routes(self, dev: str) -> list[Route]:
        if dev not in self._routes:
            self._routes[dev] = self._compute_routes(dev)
        return list(self._routes[dev])

    def route_count(self, dev: str) -> int:
        """`len(self.routes(dev))`, counted without building the table: connected and local
        routes from the device's own interfaces, its statics, and per connected component
        of the OSPF and BGP graphs the subnets and prefixes it would learn (a device learns
        what every other device of its component advertises, whatever the path)."""
        if dev in self._routes:
            return len(self._routes[dev])
        cfg = self.configs[dev]
        n = len(cfg.statics)
        for name, itf in cfg.interfaces.items():
            if itf.ip and self.d.iface[(dev, name)].oper_up:
                n += 2 if itf.prefixlen != 32 else 1
        comp = self._component("ospf")[dev]
        if self._ospf_nets is None:
            self._ospf_nets = {}
            of = self._component("ospf")
            for net, _, plen, owner, name in self._conn:
                if self.configs[owner].interfaces[name].ospf_area is None:
                    continue
                if owner in of and self.d.iface[(owner, name)].oper_up:
                    self._ospf_nets.setdefault(of[owner], set()).add((net, plen))
        learned = self._ospf_nets.get(comp, set())
        own = {(net, plen) for net, _, plen, d, _ in self._conn if d == dev}
        n += len(learned) - len(learned & own)
        comp = self._component("bgp")[dev]
        if self._bgp_origins is None:
            self._bgp_origins = {}
            of = self._component("bgp")
            for _, owner in self.origin:
                if owner in of:
                    self._bgp_origins[of[owner]] = self._bgp_origins.get(of[owner], 0) + 1
        n += self._bgp_origins.get(comp, 0) - sum(1 for _, owner in self.origin if owner == dev)
        return n

    def _component(self, kind: str) -> dict[str, int]:
        """The connected components of the OSPF or BGP graph: device -> component number."""
        if kind not in self._comps:
            adj = self._adj[kind]
            comp: dict[str, int] = {}
            for start in adj:
                if start in comp:
                    continue
                c = comp[start] = len(comp)
                todo = [start]
                while todo:
                    for w in adj[todo.pop()]:
                        if w not in comp:
                            comp[w] = c
                            todo.append(w)
            self._comps[kind] = comp
        return self._comps[kind]

    def _compute_routes(self, dev: str) -> list[Route]:
        out: list[Route] = []
        cfg = self.configs[dev]
        for name, itf in cfg.interfaces.items():
            if itf.ip and self.d.iface[(dev, name)].oper_up:
                net, _, plen = _net_ints(itf.ip, itf.prefixlen)
                if itf.prefixlen != 32:
                    out.append(Route("C", _dotted(net), plen, "", name))
                out.append(Route("L", itf.ip, 32, "", name))
        for r in cfg.statics:
            out.append(
                Route(
                    "S",
                    r.prefix,
                    r.prefixlen,
                    r.nexthop if r.nexthop != "Null0" else "",
                    "Null0" if r.nexthop == "Null0" else "",
                    1,
                    0,
                )
            )
        out.extend(self._ospf_routes(dev))
        out.extend(self._bgp_routes(dev))
        return out

    def _first_hops(self, kind: str, dev: str) -> dict[str, tuple[Hop, float]]:
        """Per reachable device: the first hop from `dev` and the path's cost, on the path
        networkx's `single_source_dijkstra_path` (OSPF, weighted) or
        `single_source_shortest_path` (BGP, hops) picks."""
        adj = self._adj[kind]
        dist, pred = (_dijkstra_tree if kind == "ospf" else _bfs_tree)(adj, dev)
        out: dict[str, tuple[Hop, float]] = {}
        first: dict[str, str] = {}  # device -> the neighbour of `dev` its path leaves by
        for target in dist:  # in the order found: a node's predecessor comes before it
            if target == dev:
                continue
            up = pred[target]
            nxt = first[target] = target if up == dev else first[up]
            out_if, in_if = adj[dev][nxt][1][dev]
            out[target] = (Hop(dev, out_if, nxt, in_if, self._ip_of(nxt, in_if)), dist[target])
        return out

    def _ospf_routes(self, dev: str) -> list[Route]:
        seen = {(net, plen) for net, _, plen, d, _ in self._conn if d == dev}  # a subnet is
        out = []  # (network, prefix length), as its text would be
        first = self._first_hops("ospf", dev)
        for net, _, plen, owner, name in self._conn:
            itf = self.configs[owner].interfaces[name]
            if owner == dev or owner not in first or itf.ospf_area is None:
                continue
            if not self.d.iface[(owner, name)].oper_up or (net, plen) in seen:
                continue
            seen.add((net, plen))
            hop, cost = first[owner]
            out.append(Route("O", _dotted(net), plen, hop.next_ip, hop.out_if, 110, cost + 1))
        return out

    def _bgp_routes(self, dev: str) -> list[Route]:
        first = self._first_hops("bgp", dev)
        out = []
        for net, owner in self.origin:
            if owner != dev and owner in first:
                hop, _ = first[owner]
                out.append(
                    Route("B", str(net.network_address), net.prefixlen, hop.next_ip, hop.out_if, 20, 0)
                )
        return out

    # --- packets ---------------------------------------------------------------------------
    def ping(
        self,
        src: str,
        dst_ip: str,
        idx: InterfaceIndex,
        rates: Rates,
        rng: np.random.Generator,
        *,
        count: int = 5,
        size: int = 100,
        df: bool = False,
    ) -> PingResult:
        walk = self._walk(src, dst_ip, idx)
        if walk is None:
            return PingResult(count, 0, [], "U")
        checks, delivered, positions, ends = walk
        for mtu, permitted in checks:
            if df and size > mtu:
                return PingResult(count, 0, [], "M")
            if not permitted:
                return PingResult(count, 0, [], "U")
        if not delivered:
            return PingResult(count, 0, [], "U")
        if positions is None:
            positions = [idx.pos[e] for e in ends]  # an interface the index lacks: KeyError
        loss_of, latency_of = self._interface_loss(rates)
        loss, latency = 0.0, 0.0
        for p in positions:
            loss = 1 - (1 - loss) * (1 - loss_of[p])
            latency += latency_of[p]
        received = int((rng.random(count) >= loss).sum())
        rtts = list(np.round(1.0 + 0.5 * len(checks) + latency + rng.uniform(0, 0.4, received), 1))
        return PingResult(count, received, rtts, "!" if received else ".")

    def _walk(self, src: str, dst_ip: str, idx: InterfaceIndex) -> _Walk | None:
        """What a packet from `src` to `dst_ip` meets, memoised for the state: per hop the
        path MTU and whether the ACLs on its two ends let it through; whether the last
        router's SVI delivers it to a host; the interfaces crossed (positions in `idx`)."""
        if idx is not self._walk_idx:  # memoised for one interface index (the lab's)
            self._walks, self._walk_idx = {}, idx
        k = (src, dst_ip)
        if k in self._walks:
            return self._walks[k]
        found = self.path(src, dst_ip)
        if found is None:
            self._walks[k] = None
            return None
        hops, _ = found
        checks = []
        for h in hops:
            mtu = min(
                self.configs[h.device].interfaces[h.out_if].mtu,
                self.configs[h.next_device].interfaces[h.next_in_if].mtu,
            )
            permitted = self._acl_permits(h.device, h.out_if, "out", dst_ip) and self._acl_permits(
                h.next_device, h.next_in_if, "in", dst_ip
            )
            checks.append((mtu, permitted))
        delivered = True
        last = hops[-1].next_device if hops else src
        if dst_ip not in self.addr:  # a host behind an SVI: its outbound ACL
            ip = _ip_int(dst_ip)
            for net, mask, name in self._connected_of.get(last, ()):
                if ip & mask == net and not self._acl_permits(last, name, "out", dst_ip):
                    delivered = False
                    break
        ends = [e for h in hops for e in ((h.device, h.out_if), (h.next_device, h.next_in_if))]
        found_at = [idx.pos.get(e) for e in ends]
        positions = None if None in found_at else found_at  # type: ignore[assignment]
        self._walks[k] = (checks, delivered, positions, ends)
        return self._walks[k]

    def _interface_loss(self, rates: Rates) -> tuple[list[float], list[float]]:
        """Per-interface loss and latency as Python floats (the same doubles), once per rates."""
        if self._per_if is None or self._per_if[0] is not rates:
            self._per_if = (rates, rates.loss.tolist(), rates.latency_ms.tolist())
        return self._per_if[1], self._per_if[2]

    def _acl_permits(self, dev: str, ifname: str, direction: str, dst_ip: str) -> bool:
        itf = self.configs[dev].interfaces[ifname]
        name = itf.acl_out if direction == "out" else itf.acl_in
        if not name:
            return True
        entries = self.configs[dev].acls.get(name)
        if entries is None:
            return True  # IOS permits all when the applied ACL does not exist
        for e in sorted(entries, key=lambda e: e.seq):
            if _matches(e.dst, dst_ip):
                return e.action == "permit"
        return False


@lru_cache(maxsize=4096)
def _wildcard(spec: str) -> tuple[int, int]:
    """An ACL address `A.B.C.D W.I.L.D` as (the bits that must match, their value)."""
    base, wildcard = spec.split()
    care = ~_ip_int(wildcard)
    return care, _ip_int(base) & care


def _matches(spec: str, ip: str) -> bool:
    if spec == "any":
        return True
    if spec.startswith("host "):
        return spec[5:] == ip
    care, value = _wildcard(spec)
    return _ip_int(ip) & care == value
