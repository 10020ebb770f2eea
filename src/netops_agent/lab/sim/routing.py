"""Forwarding in the twin: routing tables, paths, ping and traceroute from derived state.

OSPF carries loopbacks and link subnets over FULL adjacencies; eBGP carries the
customer and service prefixes over Established sessions. A packet follows the
shortest path in the relevant graph and is subject to every interface it crosses:
MTU (with DF set), ACLs, loss from errors or congestion, queueing latency.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from heapq import heappop, heappush
from itertools import count, pairwise

import networkx as nx
import numpy as np

from netops_agent.lab.sim.config import DeviceConfig
from netops_agent.lab.sim.state import Derived, _network, _prefix
from netops_agent.lab.sim.telemetry import InterfaceIndex, Rates
from netops_agent.models import Inventory


@dataclass(frozen=True)
class Route:
    protocol: str  # C L S O B
    network: str
    prefixlen: int
    nexthop_ip: str = ""
    nexthop_if: str = ""
    distance: int = 0
    metric: int = 0


@dataclass(frozen=True)
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


class Routing:
    """Routing view of one derived state; build once per state change."""

    def __init__(self, inv: Inventory, configs: dict[str, DeviceConfig], d: Derived) -> None:
        self.inv, self.configs, self.d = inv, configs, d
        self.ospf = nx.Graph()
        self.bgp = nx.Graph()
        self.ospf.add_nodes_from(inv.device_names())
        self.bgp.add_nodes_from(inv.device_names())
        for link in inv.links:
            (ad, ai), (bd, bi) = link.ends()
            ends = {ad: (ai, bi), bd: (bi, ai)}
            if d.ospf.get((ad, ai)) == "FULL":
                cost = max(
                    configs[ad].interfaces[ai].ospf_cost or 1, configs[bd].interfaces[bi].ospf_cost or 1
                )
                self.ospf.add_edge(ad, bd, ends=ends, weight=cost)
        peer = {(s.device, s.peer_ip): s for s in inv.bgp_sessions}
        links = {link.id: link for link in inv.links}
        for (dev, ip), st in d.bgp.items():
            s = peer[(dev, ip)]
            if st.state == "Established":
                link = links[s.link_id]
                (ad, ai), (bd, bi) = link.ends()
                self.bgp.add_edge(ad, bd, ends={ad: (ai, bi), bd: (bi, ai)})
        self.addr: dict[str, tuple[str, str]] = {}  # ip -> (device, interface)
        self.connected: list[tuple[ipaddress.IPv4Network, str, str]] = []
        for dev, cfg in configs.items():
            for name, itf in cfg.interfaces.items():
                if itf.ip:
                    self.addr[itf.ip] = (dev, name)
                    net = _network(itf.ip, itf.prefixlen)
                    self.connected.append((net, dev, name))
        self.origin: list[tuple[ipaddress.IPv4Network, str]] = [
            (_prefix(p), dev) for dev, ps in d.originated.items() for p in ps
        ]
        # lookups a sweep of pings repeats: per-device connected nets, origins as integers,
        # each graph's adjacency with its weights, paths and routing tables once computed
        self._connected_of: dict[str, list[tuple[ipaddress.IPv4Network, str]]] = {}
        for net, dev, name in self.connected:
            self._connected_of.setdefault(dev, []).append((net, name))
        self._origin_net = np.array([int(n.network_address) for n, _ in self.origin], dtype=np.uint64)
        self._origin_mask = np.array([int(n.netmask) for n, _ in self.origin], dtype=np.uint64)
        self._adj: dict[int, dict[str, list[tuple[str, float]]]] = {}
        self._paths: dict[tuple[int, str, str], list[str] | None] = {}
        self._routes: dict[str, list[Route]] = {}

    # --- lookups ----------------------------------------------------------------------------
    def _ip_of(self, dev: str, ifname: str) -> str:
        return self.configs[dev].interfaces[ifname].ip or ""

    def _hops(self, graph: nx.Graph, path: list[str]) -> list[Hop]:
        hops = []
        for u, v in pairwise(path):
            out_if, in_if = graph.edges[u, v]["ends"][u]
            hops.append(Hop(u, out_if, v, in_if, self._ip_of(v, in_if)))
        return hops

    def path(self, src: str, dst_ip: str) -> tuple[list[Hop], str] | None:
        """Hops from `src` towards `dst_ip` and the device that answers; None if no route."""
        ip = ipaddress.IPv4Address(dst_ip)
        owner = self.addr.get(dst_ip)
        if owner and owner[0] == src:
            return [], src
        for net, name in self._connected_of.get(src, ()):
            dev = src
            if ip in net and self.d.iface[(dev, name)].oper_up:
                if owner and self.d.iface[owner].oper_up:
                    return [Hop(src, name, owner[0], owner[1], dst_ip)], owner[0]
                if self.inv.interface(dev, name).kind in ("svi", "uplink"):  # hosts behind it
                    return [], src
                return None
        if owner and self.inv.interface(*owner).kind in ("loopback", "p2p"):
            target, graph = owner[0], self.ospf
        else:
            hit = np.flatnonzero((np.uint64(int(ip)) & self._origin_mask) == self._origin_net)
            if not len(hit):
                return None
            target, graph = self.origin[int(hit[0])][1], self.bgp  # the first origin that covers ip
        nodes = self._shortest(graph, src, target)
        if nodes is None:
            return None
        return self._hops(graph, nodes), target

    def _shortest(self, graph: nx.Graph, src: str, target: str) -> list[str] | None:
        """`nx.shortest_path(graph, src, target, weight="weight")`, memoised for this state;
        None when there is no path (tests/lab/sim/test_routing_paths.py: same paths)."""
        k = (id(graph), src, target)
        if k not in self._paths:
            if src not in graph or target not in graph:
                self._paths[k] = None
            else:
                adj = self._adj.get(id(graph))
                if adj is None:
                    adj = self._adj[id(graph)] = {
                        u: [(v, e.get("weight", 1)) for v, e in nbrs.items()] for u, nbrs in graph.adj.items()
                    }
                self._paths[k] = bidirectional_dijkstra(adj, src, target)
        found = self._paths[k]
        return list(found) if found is not None else None

    # --- routing table -----------------------------------------------------------------------
    def routes(self, dev: str) -> list[Route]:
        if dev not in self._routes:
            self._routes[dev] = self._compute_routes(dev)
        return list(self._routes[dev])

    def _compute_routes(self, dev: str) -> list[Route]:
        out: list[Route] = []
        cfg = self.configs[dev]
        for name, itf in cfg.interfaces.items():
            if itf.ip and self.d.iface[(dev, name)].oper_up:
                net = _network(itf.ip, itf.prefixlen)
                if itf.prefixlen != 32:
                    out.append(Route("C", str(net.network_address), net.prefixlen, "", name))
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

    def _first_hops(self, graph: nx.Graph, dev: str, weight: str | None) -> dict[str, tuple[Hop, int]]:
        paths = (
            nx.single_source_dijkstra_path(graph, dev, weight=weight)
            if weight
            else nx.single_source_shortest_path(graph, dev)
        )
        out = {}
        for target, nodes in paths.items():
            if len(nodes) < 2:
                continue
            cost = sum(graph.edges[u, v].get("weight", 1) for u, v in pairwise(nodes))
            out[target] = (self._hops(graph, nodes[:2])[0], cost)
        return out

    def _ospf_routes(self, dev: str) -> list[Route]:
        mine = {str(n) for n, d, _ in self.connected if d == dev}
        out, seen = [], set(mine)
        first = self._first_hops(self.ospf, dev, "weight")
        for net, owner, name in self.connected:
            itf = self.configs[owner].interfaces[name]
            if owner == dev or owner not in first or itf.ospf_area is None:
                continue
            if not self.d.iface[(owner, name)].oper_up or str(net) in seen:
                continue
            seen.add(str(net))
            hop, cost = first[owner]
            out.append(
                Route("O", str(net.network_address), net.prefixlen, hop.next_ip, hop.out_if, 110, cost + 1)
            )
        return out

    def _bgp_routes(self, dev: str) -> list[Route]:
        first = self._first_hops(self.bgp, dev, None)
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
        found = self.path(src, dst_ip)
        if found is None:
            return PingResult(count, 0, [], "U")
        hops, _ = found
        for h in hops:
            mtu = min(
                self.configs[h.device].interfaces[h.out_if].mtu,
                self.configs[h.next_device].interfaces[h.next_in_if].mtu,
            )
            if df and size > mtu:
                return PingResult(count, 0, [], "M")
            if not self._acl_permits(h.device, h.out_if, "out", dst_ip) or not self._acl_permits(
                h.next_device, h.next_in_if, "in", dst_ip
            ):
                return PingResult(count, 0, [], "U")
        last = hops[-1].next_device if hops else src
        for net, name in self._connected_of.get(last, ()):  # a host behind an SVI: its outbound ACL
            dev = last
            if (
                ipaddress.IPv4Address(dst_ip) in net
                and dst_ip not in self.addr
                and not self._acl_permits(dev, name, "out", dst_ip)
            ):
                return PingResult(count, 0, [], "U")
        loss, latency = 0.0, 0.0
        for h in hops:
            for k in ((h.device, h.out_if), (h.next_device, h.next_in_if)):
                p = idx.pos[k]
                loss = 1 - (1 - loss) * (1 - rates.loss[p])
                latency += rates.latency_ms[p]
        ok = rng.random(count) >= loss
        rtts = list(np.round(1.0 + 0.5 * len(hops) + latency + rng.uniform(0, 0.4, int(ok.sum())), 1))
        return PingResult(count, int(ok.sum()), rtts, "!" if ok.any() else ".")

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


def _matches(spec: str, ip: str) -> bool:
    if spec == "any":
        return True
    if spec.startswith("host "):
        return spec[5:] == ip
    base, wildcard = spec.split()
    w = int(ipaddress.IPv4Address(wildcard))
    return int(ipaddress.IPv4Address(ip)) & ~w == int(ipaddress.IPv4Address(base)) & ~w


def bidirectional_dijkstra(
    adj: dict[str, list[tuple[str, float]]], source: str, target: str
) -> list[str] | None:
    """networkx's `bidirectional_dijkstra` (networkx 3.x, undirected graph), step for step,
    over an adjacency list with the weights already read: the same expansions in the same
    order, so the same path among equal-cost ones; None when there is none."""
    if source == target:
        return [source]
    dists: list[dict[str, float]] = [{}, {}]
    preds: list[dict[str, str | None]] = [{source: None}, {target: None}]
    fringe: list[list[tuple[float, int, str]]] = [[], []]
    seen: list[dict[str, float]] = [{source: 0}, {target: 0}]
    c = count()
    heappush(fringe[0], (0, next(c), source))
    heappush(fringe[1], (0, next(c), target))
    finaldist: float | None = None
    meetnode: str | None = None
    direction = 1
    while fringe[0] and fringe[1]:
        direction = 1 - direction
        dist, _, v = heappop(fringe[direction])
        mine, other = dists[direction], dists[1 - direction]
        if v in mine:
            continue
        mine[v] = dist
        if v in other:
            return _join(preds, meetnode) if meetnode is not None else None
        seen_d, seen_o, pred_d = seen[direction], seen[1 - direction], preds[direction]
        for w, cost in adj[v]:
            length = dist + cost
            if w in mine:
                continue
            if w not in seen_d or length < seen_d[w]:
                seen_d[w] = length
                heappush(fringe[direction], (length, next(c), w))
                pred_d[w] = v
                if w in seen_o:
                    total = length + seen_o[w]
                    if finaldist is None or finaldist > total:
                        finaldist, meetnode = total, w
    return None


def _join(preds: list[dict[str, str | None]], meet: str) -> list[str]:
    forward: list[str] = []
    node: str | None = meet
    while node is not None:
        forward.append(node)
        node = preds[0][node]
    forward.reverse()
    node = preds[1][meet]
    while node is not None:
        forward.append(node)
        node = preds[1][node]
    return forward
