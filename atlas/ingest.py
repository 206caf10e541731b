"""``atlas ingest``: read, validate, then replace a layer's data atomically.

Order matters: everything is read and validated before the store is touched, and the store
switches versions in one atomic step, so a failed or killed ingest leaves the previous
version served whole.
"""

from __future__ import annotations

import time
from pathlib import Path
from tempfile import TemporaryDirectory

import geopandas as gpd
from tqdm import tqdm

from atlas.derive import (
    WATER_SERVED,
    current_frame,
    refresh_parcel_sites,
    refresh_water_served,
    with_parcel_sites,
    with_stored_abords,
    with_water_indicators,
)
from atlas.errors import InvalidInput, ValidationFailed
from atlas.layers import get_layer
from atlas.layers.base import RasterLayer, ReadOptions, ReadResult, VectorLayer
from atlas.layers.conform import IngestReport, conform
from atlas.layers.io import resolve_crs, unpacked
from atlas.settings import Settings
from atlas.stores.base import Comparison, FeatureQuery, FeatureStore
from atlas.stores.rasters import RasterCatalog

# Layers whose ingest derives another collection from the same data.
_DERIVED: dict[str, str] = {"heritage-monuments": "heritage-perimeters"}


def ingest_path(
    store: FeatureStore,
    collection_id: str,
    path: Path | str,
    *,
    settings: Settings,
    crs: str | None = None,
    layer_name: str | None = None,
    progress: bool = True,
) -> IngestReport:
    """Ingest one file (or archive, or directory) into ``collection_id``; the closing report."""
    started = time.perf_counter()
    layer = get_layer(collection_id)
    path = Path(path)
    if not path.exists():
        raise InvalidInput(f"input '{path.name}' does not exist")
    if crs is not None:
        resolve_crs(crs)  # fail on an unknown CRS before reading anything
    options = ReadOptions(crs=crs, layer=layer_name)
    with _Stages(progress, collection_id) as bar, unpacked(path, settings.ingest) as source:
        if isinstance(layer, RasterLayer):
            report = _ingest_raster(layer, source, options, settings, bar)
        else:
            report = _ingest_vector(store, layer, source, options, settings, bar, path.name)
    report.seconds = time.perf_counter() - started
    return report


class _Stages:
    """A three-step progress bar (read, validate, write) that can be silent."""

    def __init__(self, enabled: bool, collection_id: str) -> None:
        self._bar = tqdm(total=3, desc=f"{collection_id}: read", disable=not enabled, leave=False)

    def step(self, name: str) -> None:
        """Mark one step done and name the next."""
        self._bar.update(1)
        self._bar.set_description_str(name)

    def __enter__(self) -> _Stages:
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.close()


def _ingest_vector(
    store: FeatureStore,
    layer: VectorLayer,
    source: Path,
    options: ReadOptions,
    settings: Settings,
    bar: _Stages,
    source_name: str,
) -> IngestReport:
    result = layer.reader(source, options)
    bar.step(f"{layer.collection_id}: validate")
    frame, report = conform(result, layer, source=source_name)
    _check_acceptable(report, settings)
    if layer.collection_id in WATER_SERVED:
        frame = with_water_indicators(store, frame)
    if layer.collection_id == "parcels":
        frame = with_parcel_sites(store, frame)
    if layer.collection_id == "heritage-perimeters":
        frame, note = with_stored_abords(store, frame)
        report.notes.extend([note] if note else [])
    bar.step(f"{layer.collection_id}: write")
    info = store.write_version(layer, frame, report=report)
    report.version = info.version
    if layer.collection_id == "water-pipes":
        report.notes.extend(refresh_water_served(store, frame))
    if layer.collection_id == "activity-plots":
        report.notes.extend(refresh_parcel_sites(store, frame))
    derived = _DERIVED.get(layer.collection_id)
    if derived:
        report.notes.append(_ingest_derived(store, derived, frame, source_name))
    bar.step(f"{layer.collection_id}: done")
    return report


def _check_acceptable(report: IngestReport, settings: Settings) -> None:
    """Refuse to replace served data with an empty or mostly rejected version."""
    if report.kept == 0:
        reasons = "; ".join(f"row {r.row}: {r.reason}" for r in report.rejected[:3])
        raise ValidationFailed(
            f"{report.collection_id}: no feature could be kept"
            + (f" ({reasons})" if reasons else ""),
            errors=[f"row {r.row}: {r.reason}" for r in report.rejected],
        )
    ratio = len(report.rejected) / max(report.rows_read, 1)
    if ratio > settings.ingest.max_rejected_ratio:
        raise ValidationFailed(
            f"{report.collection_id}: {len(report.rejected)} of {report.rows_read} rows rejected "
            f"(more than {settings.ingest.max_rejected_ratio:.0%}); nothing was replaced",
            errors=[f"row {r.row}: {r.reason}" for r in report.rejected],
        )


def _ingest_derived(
    store: FeatureStore, collection_id: str, parent: gpd.GeoDataFrame, source_name: str
) -> str:
    """Write a collection derived from the one just ingested (monuments -> 500 m abords).

    The delimited perimeters (PDA) already stored are legal perimeters that no monument file
    carries (code du patrimoine art. L.621-31): they are read back and kept, replacing the
    circles of the monuments they name.
    """
    from atlas.layers.heritage_perimeters import PDA, derive_abords

    layer = get_layer(collection_id)
    if not isinstance(layer, VectorLayer):
        raise TypeError(f"{collection_id} is not a vector layer")
    stored = FeatureQuery(where=(Comparison("type_perimetre", "=", PDA),))
    pda = current_frame(store, collection_id, stored)
    derived = derive_abords(parent, pda if pda is not None and len(pda) else None)
    frame, report = conform(ReadResult(frame=derived), layer, source=f"derived from {source_name}")
    info = store.write_version(layer, frame, report=report)
    return f"{collection_id}: {info.count} perimeters derived -> version {info.version}"


def _ingest_raster(
    layer: RasterLayer, source: Path, options: ReadOptions, settings: Settings, bar: _Stages
) -> IngestReport:
    catalog = RasterCatalog(settings.store.data_dir)
    with TemporaryDirectory(prefix="atlas-raster-") as tmp:
        result = layer.reader(source, options, Path(tmp))
        bar.step(f"{layer.collection_id}: write")
        meta = catalog.write_version(layer.collection_id, result.path, dict(result.metadata))
    bar.step(f"{layer.collection_id}: done")
    return IngestReport(
        collection_id=layer.collection_id,
        source=source.name,
        rows_read=1,
        kept=1,
        notes=list(result.notes),
        version=int(meta["version"]),
    )
