"""A street-like graph for the drinking-water network: Delaunay skeleton, denser in towns.

Nodes are drawn with the towns' density; the graph is the minimum spanning tree of their
Delaunay triangulation plus its shortest remaining edges until the wanted length is reached,
so that towns get meshed blocks and the fields a few long links. The Seine is crossed only at
the few shortest crossings (the bridges).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import shapely

from atlas.demo.territory import Territory

_URBAN_NODE_DENSITY = 1 / 95.0**2
_RURAL_NODE_DENSITY = 1 / 650.0**2
_BRIDGES = 6
_MAX_EXTRA_EDGE = 900.0


@dataclass(frozen=True)
class Graph:
    """Nodes (n, 2) and undirected edges (m, 2) with their lengths."""

    nodes: np.ndarray
    edges: np.ndarray
    lengths: np.ndarray

    def adjacency(self) -> list[list[tuple[int, int]]]:
        """node -> [(neighbour, edge index)]."""
        adjacent: list[list[tuple[int, int]]] = [[] for _ in range(len(self.nodes))]
        for index, (a, b) in enumerate(self.edges):
            adjacent[a].append((int(b), index))
            adjacent[b].append((int(a), index))
        return adjacent


def street_graph(territory: Territory, rng, target_length: float) -> Graph:
    """A connected street-like graph of about ``target_length`` metres."""
    nodes = _sample_nodes(territory, rng, target_length)
    edges, lengths = _delaunay_edges(nodes)
    crossing = shapely.intersects(
        territory.rivers,
        shapely.linestrings(np.stack([nodes[edges[:, 0]], nodes[edges[:, 1]]], axis=1)),
    )
    bridges = np.flatnonzero(crossing)[np.argsort(lengths[crossing], kind="stable")][:_BRIDGES]
    allowed = ~crossing
    allowed[bridges] = True
    edges, lengths = edges[allowed], lengths[allowed]
    order = np.argsort(lengths, kind="stable")
    in_tree = _kruskal(len(nodes), edges, order)
    keep = in_tree.copy()
    total = float(lengths[keep].sum())
    for index in order:
        if total >= target_length:
            break
        if not keep[index] and lengths[index] <= _MAX_EXTRA_EDGE:
            keep[index] = True
            total += float(lengths[index])
    return Graph(nodes=nodes, edges=edges[keep], lengths=lengths[keep])


def _sample_nodes(territory: Territory, rng, target_length: float) -> np.ndarray:
    xmin, ymin, xmax, ymax = territory.bounds
    scale = target_length / 1_000_000.0
    peak = _URBAN_NODE_DENSITY * scale
    count = int((xmax - xmin) * (ymax - ymin) * peak)
    x = rng.uniform(xmin, xmax, count)
    y = rng.uniform(ymin, ymax, count)
    weight = territory.urban_weight(x, y)
    density = (_RURAL_NODE_DENSITY + (_URBAN_NODE_DENSITY - _RURAL_NODE_DENSITY) * weight) * scale
    keep = rng.uniform(size=count) < density / peak
    keep &= shapely.contains_xy(territory.envelope, x, y)
    keep &= ~shapely.contains_xy(territory.rivers, x, y)
    return np.column_stack([x[keep], y[keep]])


def _delaunay_edges(nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique Delaunay edges as node index pairs (shapely gives coordinates: map them back)."""
    lines = shapely.get_parts(
        shapely.delaunay_triangles(shapely.MultiPoint(nodes), only_edges=True)
    )
    coords = shapely.get_coordinates(lines).reshape(-1, 2, 2)
    index = {(float(x), float(y)): i for i, (x, y) in enumerate(nodes)}
    a = np.array([index[(float(x), float(y))] for x, y in coords[:, 0]])
    b = np.array([index[(float(x), float(y))] for x, y in coords[:, 1]])
    edges = np.sort(np.column_stack([a, b]), axis=1)
    edges = np.unique(edges, axis=0)
    lengths = np.hypot(*(nodes[edges[:, 0]] - nodes[edges[:, 1]]).T)
    return edges, lengths


def _kruskal(count: int, edges: np.ndarray, order: np.ndarray) -> np.ndarray:
    parent = list(range(count))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    chosen = np.zeros(len(edges), dtype=bool)
    for index in order:
        a, b = find(int(edges[index, 0])), find(int(edges[index, 1]))
        if a != b:
            parent[a] = b
            chosen[index] = True
    return chosen


def shortest_tree(graph: Graph, sources: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Multi-source Dijkstra: each node's parent edge (-1 at sources/unreached) and distance."""
    adjacent = graph.adjacency()
    distance = np.full(len(graph.nodes), np.inf)
    parent_edge = np.full(len(graph.nodes), -1)
    heap = [(0.0, s) for s in sources]
    for s in sources:
        distance[s] = 0.0
    heapq.heapify(heap)
    while heap:
        d, node = heapq.heappop(heap)
        if d > distance[node]:
            continue
        for neighbour, edge in adjacent[node]:
            nd = d + graph.lengths[edge]
            if nd < distance[neighbour]:
                distance[neighbour] = nd
                parent_edge[neighbour] = edge
                heapq.heappush(heap, (nd, neighbour))
    return parent_edge, distance


def path_edges(graph: Graph, parent_edge: np.ndarray, node: int) -> list[int]:
    """Edges from ``node`` back to its tree's source."""
    out = []
    while parent_edge[node] >= 0:
        edge = int(parent_edge[node])
        out.append(edge)
        a, b = graph.edges[edge]
        node = int(a if b == node else b)
    return out
