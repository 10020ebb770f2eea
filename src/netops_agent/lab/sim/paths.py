"""Shortest paths for the twin's routing, each the same path networkx would pick.

The twin's routing answered with networkx (`bidirectional_dijkstra` for a packet's path,
`single_source_dijkstra_path` / `single_source_shortest_path` for routing tables); these
are ports that pick the same path among equal-cost ones, over plain adjacency dicts,
without importing networkx. `unit_path` gives `bidirectional_dijkstra`'s answer on a
graph whose links all cost the same (the usual OSPF fabric, and BGP's hop count) from a
breadth-first tree of the source, reused for every destination of that source, and a
breadth-first search from the destination only as far as it can matter.
"""

from __future__ import annotations

from heapq import heappop, heappush
from itertools import count
from typing import Any


def bidirectional_dijkstra(
    adj: dict[str, list[tuple[str, float]]], source: str, target: str
) -> list[str] | None:
    """networkx's `bidirectional_dijkstra` (networkx 3.x, undirected graph), step for step,
    over an adjacency list with the weights already read: the same expansions in the same
    order, so the same path among equal-cost ones; None when there is none.

    networkx keeps each direction's fringe as a heap of (distance, insertion counter,
    node): it pops the nearest node, ties in insertion order. Here each direction keeps
    a FIFO list per distance and a heap of the distances only: the same pops in the same
    order, without a heap operation per edge (link-state graphs have few distinct costs)."""
    if source == target:
        return [source]
    dists: list[dict[str, float]] = [{}, {}]
    preds: list[dict[str, str | None]] = [{source: None}, {target: None}]
    seen: list[dict[str, float]] = [{source: 0}, {target: 0}]
    keys: list[list[float]] = [[0], [0]]  # the distances with nodes waiting, a heap
    waiting: list[dict[float, list[str]]] = [{0: [source]}, {0: [target]}]  # distance -> FIFO
    head: list[dict[float, int]] = [{0: 0}, {0: 0}]  # distance -> next position in its FIFO
    finaldist: float | None = None
    meetnode: str | None = None
    direction = 1
    while keys[0] and keys[1]:
        direction = 1 - direction
        kd, wd, hd = keys[direction], waiting[direction], head[direction]
        dist = kd[0]
        fifo, at = wd[dist], hd[dist]
        v = fifo[at]
        if at + 1 == len(fifo):
            heappop(kd)
            del wd[dist], hd[dist]
        else:
            hd[dist] = at + 1
        mine = dists[direction]
        if v in mine:
            continue
        mine[v] = dist
        if v in dists[1 - direction]:
            return _join(preds, meetnode) if meetnode is not None else None
        seen_d, seen_o, pred_d = seen[direction], seen[1 - direction], preds[direction]
        for w, cost in adj[v]:
            if w in mine:
                continue
            length = dist + cost
            old = seen_d.get(w)
            if old is None or length < old:
                seen_d[w] = length
                fifo = wd.get(length)  # type: ignore[assignment]
                if fifo is None:
                    wd[length], hd[length] = [w], 0
                    heappush(kd, length)
                else:
                    fifo.append(w)
                pred_d[w] = v
                other = seen_o.get(w)
                if other is not None:
                    total = length + other
                    if finaldist is None or finaldist > total:
                        finaldist, meetnode = total, w
    return None


def _dijkstra_tree(
    adj: dict[str, dict[str, tuple[float, Any]]], source: str
) -> tuple[dict[str, float], dict[str, str]]:
    """Distances and predecessors from `source` as networkx's single-source Dijkstra
    (networkx 3.x `_dijkstra_multisource`) finds them: a heap of (distance, insertion
    counter, node); a node's predecessor is the last that strictly improved it."""
    if source not in adj:
        raise KeyError(f"Source {source} not in G")
    dist: dict[str, float] = {}
    seen: dict[str, float] = {source: 0}
    pred: dict[str, str] = {}
    c = count()
    fringe: list[tuple[float, int, str]] = [(0, next(c), source)]
    while fringe:
        d, _, v = heappop(fringe)
        if v in dist:
            continue
        dist[v] = d
        for u, (cost, _) in adj[v].items():
            vu = d + cost
            if u in dist:
                if vu < dist[u]:
                    raise ValueError("Contradictory paths found:", "negative weights?")
            elif u not in seen or vu < seen[u]:
                seen[u] = vu
                heappush(fringe, (vu, next(c), u))
                pred[u] = v
    return dist, pred


