"""The drinking-water network in the StaR-Eau GeoPackage model (EPSG:2154).

Layers and columns are those of the StaR-Eau AEP template (``eau_potable_no_style.gpkg``):
``aep_canalisation`` for the mains, ``aep_reservoir``, ``aep_captage``, ``aep_traitement``,
``aep_pompage`` and ``aep_vanne`` for the structures, coded with the StaR-Eau value lists
(``com_materiau``, ``com_precision``, ``aep_fonction_canalisation``…). Diameters follow the
flow: a shortest-path tree from the reservoirs, each main sized by the number of nodes it feeds;
materials follow the laying year (grey cast iron before 1970, asbestos cement until its 1997 ban,
PVC from the 1970s, PE-HD from the late 1990s, ductile iron throughout); the XY precision
class follows the year too (class A is required of new networks since the 2012 DT-DICT reform).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from atlas.demo import network, water_structures
from atlas.demo.terrain import Dem
from atlas.demo.territory import Territory, to_l93
from atlas.demo.water_model import DIAMETERS, common, frame
from atlas.demo.water_structures import PLANT, RESERVOIRS


def build_network(territory: Territory, dem: Dem, rng, scale: float) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of the network as GeoDataFrames in the StaR-Eau columns."""
    graph = network.street_graph(territory, rng, 1_000_000.0 * scale)
    reservoir_nodes = _nearest_nodes(graph, [(r[1], r[2]) for r in RESERVOIRS])
    plant_node = _nearest_nodes(graph, [(PLANT[1], PLANT[2])])[0]
    parent_edge, _ = network.shortest_tree(graph, reservoir_nodes)
    fed = _fed_nodes(graph, parent_edge)
    trunk = set()
    plant_tree, _ = network.shortest_tree(graph, [plant_node])
    for node in reservoir_nodes:
        trunk.update(network.path_edges(graph, plant_tree, node))
    communes = _communes_of(territory, graph)
    pipes = _pipes(graph, fed, trunk, communes, dem, territory, rng)
    layers = {"aep_canalisation": pipes}
    layers.update(
        water_structures.build(
            territory, graph, dn_of(pipes), reservoir_nodes, plant_node, dem, rng
        )
    )
    return layers


def dn_of(pipes: gpd.GeoDataFrame) -> np.ndarray:
    """The DN of each main, in edge order."""
    return pipes["diametre_equivalent"].to_numpy(dtype=int)


def _nearest_nodes(graph: network.Graph, lonlat: list[tuple[float, float]]) -> list[int]:
    out = []
    for x, y in to_l93(tuple(lonlat)):
        out.append(int(np.argmin(np.hypot(graph.nodes[:, 0] - x, graph.nodes[:, 1] - y))))
    return out


def _fed_nodes(graph: network.Graph, parent_edge: np.ndarray) -> np.ndarray:
    """Per edge: how many nodes it feeds downstream in the reservoirs' tree (0 off-tree)."""
    nodes = len(graph.nodes)
    children: list[list[int]] = [[] for _ in range(nodes)]
    parent_node = np.full(nodes, -1)
    for node in range(nodes):
        edge = parent_edge[node]
        if edge >= 0:
            a, b = graph.edges[edge]
            parent_node[node] = a if b == node else b
            children[parent_node[node]].append(node)
    size = np.ones(nodes)
    order = [n for n in range(nodes) if parent_node[n] < 0]
    stack = list(order)
    visit = []
    while stack:
        node = stack.pop()
        visit.append(node)
        stack.extend(children[node])
    for node in reversed(visit):
        if parent_node[node] >= 0:
            size[parent_node[node]] += size[node]
    fed = np.zeros(len(graph.edges))
    has = parent_edge >= 0
    fed[parent_edge[has]] = size[has]
    return fed


def _communes_of(territory: Territory, graph: network.Graph) -> np.ndarray:
    """INSEE code of the commune under each edge's midpoint."""
    mid = (graph.nodes[graph.edges[:, 0]] + graph.nodes[graph.edges[:, 1]]) / 2
    out = np.full(len(mid), territory.communes[0].code, dtype=object)
    for commune in territory.communes:
        out[shapely.contains_xy(commune.geometry, mid[:, 0], mid[:, 1])] = commune.code
    return out


def _diameters(fed: np.ndarray, trunk: set[int], rng) -> np.ndarray:
    # DN grows with the square root of the nodes fed (flow ∝ served area); loops get DN 60–150.
    raw = 50 + 14.0 * np.sqrt(fed)
    off_tree = fed == 0
    raw[off_tree] = rng.choice([60, 80, 100, 100, 125, 150], size=int(off_tree.sum()))
    dn = DIAMETERS[np.clip(np.searchsorted(DIAMETERS, raw), 0, len(DIAMETERS) - 1)]
    for edge in trunk:
        dn[edge] = max(dn[edge], int(rng.choice([500, 600])))
    return dn


