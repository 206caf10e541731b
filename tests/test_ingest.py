"""Ingest across collections: a delimited perimeter (PDA) survives re-ingest of the monuments."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from atlas.layers.heritage_perimeters import ABORDS, PDA
from atlas.query.features import FeatureQuery
from atlas.settings import Settings, StoreSettings

# Two protected monuments 2 km apart around Évry, in Lambert-93.
CATHEDRAL = shapely.Point(658_900.0, 6_834_300.0)
CHATEAU = shapely.Point(660_900.0, 6_834_300.0)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(store=StoreSettings(data_dir=tmp_path / "data", database_url=None))


@pytest.fixture
def monuments_file(tmp_path):
    frame = gpd.GeoDataFrame(
        {
            "Reference": ["PA91000099", "PA91000098"],
            "Titre_editorial_de_la_notice": ["Cathédrale de la Résurrection", "Château"],
            "Typologie_de_la_protection": ["inscrit MH", "classé MH"],
        },
        geometry=[CATHEDRAL, CHATEAU],
        crs=2154,
    ).to_crs(4326)
    path = tmp_path / "monuments.geojson"
    frame.to_file(path, driver="GeoJSON")
    return path


@pytest.fixture
def pda_file(tmp_path):
    polygon = shapely.box(
        CATHEDRAL.x - 300, CATHEDRAL.y - 200, CATHEDRAL.x + 250, CATHEDRAL.y + 400
    )
    # The second PDA names a monument the monuments file does not carry: it stays all the same.
    elsewhere = shapely.box(650_000.0, 6_830_000.0, 650_400.0, 6_830_300.0)
    frame = gpd.GeoDataFrame(
        {"REF_MERIMEE": ["PA91000099", "PA91000097"]}, geometry=[polygon, elsewhere], crs=2154
    )
    path = tmp_path / "pda.gpkg"
    frame.to_file(path, driver="GPKG")
    return path, polygon


def _perimeters(store) -> dict[str, tuple[str, shapely.Geometry]]:
    page = store.query("heritage-perimeters", FeatureQuery(limit=100))
    return {
        f.properties["reference"]: (f.properties["type_perimetre"], f.geometry)
        for f in page.features
    }


def test_pda_survives_reingest_of_monuments(catalog_store, settings, monuments_file, pda_file):
    from atlas.ingest import ingest_path

    pda_path, polygon = pda_file
    ingest_path(
        catalog_store, "heritage-monuments", monuments_file, settings=settings, progress=False
    )
    assert {kind for kind, _ in _perimeters(catalog_store).values()} == {ABORDS}

    ingest_path(catalog_store, "heritage-perimeters", pda_path, settings=settings, progress=False)
    report = ingest_path(
        catalog_store, "heritage-monuments", monuments_file, settings=settings, progress=False
    )

    perimeters = _perimeters(catalog_store)
    assert perimeters.keys() == {"PA91000099", "PA91000098", "PA91000097"}
    kind, geometry = perimeters["PA91000099"]
    assert kind == PDA and geometry.equals(shapely.MultiPolygon([polygon]))
    assert perimeters["PA91000098"][0] == ABORDS
    assert perimeters["PA91000097"][0] == PDA
    assert any("3 perimeters derived" in note for note in report.notes)


def test_pda_ingest_keeps_the_abords_of_the_other_monuments(
    catalog_store, settings, monuments_file, pda_file
):
    from atlas.ingest import ingest_path

    pda_path, polygon = pda_file
    ingest_path(
        catalog_store, "heritage-monuments", monuments_file, settings=settings, progress=False
    )
    report = ingest_path(
        catalog_store, "heritage-perimeters", pda_path, settings=settings, progress=False
    )
    perimeters = _perimeters(catalog_store)
    # The château keeps its 500 m circle; the cathedral's circle gave way to its PDA.
    assert perimeters.keys() == {"PA91000099", "PA91000098", "PA91000097"}
    assert perimeters["PA91000098"][0] == ABORDS
    assert perimeters["PA91000098"][1].area == pytest.approx(3.1416 * 500**2, rel=0.01)
    assert perimeters["PA91000099"][0] == PDA
    assert any("1 abords of stored monuments kept" in note for note in report.notes)


PLOTS_EXAMPLE = "cnig-sites-economiques/exemple-valide-terrain-eco.csv"


def _parcels_file(tmp_path, ids: list[str]):
    """Etalab-style parcels (EPSG:4326) with the given ids, 100 m squares in a row."""
    polygons = [
        shapely.box(x, 6_900_000.0, x + 100, 6_900_100.0) for x in range(0, 200 * len(ids), 200)
    ]
    frame = gpd.GeoDataFrame(
        {
            "id": ids,
            "commune": [i[:5] for i in ids],
            "prefixe": [i[5:8] for i in ids],
            "section": [i[8:10] for i in ids],
            "numero": [i[10:] for i in ids],
            "contenance": [10_000] * len(ids),
        },
        geometry=[shapely.affinity.translate(p, 640_000.0, 0.0) for p in polygons],
        crs=2154,
    ).to_crs(4326)
    path = tmp_path / "parcelles.geojson"
    frame.to_file(path, driver="GeoJSON")
    return path


@pytest.mark.parametrize("plots_first", [True, False], ids=["plots-first", "parcels-first"])
def test_parcels_know_their_site_whichever_is_ingested_last(
    catalog_store, settings, tmp_path, plots_first
):
    from atlas.ingest import ingest_path
    from tests.helpers import require_real_data

    plots = require_real_data(PLOTS_EXAMPLE)
    listed = ["80024000ZO0030", "80024000ZO0034", "80024000ZO0035"]
    parcels = _parcels_file(tmp_path, [*listed, "80024000ZO0099"])
    order = [("activity-plots", plots), ("parcels", parcels)]
    for collection_id, path in order if plots_first else order[::-1]:
        ingest_path(catalog_store, collection_id, path, settings=settings, progress=False)
    page = catalog_store.query("parcels", FeatureQuery(limit=10))
    sites = {f.id: f.properties["site_id"] for f in page.features}
    assert sites == {**dict.fromkeys(listed, "80024_SITE-ECO_00001"), "80024000ZO0099": None}
