"""Flood hazard zones of two PPRI (the Seine, the Essonne) in the COVADIS/CNIG PPR format.

Table N_ZONE_ALEA_PPRN: one zone per hazard level and commune; GASPAR risk code 1120000
(inondation par une crue à débordement lent de cours d'eau); nivalea Fai/M/F/F+ with the
standard's codes 01/02/04/05. Bands widen with distance from the river, as a slow-rising
plain flood does; written as GeoJSON in EPSG:2154 (named CRS member, read by GDAL).
"""

from __future__ import annotations

from pathlib import Path

import shapely

from atlas.demo.formats import CRS_2154, write_feature_collection
from atlas.demo.territory import Territory

CODE_RISQUE = "1120000"
NOM_RISQUE = "Inondation - Par une crue à débordement lent de cours d'eau"
# level, standard code, descript, (outer distance from the Seine's axis, from the Essonne's) m
LEVELS = (
    ("F+", "05", "I4", 160.0, 40.0),
    ("F", "04", "I3", 320.0, 110.0),
    ("M", "02", "I2", 520.0, 220.0),
    ("Fai", "01", "I1", 780.0, 360.0),
)
PPRS = (
    ("91DDT20120001", "PPRI de la Seine", "seine", 70.0),
    ("91DDT20120002", "PPRI de l'Essonne", "essonne", 12.0),
)


def zones(territory: Territory) -> list[tuple[dict[str, object], shapely.Geometry]]:
    """(attributes, polygon) for each hazard level × commune of each PPRI."""
    out = []
    zone_id = 0
    for gaspar, title, river_name, bed in PPRS:
        river = getattr(territory, river_name)
        inner = river.buffer(bed)
        which = 0 if river_name == "seine" else 1
        for level, code, descript, *outer in LEVELS:
            ring_outer = river.buffer(outer[which])
            band = shapely.difference(ring_outer, inner)
            band = shapely.difference(band, territory.rivers)
            inner = ring_outer
            for commune in territory.communes:
                part = shapely.intersection(band, commune.geometry)
                if part.is_empty or part.area < 500:
                    continue
                zone_id += 1
                out.append(
                    (_attributes(zone_id, gaspar, title, level, code, descript, commune.name), part)
                )
    return out


def _attributes(zone_id, gaspar, title, level, code, descript, commune_name) -> dict[str, object]:
    return {
        "id_zone": zone_id,
        "id_gaspar": gaspar,
        "descript": descript,
        "coderisque": CODE_RISQUE,
        "nomrisque": NOM_RISQUE,
        "multi_alea": "non",
        "nivalea": level,
        "nivalea_st": code,
        "srce_geom": "Modèle hydraulique, crue de référence 1910, MNT LiDAR",
        "srce_annee": "2011",
        "precision": "M",
        "titrecarte": f"{title} — carte des aléas ({commune_name})",
        "datecarte": "2012-10-24",
        "typecarte": "Carte des aléas",
        "nomfic": f"{gaspar}_carte_aleas.pdf",
        "urlfic": f"https://www.essonne.gouv.fr/ppri/{gaspar}_carte_aleas.pdf",
    }


def write_hazards(path: Path, territory: Territory) -> Path:
    """The N_ZONE_ALEA_PPRN GeoJSON (EPSG:2154)."""
    features = ((None, attrs, geometry) for attrs, geometry in zones(territory))
    return write_feature_collection(
        path, features, digits=2, crs=CRS_2154, name="n_zone_alea_pprn_s_091"
    )
