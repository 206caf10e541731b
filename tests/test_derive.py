"""A killed ingest leaves every derived collection consistent with what is served (both stores).

The ingest runs as ``atlas ingest`` in a child process stopped at a named step
(``ATLAS_FAULT_PAUSE``, ``atlas.faults``) and killed there with SIGKILL. Whatever the step, the
plots' and sites' water indicators are those the served network gives (the oracle is
``water_indicators``, itself checked against shapely), the parcels' sites those the served
plots list, and the heritage perimeters those of the served monuments.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from atlas.ingest import ingest_path
from atlas.layers.water_indicators import INDICATOR_NAMES, water_indicators
from atlas.stores import open_store
from tests.conftest import STORE_KINDS, settings_for
from tests.helpers import REPO, require_real_data

CNIG = "cnig-sites-economiques"
X, Y = 656_000.0, 6_835_000.0  # Lambert-93, Évry-Courcouronnes (91228)
# Steps of a network ingest, in order: inside the network's own write, once it is staged,
# between the plots and the sites, with everything staged, and once switched.
PRE_SWITCH = ("write-midway", "ingest-written", "refresh-midway", "before-switch")


@pytest.fixture(params=STORE_KINDS)
def settings(request, tmp_path):
    yield from settings_for(request.param, tmp_path / "data")


@pytest.fixture
def store(settings):
    instance = open_store(settings.store)
    yield instance
    instance.close()


def _lonlat(geometry: shapely.Geometry) -> str:
    """GeoJSON text in lon/lat, as the CNIG exchange format carries geometries."""
    lonlat = gpd.GeoSeries([geometry], crs="EPSG:2154").to_crs(4326).iloc[0]
    return json.dumps(shapely.geometry.mapping(lonlat))


def _cnig_csv(example: str, path: Path, rows: list[dict[str, str]]) -> Path:
    """The real CNIG example file's row, once per ``rows`` entry with those values replaced."""
    with open(require_real_data(CNIG, example), newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle, delimiter=";")
        base, header = next(reader), reader.fieldnames
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, delimiter=";")
        writer.writeheader()
        writer.writerows(base | row for row in rows)
    return path


def _plot_box(i: int) -> shapely.Polygon:
    return shapely.box(X + 300 * i, Y, X + 300 * i + 80, Y + 60)


def _plots(path: Path, site_of=lambda i: "91228_SITE-ECO_00000") -> Path:
    rows = [
        {
            "terr_id": f"91228_TERRAIN-ECO_{i:05d}",
            "site_id": site_of(i),
            "terr_refcad": f"91228000AB{i:04d}",
            "terr_geomsurf": _lonlat(_plot_box(i)),
        }
        for i in range(6)
    ]
    return _cnig_csv("exemple-valide-terrain-eco.csv", path, rows)


def _sites(path: Path) -> Path:
    rows = []
    for i in range(2):
        outline = shapely.box(X + 900 * i, Y - 100, X + 900 * i + 800, Y + 200)
        lon, lat = Transformer.from_crs(2154, 4326, always_xy=True).transform(
            outline.centroid.x, outline.centroid.y
        )
        rows.append(
            {
                "site_id": f"91228_SITE-ECO_{i:05d}",
                "site_geomsurf": _lonlat(outline),
                "site_geompoint": f"{lon:.5f}, {lat:.5f}",
            }
        )
    return _cnig_csv("exemple-valide-site-eco.csv", path, rows)


