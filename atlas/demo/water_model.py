"""The StaR-Eau AEP data model: layers, their columns (template order and types), shared values."""

from __future__ import annotations

import datetime as dt
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

DIAMETERS = np.array([60, 80, 100, 125, 150, 200, 250, 300, 350, 400, 500, 600])
OWNER = "CA Grand Paris Sud Seine Essonne Sénart"
OPERATOR = "Régie de l'eau Grand Paris Sud"
# Columns common to every StaR-Eau AEP layer (name, dtype).
COMMON: tuple[tuple[str, str], ...] = (
    ("type_reseau", "str"), ("fictif", "bool"), ("etat_service", "str"), ("insee_commune", "str"),
    ("localisation", "str"), ("maitre_ouvrage", "str"), ("exploitant", "str"),
    ("entreprise_pose", "str"), ("precision_xy", "str"), ("precision_z", "str"),
    ("an_pose_sup", "int"), ("an_pose_inf", "int"), ("an_service_sup", "int"),
    ("an_service_inf", "int"), ("an_abandon_sup", "int"), ("an_abandon_inf", "int"),
    ("an_rehab_sup", "int"), ("an_rehab_inf", "int"), ("date_creation", "datetime"),
    ("origine_creation", "str"), ("date_maj", "datetime"), ("origine_maj", "str"),
    ("lien_doc1", "str"), ("lien_doc2", "str"), ("commentaire", "str"),
)  # fmt: skip
_SHAPE = (
    ("forme", "str"), ("lien_detail", "str"), ("hauteur_interieure", "float"),
    ("hauteur_exterieure", "float"), ("largeur_interieure", "float"),
    ("largeur_exterieure", "float"), ("longueur_interieure", "float"),
    ("longueur_exterieure", "float"),
)  # fmt: skip
LAYERS: dict[str, tuple[tuple[str, str], ...]] = {
    "aep_canalisation": COMMON + (
        ("id_canalisation", "int"), ("mode_circulation", "str"), ("type_pose", "str"),
        ("raison_pose", "str"), ("materiau", "str"), ("revetement_interieur", "str"),
        ("diametre_equivalent", "int"), ("longueur_terrain", "float"), ("sensible", "bool"),
        ("noeudterminal", "int"), ("noeudinitial", "int"),
    ) + _SHAPE + (
        ("id_aep_canalisation", "str"), ("fonction_canalisation", "str"),
        ("contenu_canalisation", "str"), ("protection_cathodique", "str"),
        ("etage_pression", "str"), ("type_pression", "str"), ("secteur_hydraulique", "str"),
        ("ref_udi", "str"), ("cote_debut", "float"), ("cote_fin", "float"),
        ("ref_reservoir", "int"),
    ),
    "aep_captage": COMMON + (
        ("id_noeud_reseau", "int"), ("id_aep_captage", "str"), ("nom_usuel", "str"),
        ("type_captage", "str"), ("nom_ressource", "str"), ("type_ressource", "str"),
        ("ref_aac", "str"), ("ref_dup", "str"), ("ref_bss", "str"), ("debit_max_autorise", "str"),
    ),
    "aep_pompage": COMMON + (
        ("id_noeud_reseau", "int"), ("id_aep_pompage", "str"), ("nom_usuel", "str"),
        ("fonction_pompage", "str"), ("installation_pompage", "str"), ("nb_pompes", "int"),
        ("capacite", "float"), ("telegestion", "str"),
    ),
    "aep_reservoir": COMMON + (("id_noeud_reseau", "int"),) + _SHAPE + (
        ("id_aep_reservoir", "str"), ("nom_usuel", "str"), ("type_reservoir", "str"),
        ("nb_cuves", "int"), ("volume_utile", "int"), ("cote_sol", "float"),
        ("cote_radier", "float"), ("cote_trop_plein", "float"), ("telegestion", "str"),
    ),
    "aep_traitement": COMMON + (
        ("id_noeud_reseau", "int"), ("id_aep_traitement", "str"), ("nom_usuel", "str"),
        ("fonction_traitement", "str"), ("type_desinfection", "str"), ("capacite", "float"),
        ("debit_ref", "float"), ("telegestion", "str"),
    ),
    "aep_vanne": COMMON + (
        ("id_noeud_reseau", "int"), ("id_aep_vanne", "str"), ("type_vanne", "str"),
        ("fonction_vanne", "str"), ("diametre", "float"), ("sens_fermeture", "str"),
        ("etat_ouverture", "str"), ("blocage", "str"), ("motorisation", "str"),
        ("telegestion", "str"),
    ),
}  # fmt: skip


def common(count, communes, precision, year, rng) -> dict[str, object]:
    """The StaR-Eau columns shared by every layer."""
    created = [
        dt.datetime(2015, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 3000, count)
    ]
    return {
        "type_reseau": "aep",
        "fictif": False,
        "etat_service": "en_service",
        "insee_commune": communes,
        "maitre_ouvrage": OWNER,
        "exploitant": OPERATOR,
        "precision_xy": precision,
        "precision_z": np.where(precision == "A", "A", "C"),
        "an_pose_sup": year,
        "an_pose_inf": year,
        "an_service_sup": year,
        "an_service_inf": year,
        "date_creation": created,
        "origine_creation": "numerisation",
        "date_maj": [dt.datetime(2024, 9, 16)] * count,
        "origine_maj": "recolement",
    }


def frame(layer: str, data: dict[str, object], geometries) -> gpd.GeoDataFrame:
    """A GeoDataFrame with exactly the template's columns, in its order and types."""
    count = len(geometries)
    columns = {}
    for name, kind in LAYERS[layer]:
        value = data.get(name)
        values: Any = (
            np.full(count, value, dtype=object) if np.isscalar(value) or value is None else value
        )
        if kind == "int":
            columns[name] = pd.array([None if v is None else int(v) for v in values], dtype="Int32")
        elif kind == "float":
            columns[name] = pd.array(
                [None if v is None or v != v else float(v) for v in values], dtype="Float64"
            )
        elif kind == "bool":
            columns[name] = pd.array([bool(v) for v in values], dtype="bool")
        elif kind == "datetime":
            columns[name] = pd.to_datetime(pd.Series(values, dtype=object))
        else:
            columns[name] = pd.array([None if v is None else str(v) for v in values], dtype=object)
    return gpd.GeoDataFrame(columns, geometry=list(geometries), crs="EPSG:2154")