def _years_materials(dn: np.ndarray, new_town: np.ndarray, rng) -> tuple[np.ndarray, list[str]]:
    """Laying year (1950–2024) and StaR-Eau material code consistent with it and the DN."""
    count = len(dn)
    year = np.where(
        new_town,
        rng.integers(1970, 1996, count),
        rng.integers(1950, 1990, count),
    )
    renewed = rng.uniform(size=count) < 0.22
    year[renewed] = rng.integers(1995, 2025, int(renewed.sum()))
    materials = [_material(int(y), int(d), rng) for y, d in zip(year, dn, strict=True)]
    return year, materials


def _material(year: int, dn: int, rng) -> str:
    if year < 1970:
        options = [
            ("fg", 5),
            ("amci", 3 if dn <= 300 else 0),
            ("acier", 2 if dn >= 200 else 0),
            ("fd", 2 if year >= 1965 else 0),
        ]
    elif year < 1986:
        options = [
            ("fd", 5),
            ("amci", 3 if dn <= 300 else 0),
            ("pvc", 3 if dn <= 200 else 0),
            ("acier", 1 if dn >= 300 else 0),
        ]
    elif year < 1998:
        options = [
            ("fd", 6),
            ("pvc", 4 if dn <= 200 else 0),
            ("amci", 1 if year < 1997 and dn <= 300 else 0),
        ]
    else:
        options = [("fd", 6), ("pehd", 3 if dn <= 250 else 0), ("pvc", 1 if dn <= 200 else 0)]
    codes = [c for c, w in options if w]
    weights = np.array([w for _, w in options if w], dtype=float)
    return str(codes[int(rng.choice(len(codes), p=weights / weights.sum()))])


def _precision(year: np.ndarray, rng) -> np.ndarray:
    draw = rng.uniform(size=len(year))
    a_share = np.where(year >= 2012, 0.9, np.where(year >= 1990, 0.25, 0.05))
    b_share = np.where(year >= 2012, 0.1, np.where(year >= 1990, 0.6, 0.35))
    return np.where(draw < a_share, "A", np.where(draw < a_share + b_share, "B", "C"))


def _pipes(graph, fed, trunk, communes, dem, territory, rng) -> gpd.GeoDataFrame:
    count = len(graph.edges)
    dn = _diameters(fed, trunk, rng)
    new_towns = {c.code for c in territory.communes if c.new_town}
    year, materials = _years_materials(dn, np.array([c in new_towns for c in communes]), rng)
    geometries = _bent_lines(graph, rng)
    lengths = shapely.length(geometries)
    start = dem.sample(graph.nodes[graph.edges[:, 0], 0], graph.nodes[graph.edges[:, 0], 1])
    end = dem.sample(graph.nodes[graph.edges[:, 1], 0], graph.nodes[graph.edges[:, 1], 1])
    is_trunk = np.zeros(count, dtype=bool)
    is_trunk[list(trunk)] = True
    function = np.where(
        is_trunk, "transport", np.where(dn >= 300, "transport_distri", "distribution")
    )
    ids = np.arange(1, count + 1)
    data = {
        **common(count, communes, _precision(year, rng), year, rng),
        "id_canalisation": ids,
        "mode_circulation": np.where(is_trunk, "refoulement", "forcee"),
        "type_pose": "tranchee_ouverte",
        "raison_pose": None,
        "materiau": materials,
        "diametre_equivalent": dn,
        "longueur_terrain": np.round(lengths, 2),
        "sensible": is_trunk,
        "noeudinitial": graph.edges[:, 0] + 1,
        "noeudterminal": graph.edges[:, 1] + 1,
        "forme": "circulaire",
        "id_aep_canalisation": [f"AEP-CAN-{i:06d}" for i in ids],
        "fonction_canalisation": function,
        "contenu_canalisation": "eau_potable",
        "cote_debut": np.round(start - 1.2, 2),
        "cote_fin": np.round(end - 1.2, 2),
    }
    return frame("aep_canalisation", data, geometries)


def _bent_lines(graph: network.Graph, rng) -> np.ndarray:
    """Each edge as a 3-vertex line, its middle pushed sideways a little (streets are not straight)."""
    a, b = graph.nodes[graph.edges[:, 0]], graph.nodes[graph.edges[:, 1]]
    direction = b - a
    normal = np.column_stack([-direction[:, 1], direction[:, 0]])
    middle = (a + b) / 2 + normal * rng.normal(0, 0.06, (len(a), 1))
    coords = np.round(np.stack([a, middle, b], axis=1), 2)
    return shapely.linestrings(coords)


def write_network(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> Path:
    """One GeoPackage, one layer per table; OGR_CURRENT_DATE pins gpkg_contents.last_change."""
    if path.exists():
        path.unlink()
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2024-09-16T00:00:00Z"})
    try:
        for name, frame in layers.items():
            pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
    return path
