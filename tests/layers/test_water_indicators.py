"""Water-servicing indicators against a shapely oracle."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, box

from atlas.layers.water_indicators import (
    DISTANCE_BANDS,
    DN_CLASSES,
    distance_band,
    dn_class,
    water_indicators,
)

CRS = "EPSG:2154"


def _pipes() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "diametre_equivalent": [80, 300, 600, 150],
            "etat_service": ["en_service", "en_service", "abandon", None],
        },
        geometry=[
            LineString([(0, 0), (1000, 0)]),  # DN 80 along y = 0
            LineString([(0, 120), (1000, 120)]),  # DN 300 along y = 120
            LineString([(0, 10), (1000, 10)]),  # DN 600 abandoned: serves nothing
            LineString([(5000, 0), (5000, 1000)]),  # DN 150, state unknown: counted
        ],
        crs=CRS,
    )


def test_classes_and_bands_edges() -> None:
    assert [dn_class(d) for d in (60, 99, 100, 199, 200, 300, 1000)] == [
        DN_CLASSES[0], DN_CLASSES[0], DN_CLASSES[1], DN_CLASSES[1], DN_CLASSES[2],
        DN_CLASSES[3], DN_CLASSES[3],
    ]  # fmt: skip
    assert dn_class(None) is None and dn_class(0) is None
    assert [distance_band(d) for d in (0, 49.9, 50, 149, 150, 499, 500, None)] == [
        DISTANCE_BANDS[0], DISTANCE_BANDS[0], DISTANCE_BANDS[1], DISTANCE_BANDS[1],
        DISTANCE_BANDS[2], DISTANCE_BANDS[2], DISTANCE_BANDS[3], DISTANCE_BANDS[3],
    ]  # fmt: skip


def test_nearest_main_in_service_matches_shapely() -> None:
    pipes = _pipes()
    rng = np.random.default_rng(3)
    plots = gpd.GeoDataFrame(
        geometry=[
            box(x, y, x + 30, y + 30)
            for x, y in zip(rng.uniform(-500, 6000, 40), rng.uniform(-400, 900, 40), strict=True)
        ],
        crs=CRS,
    )
    out = water_indicators(plots, pipes)
    served = pipes[pipes["etat_service"].fillna("en_service") == "en_service"]
    for index, geometry in plots.geometry.items():
        distances = served.distance(geometry)
        best = distances.min()
        if best > 2000:
            assert (
                out.at[index, "eau_dn"] is None
                or out.at[index, "eau_dn"] != out.at[index, "eau_dn"]
            )
            assert out.at[index, "eau_distance_bande"] == DISTANCE_BANDS[-1]
            continue
        expected = served.loc[distances == best, "diametre_equivalent"].max()
        assert out.at[index, "eau_distance_m"] == pytest.approx(best, abs=0.06)
        assert out.at[index, "eau_dn"] == expected
        assert out.at[index, "eau_dn_classe"] == dn_class(expected)
        assert out.at[index, "eau_distance_bande"] == distance_band(round(best, 1))


def test_abandoned_main_is_ignored_and_no_network_is_unknown() -> None:
    plot = gpd.GeoDataFrame(geometry=[box(100, 5, 110, 15)], crs=CRS)  # on the abandoned DN 600
    out = water_indicators(plot, _pipes())
    assert out.at[0, "eau_dn"] == 80  # the DN 80 at 5 m, not the abandoned DN 600 under it
    empty = water_indicators(plot, None)
    assert empty.isna().all(axis=None)  # no network loaded: unknown, not "far"