def _bfs_tree(adj: dict[str, dict[str, Any]], source: str) -> tuple[dict[str, float], dict[str, str]]:
    """Hop counts and predecessors from `source` as networkx's `single_source_shortest_path`
    finds them: breadth first, neighbours in adjacency order, the first discoverer kept."""
    if source not in adj:
        raise KeyError(f"Source {source} not in G")
    dist: dict[str, float] = {source: 0}
    pred: dict[str, str] = {}
    order = [source]
    for v in order:  # grows while it is read: a FIFO queue
        dv = dist[v] + 1
        for w in adj[v]:
            if w not in dist:
                dist[w] = dv
                pred[w] = v
                order.append(w)
    return dist, pred


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


class BfsTree:
    """The breadth-first tree of `source`: what networkx's Dijkstra explores, in the same
    order, when every link costs the same. Per node: its hop count, its predecessor (the
    first node whose expansion reached it) and when it was reached, as (that node's pop
    number, the node's position in that node's adjacency); the source has (-1, -1)."""

    __slots__ = ("dist", "found", "pred", "source")

    def __init__(self, adj: dict[str, list[str]], source: str) -> None:
        self.source = source
        self.dist: dict[str, int] = {source: 0}
        self.pred: dict[str, str | None] = {source: None}
        self.found: dict[str, tuple[int, int]] = {source: (-1, -1)}
        order = [source]
        for j, v in enumerate(order):  # `order` grows while it is read: a FIFO queue
            dv = self.dist[v] + 1
            for pos, w in enumerate(adj[v]):
                if w not in self.dist:
                    self.dist[w] = dv
                    self.pred[w] = v
                    self.found[w] = (j, pos)
                    order.append(w)


def unit_path(adj: dict[str, list[str]], tree: BfsTree, target: str) -> list[str] | None:
    """`bidirectional_dijkstra(adj, tree.source, target)` on a graph whose links all cost
    the same (positive), from the source's `BfsTree`.

    With equal costs each direction of networkx's search is a breadth-first search (pops
    in discovery order, no node improved after it is first seen): the forward direction
    is the source's tree, the backward one a breadth-first search from the target. Pop j
    of the forward direction is the search's step 2j+1, of the backward one step 2j+2.
    The path is the forward tree's path to the meeting node, then the backward tree's
    path from it; the meeting node is the first node to be reached by both directions
    with the two distances adding up to the shortest one (later ones never replace it).
    Each node's moment is when the second direction reaches it (step, position in the
    expanding node's adjacency), so the backward search stops at the first step later
    than the best moment found: nothing it reaches from there on can come first."""
    source = tree.source
    if source == target:
        return [source]
    shortest = tree.dist.get(target)
    if shortest is None:
        return None
    fdist, ffound = tree.dist, tree.found

    def forward_moment(w: str) -> tuple[int, int]:
        j, pos = ffound[w]
        return (-1, -1) if j < 0 else (2 * j + 1, pos)

    meet, moment = target, forward_moment(target)  # the target is reached backward at once
    # The backward search, level by level (the same pops in the same order as one FIFO):
    # pop j expands at step 2j+2; a node it reaches at distance dv lies on a shortest path
    # when its forward distance is shortest - dv.
    bpred: dict[str, str | None] = {target: None}
    frontier, j, dv = [target], 0, 1
    while frontier:
        nxt: list[str] = []
        need = shortest - dv
        for v in frontier:
            step = 2 * j + 2
            if step > moment[0]:
                frontier = []
                break
            j += 1
            for w in adj[v]:
                if w in bpred:
                    continue
                bpred[w] = v
                nxt.append(w)
                if fdist.get(w) == need:
                    here = (step, adj[v].index(w))  # neighbours are distinct: its position
                    forward = forward_moment(w)
                    both = forward if forward > here else here
                    if both < moment:
                        meet, moment = w, both
        else:
            frontier = nxt
            dv += 1
    path: list[str] = []
    node: str | None = meet
    while node is not None:
        path.append(node)
        node = tree.pred[node]
    path.reverse()
    node = bpred[meet]
    while node is not None:
        path.append(node)
        node = bpred[node]
    return path
