"""``atlas demo``: generate the demo territory's files, then ingest them like real data.

Each generator draws from its own child of the seed (``default_rng([seed, k])``), so that the
files are byte-identical for one seed and changing one generator leaves the others' output
unchanged.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from atlas import progress
from atlas.demo import (
    basemap,
    cadastre,
    communes,
    hazards,
    heritage,
    inventory,
    parks,
    services,
    terrain,
    water,
)
from atlas.demo.business import assign_states
from atlas.demo.territory import Territory, build_territory

log = logging.getLogger(__name__)

# The communes first: their outline is the territory every other layer is checked against.
# Ingest order: parcels first (plots refer to them), monuments before their derived perimeters,
# elevation before the slope derived from it.
# The network before the plots and sites, whose water indicators are derived from it; the plots
# before the parcels, whose site is derived from the plots' terr_refcad.
INGEST_ORDER = (
    "communes",
    "water-pipes",
    "water-structures",
    "activity-sites",
    "activity-plots",
    "establishments",
    "parcels",
    "heritage-monuments",
    "services",
    "flood-hazard",
    "roads",
    "waterways",
    "water-bodies",
    "elevation",
    "slope",
)
FILE_NAMES = {
    "communes": "admin-express-cog-commune.gpkg",
    "parcels": "cadastre-parcelles.json",
    "activity-sites": "site-eco.csv",
    "activity-plots": "terrain-eco.csv",
    "establishments": "etablissement.csv",
    "water-pipes": "eau_potable.gpkg",
    "heritage-monuments": "merimee-monuments-historiques.geojson",
    "services": "bpe-equipements.csv",
    "flood-hazard": "n_zone_alea_pprn_s_091.geojson",
    "elevation": "mnt-25m.tif",
    "roads": "openstreetmap-extract.osm",
}


def generate(out_dir: Path, *, seed: int = 20261122, scale: float = 1.0) -> dict[str, Path]:
    """Write every file of the demo territory into ``out_dir``; collection id -> file."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = {key: out_dir / name for key, name in FILE_NAMES.items()}
    timer = _Timer()
    territory = build_territory()
    communes.write_communes(path["communes"], territory)
    dem = terrain.build_dem(territory, _rng(seed, 1))
    terrain.write_dem(path["elevation"], dem)
    timer.lap("elevation")
    parcels = write_demo_parcels(path["parcels"], territory, seed=seed, scale=scale)
    timer.lap(f"parcels ({len(parcels.ids)})")
    rng = _rng(seed, 5)
    plots = parks.make_plots(parcels, rng)
    assign_states(plots, rng)
    establishments = inventory.make_establishments(territory, plots, parcels, rng)
    inventory.write_plots(path["activity-plots"], plots, parcels)
    inventory.write_establishments(path["establishments"], establishments, plots)
    inventory.write_sites(path["activity-sites"], territory, plots, establishments, rng)
    timer.lap(f"parks ({len(plots)} plots, {len(establishments)} establishments)")
    layers = water.build_network(territory, dem, _rng(seed, 6), scale)
    water.write_network(path["water-pipes"], layers)
    timer.lap(f"water ({len(layers['aep_canalisation'])} mains)")
    records = heritage.monuments(territory, parcels, _rng(seed, 7))
    heritage.write_monuments(path["heritage-monuments"], records)
    services.write_services(path["services"], territory, _rng(seed, 8), scale)
    hazards.write_hazards(path["flood-hazard"], territory)
    timer.lap("heritage, services, hazards")
    basemap.write_basemap(path["roads"], territory)
    timer.lap("base map (OpenStreetMap extract)")
    written = dict(path)
    written["water-structures"] = path["water-pipes"]  # one GeoPackage holds both
    written["waterways"] = written["water-bodies"] = path["roads"]  # one OSM extract: all three
    return {key: written[key] for key in INGEST_ORDER if key in written}


def write_demo_parcels(
    path: Path, territory: Territory, *, seed: int = 20261122, scale: float = 1.0
) -> cadastre.Parcels:
    """Write the demo cadastre (Etalab GeoJSON) alone: the same bytes as ``generate`` writes."""
    footprints = parks.footprints(territory, _rng(seed, 2))
    lots = [spec.lot_side for spec in parks.SITES]
    parcels = cadastre.generate_parcels(territory, footprints, lots, _rng(seed, 3), scale)
    cadastre.write_parcels(path, parcels, _rng(seed, 4))
    return parcels


def run_demo(
    store,
    out_dir: Path,
    settings,
    *,
    seed: int = 20261122,
    scale: float = 1.0,
    quiet: bool = True,
) -> list:
    """Generate the files, then ingest each through the layer readers; the ingest reports.

    Unless ``quiet``, one bar on a terminal counts the steps (generation, then each layer).
    """
    from atlas.ingest import ingest_path

    with progress.bar(desc="demo: generate", total=1 + len(INGEST_ORDER), quiet=quiet) as bar:
        files = generate(Path(out_dir), seed=seed, scale=scale)
        reports = []
        for collection_id in INGEST_ORDER:
            bar.update(1)
            bar.set_description_str(f"demo: ingest {collection_id}")
            source = files["elevation"] if collection_id == "slope" else files[collection_id]
            # The demo's bar stands for them all: no bar of each layer's under it.
            report = ingest_path(
                store, collection_id, source, crs=None, settings=settings, progress=False
            )
            reports.append(report)
        bar.update(1)
    return reports


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream])


class _Timer:
    """Logs how long each generator took (the demo must stay well under a minute)."""

    def __init__(self) -> None:
        self._last = time.perf_counter()

    def lap(self, label: str) -> None:
        now = time.perf_counter()
        log.info("demo: %s in %.1f s", label, now - self._last)
        self._last = now
