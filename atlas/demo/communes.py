"""The territory's communes written as an IGN ADMIN EXPRESS 4 GeoPackage (layer ``commune``).

ADMIN EXPRESS 4 (2025 onward) is a GeoPackage in Lambert-93 whose ``commune`` layer uses the BD
TOPO names: ``code_insee``, ``nom_officiel``, ``nom_officiel_en_majuscules``,
``code_insee_du_departement``, ``code_insee_de_la_region``, ``codes_siren_des_epci``,
``population``, geometry column ``geometrie``. Codes, names, populations and the EPCI are the
real ones (``atlas.demo.territory``); the boundaries are the territory's synthetic partition.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely

from atlas.demo.territory import EPCI_SIREN, Territory

REGION = "11"  # Île-de-France: Essonne (91) and Seine-et-Marne (77)


def write_communes(path: Path, territory: Territory) -> Path:
    """Write the communes; OGR_CURRENT_DATE pins gpkg_contents.last_change (stable bytes)."""
    communes = sorted(territory.communes, key=lambda c: c.code)
    frame = gpd.GeoDataFrame(
        {
            "code_insee": [c.code for c in communes],
            "nom_officiel": [c.name for c in communes],
            "nom_officiel_en_majuscules": [c.name.upper() for c in communes],
            "code_insee_du_departement": [c.code[:2] for c in communes],
            "code_insee_de_la_region": [REGION] * len(communes),
            "codes_siren_des_epci": [EPCI_SIREN] * len(communes),
            "population": [c.population for c in communes],
        },
        geometry=[shapely.MultiPolygon([c.geometry]) for c in communes],
        crs="EPSG:2154",
    )
    if path.exists():
        path.unlink()
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2025-06-16T00:00:00Z"})
    try:
        pyogrio.write_dataframe(
            frame,
            path,
            layer="commune",
            driver="GPKG",
            layer_options={"GEOMETRY_NAME": "geometrie"},
        )
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})
    return path