def _network(path: Path, prefix: str, offset: float, diameter: int) -> Path:
    """A RAEPA 1.2 zip: two mains in service along the plots, ``offset`` m from their edge."""
    lines = [
        shapely.LineString([(X - 100, Y + offset), (X + 900, Y + offset)]),
        shapely.LineString([(X + 900, Y + offset), (X + 1900, Y + offset)]),
    ]
    n = len(lines)
    frame = gpd.GeoDataFrame(
        {
            "IDCANA": [f"{prefix}{i}" for i in range(n)],
            "MOUVRAGE": ["GPS"] * n,
            "GEXPLOIT": ["Régie"] * n,
            "ENSERVICE": ["O"] * n,
            "BRANCHEMNT": ["N"] * n,
            "MATERIAU": ["11"] * n,
            "DIAMETRE": [diameter] * n,
            "ANFINPOSE": ["1980"] * n,
            "ANDEBPOSE": ["1975"] * n,
            "MODECIRC": ["02"] * n,
            "CONTCANAEP": ["02"] * n,
            "FONCCANAEP": ["01"] * n,
            "QUALGLOCXY": ["01"] * n,
        },
        geometry=lines,
        crs="EPSG:2154",
    )
    folder = path.with_suffix("")
    folder.mkdir()
    frame.to_file(folder / "RAEPA_CANALAEP_L.shp")
    with zipfile.ZipFile(path, "w") as archive:
        for member in folder.iterdir():
            archive.write(member, member.name)
    return path


def _ingest(store, settings, collection_id: str, path: Path) -> None:
    ingest_path(store, collection_id, path, settings=settings, progress=False)


def _killed_ingest(settings, collection_id: str, path: Path, point: str) -> None:
    """``atlas ingest`` in a child process, SIGKILLed once it reaches ``point``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATLAS_")}
    env |= {"ATLAS_DATA_DIR": str(settings.store.data_dir), "ATLAS_FAULT_PAUSE": point}
    if settings.store.database_url is not None:
        env["ATLAS_DATABASE_URL"] = settings.store.database_url.get_secret_value()
        env["ATLAS_DATABASE_SCHEMA"] = settings.store.database_schema
    child = subprocess.Popen(
        [sys.executable, "-m", "atlas.cli", "ingest", collection_id, str(path), "--quiet"],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline, line = time.monotonic() + 180, ""
        while time.monotonic() < deadline:
            line = child.stderr.readline()
            if f"paused at {point}" in line or (not line and child.poll() is not None):
                break
        assert f"paused at {point}" in line, f"the ingest never reached {point}: {line!r}"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        child.stderr.close()


def _plain(value: object) -> object:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return round(float(value), 1) if isinstance(value, float) else value


def _indicators(frame: gpd.GeoDataFrame, id_field: str, source: pd.DataFrame) -> dict:
    """Feature id -> its four indicators, plain values."""
    return {
        fid: tuple(_plain(source.at[index, name]) for name in INDICATOR_NAMES)
        for index, fid in frame[id_field].items()
    }


def _water_state(store) -> dict[str, object]:
    """The served network's ids, and each served plot's and site's stored indicators, after
    checking they are the ones the served network gives."""
    pipes = store.frame("water-pipes")
    state: dict[str, object] = {"network": sorted(pipes["id_canalisation"])}
    for collection_id, id_field in (("activity-plots", "terr_id"), ("activity-sites", "site_id")):
        served = store.frame(collection_id)
        stored = _indicators(served, id_field, served)
        assert stored == _indicators(served, id_field, water_indicators(served, pipes)), (
            f"{collection_id}: indicators not computed from the served network"
        )
        # Nothing listed that was never served: the newest listed version is the current one.
        assert store.versions(collection_id)[0].version == store.collection(collection_id).version
        state[collection_id] = stored
    return state


@pytest.mark.slow
@pytest.mark.realdata
def test_a_killed_network_ingest_leaves_indicators_of_the_served_network(store, settings, tmp_path):
    _ingest(store, settings, "activity-plots", _plots(tmp_path / "plots.csv"))
    _ingest(store, settings, "activity-sites", _sites(tmp_path / "sites.csv"))
    old = _network(tmp_path / "old.zip", "OLD", offset=-20, diameter=300)
    new = _network(tmp_path / "new.zip", "NEW", offset=260, diameter=80)
    _ingest(store, settings, "water-pipes", old)
    before = _water_state(store)

    for point in PRE_SWITCH:
        _killed_ingest(settings, "water-pipes", new, point)
        assert _water_state(store) == before, f"killed at {point}"
        assert [v.version for v in store.versions("water-pipes")] == [1], f"killed at {point}"

    _killed_ingest(settings, "water-pipes", new, "after-switch")
    after = _water_state(store)
    assert after["network"] != before["network"]
    assert after["activity-plots"] != before["activity-plots"]  # the two networks differ
    assert after["activity-sites"] != before["activity-sites"]

    # And back: the next ingest after a kill completes, consistent with what it served.
    _ingest(store, settings, "water-pipes", old)
    assert _water_state(store) == before


def _parcels(path: Path) -> Path:
    """Etalab-style parcels (lon/lat) under the plots, ids as the plots' terr_refcad list."""
    frame = gpd.GeoDataFrame(
        {
            "id": [f"91228000AB{i:04d}" for i in range(6)],
            "commune": ["91228"] * 6,
            "prefixe": ["000"] * 6,
            "section": ["AB"] * 6,
            "numero": [f"{i:04d}" for i in range(6)],
            "contenance": [4800] * 6,
        },
        geometry=[_plot_box(i) for i in range(6)],
        crs="EPSG:2154",
    ).to_crs(4326)
    frame.to_file(path, driver="GeoJSON")
    return path


