"""Structures of the drinking-water network (StaR-Eau): reservoirs, intakes, plant, pumps, valves.

Positions of reservoirs, the production plant and the intakes are approximate demo choices
(plateau water towers, the Seine intake at Morsang, Champigny limestone boreholes in Sénart);
valves stand on the junctions of the mains, sized like the largest main they close.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from atlas.demo import network
from atlas.demo.terrain import Dem
from atlas.demo.territory import Territory, to_l93
from atlas.demo.water_model import common, frame

# Water towers and ground reservoirs on the plateaux (approximate lon/lat, name, type, m³).
RESERVOIRS = (
    ("Réservoir de Lisses", 2.402, 48.607, "tour", 3000),
    ("Réservoirs de Saint-Pierre-du-Perray", 2.522, 48.614, "semi_enterre", 20000),
    ("Château d'eau de Tigery", 2.512, 48.641, "tour", 2500),
    ("Réservoir de Savigny-le-Temple", 2.577, 48.582, "sol", 8000),
    ("Château d'eau de Moissy-Cramayel", 2.602, 48.630, "tour", 3000),
    ("Réservoir de Grigny", 2.395, 48.647, "semi_enterre", 6000),
)
PLANT = ("Usine de production de Morsang-sur-Seine", 2.493, 48.571)
CAPTAGES = (
    ("Prise d'eau en Seine de Morsang", 2.491, 48.569, "prise_eau", "La Seine", "cours_eau"),
    ("Forage de Savigny F1", 2.590, 48.590, "forage", "Calcaires de Champigny", "nappe"),
    ("Forage de Réau F2", 2.630, 48.602, "forage", "Calcaires de Champigny", "nappe"),
)


_VALVES = 280


def build(
    territory: Territory,
    graph: network.Graph,
    dn: np.ndarray,
    reservoirs: list[int],
    plant: int,
    dem: Dem,
    rng,
) -> dict[str, gpd.GeoDataFrame]:
    """Every structure layer, keyed by StaR-Eau table name."""
    return {
        "aep_captage": _captages(territory, dem, rng),
        "aep_traitement": _plant(territory, graph, plant, dem, rng),
        "aep_reservoir": _reservoirs(territory, graph, reservoirs, dem, rng),
        "aep_pompage": _pumps(territory, graph, reservoirs, plant, dem, rng),
        "aep_vanne": _valves(territory, graph, dn, dem, rng),
    }


def _commune_at(territory: Territory, points: np.ndarray) -> np.ndarray:
    out = np.full(len(points), territory.communes[0].code, dtype=object)
    for commune in territory.communes:
        out[shapely.contains_xy(commune.geometry, points[:, 0], points[:, 1])] = commune.code
    return out


def _base(territory, points, years, rng) -> dict[str, object]:
    count = len(points)
    years = np.asarray(years)
    return common(count, _commune_at(territory, points), np.full(count, "A"), years, rng)


def _captages(territory: Territory, dem: Dem, rng) -> gpd.GeoDataFrame:
    points = np.array(to_l93(tuple((c[1], c[2]) for c in CAPTAGES)))
    data = {
        **_base(territory, points, [1968, 1985, 1992], rng),
        "id_aep_captage": [f"AEP-CAP-{i + 1:03d}" for i in range(len(points))],
        "nom_usuel": [c[0] for c in CAPTAGES],
        "type_captage": [c[3] for c in CAPTAGES],
        "nom_ressource": [c[4] for c in CAPTAGES],
        "type_ressource": [c[5] for c in CAPTAGES],
        "debit_max_autorise": ["6000 m3/h", "250 m3/h", "200 m3/h"],
    }
    return frame("aep_captage", data, shapely.points(points))


def _plant(territory, graph, plant, dem, rng) -> gpd.GeoDataFrame:
    points = graph.nodes[[plant]]
    data = {
        **_base(territory, points, [1968], rng),
        "id_noeud_reseau": [plant + 1],
        "id_aep_traitement": ["AEP-TRT-001"],
        "nom_usuel": [PLANT[0]],
        "fonction_traitement": ["usine"],
        "type_desinfection": ["chlore"],
        "capacite": [150000.0],
        "debit_ref": [6000.0],
        "telegestion": ["oui"],
    }
    return frame("aep_traitement", data, shapely.points(points))


def _reservoirs(territory, graph, reservoirs, dem, rng) -> gpd.GeoDataFrame:
    points = graph.nodes[reservoirs]
    ground = np.round(dem.sample(points[:, 0], points[:, 1]), 2)
    towers = np.array([r[3] == "tour" for r in RESERVOIRS])
    floor = np.round(ground + np.where(towers, 28.0, -3.0), 2)
    data = {
        **_base(territory, points, rng.integers(1965, 1990, len(points)), rng),
        "id_noeud_reseau": np.array(reservoirs) + 1,
        "forme": "circulaire",
        "id_aep_reservoir": [f"AEP-RES-{i + 1:03d}" for i in range(len(points))],
        "nom_usuel": [r[0] for r in RESERVOIRS],
        "type_reservoir": [r[3] for r in RESERVOIRS],
        "nb_cuves": [2 if r[4] >= 5000 else 1 for r in RESERVOIRS],
        "volume_utile": [r[4] for r in RESERVOIRS],
        "cote_sol": ground,
        "cote_radier": floor,
        "cote_trop_plein": floor + 7.5,
        "telegestion": "oui",
    }
    return frame("aep_reservoir", data, shapely.points(points))


def _pumps(territory, graph, reservoirs, plant, dem, rng) -> gpd.GeoDataFrame:
    boosters = [int(n) for n in rng.choice(len(graph.nodes), size=4, replace=False)]
    nodes = [plant, *reservoirs, *boosters]
    points = graph.nodes[nodes]
    functions = ["transfert"] + ["reprise"] * len(reservoirs) + ["surpresseur"] * len(boosters)
    names = (
        [PLANT[0]]
        + [r[0] for r in RESERVOIRS]
        + [f"Surpresseur {i + 1}" for i in range(len(boosters))]
    )
    data = {
        **_base(territory, points, rng.integers(1970, 2020, len(points)), rng),
        "id_noeud_reseau": np.array(nodes) + 1,
        "id_aep_pompage": [f"AEP-POM-{i + 1:03d}" for i in range(len(points))],
        "nom_usuel": [f"Pompage {n}" for n in names],
        "fonction_pompage": functions,
        "installation_pompage": ["bache" if f != "surpresseur" else "ligne" for f in functions],
        "nb_pompes": [4 if f == "transfert" else 2 for f in functions],
        "capacite": [6000.0 if f == "transfert" else 400.0 for f in functions],
        "telegestion": "oui",
    }
    return frame("aep_pompage", data, shapely.points(points))


def _valves(territory, graph, dn, dem, rng) -> gpd.GeoDataFrame:
    degree = np.bincount(graph.edges.ravel(), minlength=len(graph.nodes))
    junctions = np.flatnonzero(degree >= 3)
    chosen = np.sort(rng.choice(junctions, size=min(_VALVES, len(junctions)), replace=False))
    largest = np.zeros(len(graph.nodes), dtype=int)
    np.maximum.at(largest, graph.edges[:, 0], dn)
    np.maximum.at(largest, graph.edges[:, 1], dn)
    diameter = largest[chosen].astype(float)
    function = rng.choice(
        ["coupure", "coupure", "coupure", "sectorisation", "purge"], size=len(chosen)
    )
    data = {
        **_base(territory, graph.nodes[chosen], rng.integers(1970, 2024, len(chosen)), rng),
        "id_noeud_reseau": chosen + 1,
        "id_aep_vanne": [f"AEP-VAN-{i + 1:05d}" for i in range(len(chosen))],
        "type_vanne": np.where(diameter >= 300, "papillon", "opercule"),
        "fonction_vanne": function,
        "diametre": diameter,
        "sens_fermeture": "fsh",
        "etat_ouverture": np.where(
            (function == "sectorisation") & (rng.uniform(size=len(chosen)) < 0.5),
            "fermee",
            "ouverte",
        ),
        "motorisation": "non",
        "telegestion": np.where(diameter >= 300, "oui", "non"),
    }
    return frame("aep_vanne", data, shapely.points(graph.nodes[chosen]))