def _parcel_sites(store) -> dict[str, str | None]:
    """Each served parcel's site, after checking it is the site of the served plot listing it."""
    plots = store.frame("activity-plots")
    listed = {ref: site for ref, site in zip(plots["terr_refcad"], plots["site_id"], strict=True)}
    parcels = store.frame("parcels")
    sites = {pid: _plain(site) for pid, site in zip(parcels["id"], parcels["site_id"], strict=True)}
    assert sites == {pid: listed.get(pid) for pid in sites}
    return sites


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.parametrize("point", ["ingest-written", "before-switch"])
def test_a_killed_plots_ingest_leaves_parcels_on_the_served_plots_sites(
    store, settings, tmp_path, point
):
    _ingest(store, settings, "activity-plots", _plots(tmp_path / "plots.csv"))
    _ingest(store, settings, "parcels", _parcels(tmp_path / "parcelles.geojson"))
    before = _parcel_sites(store)
    moved = _plots(tmp_path / "moved.csv", site_of=lambda i: f"91228_SITE-ECO_{i % 2:05d}")
    _killed_ingest(settings, "activity-plots", moved, point)
    assert _parcel_sites(store) == before
    _ingest(store, settings, "activity-plots", moved)
    assert _parcel_sites(store) != before


def _monuments(path: Path, references: list[str]) -> Path:
    frame = gpd.GeoDataFrame(
        {
            "Reference": references,
            "Titre_editorial_de_la_notice": [f"Monument {r}" for r in references],
            "Typologie_de_la_protection": ["inscrit MH"] * len(references),
        },
        geometry=[shapely.Point(X + 2000 * i, Y) for i in range(len(references))],
        crs="EPSG:2154",
    ).to_crs(4326)
    frame.to_file(path, driver="GeoJSON")
    return path


def _perimeter_references(store) -> list[str]:
    """The served perimeters' monuments, after checking they are the served monuments."""
    perimeters = sorted(store.frame("heritage-perimeters")["reference"])
    assert perimeters == sorted(store.frame("heritage-monuments")["reference"])
    return perimeters


@pytest.mark.slow
def test_a_killed_monuments_ingest_leaves_perimeters_of_the_served_monuments(
    store, settings, tmp_path
):
    _ingest(
        store, settings, "heritage-monuments", _monuments(tmp_path / "a.geojson", ["PA91000090"])
    )
    before = _perimeter_references(store)
    more = _monuments(tmp_path / "b.geojson", ["PA91000090", "PA91000091", "PA91000092"])
    _killed_ingest(settings, "heritage-monuments", more, "ingest-written")
    assert _perimeter_references(store) == before
    _killed_ingest(settings, "heritage-monuments", more, "after-switch")
    assert len(_perimeter_references(store)) == 3
