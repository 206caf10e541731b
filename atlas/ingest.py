"""``atlas ingest``: read, validate, then replace a layer's data atomically.

Order matters: everything is read and validated before the store is touched, and the store
switches versions in one atomic step, so a failed or killed ingest leaves the previous
version served whole. The collections derived from the one ingested (water indicators of the
plots and sites, parcels' sites, heritage perimeters) are written in the same batch and switch
with it (``atlas.derive``).
"""

from __future__ import annotations

import time
from pathlib import Path
from tempfile import TemporaryDirectory

from atlas import progress as progress_bars
from atlas.derive import ingest_collections, refresh_dependents, with_derived_fields
from atlas.errors import InvalidInput, NotFound, ValidationFailed
from atlas.faults import checkpoint
from atlas.layers import get_layer
from atlas.layers.base import RasterLayer, ReadOptions, VectorLayer
from atlas.layers.conform import IngestReport, conform
from atlas.layers.formats import check_sources
from atlas.layers.io import unpacked
from atlas.layers.sandbox import isolated_raster_read, isolated_vector_read
from atlas.layers.sanity import OUTLINE_MAX_COMMUNES, Territory
from atlas.query.crs import resolve_crs
from atlas.query.features import FeatureQuery
from atlas.settings import Settings
from atlas.stores.base import FeatureStore
from atlas.stores.rasters import RasterCatalog

COMMUNES = "communes"  # its outline narrows the territory of every other ingest


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
    """Ingest one file (or archive, or directory) into ``collection_id``; the closing report.

    ``progress``: a three-step bar on stderr when it is a terminal (``atlas.progress``).
    """
    started = time.perf_counter()
    layer = get_layer(collection_id)
    path = Path(path).absolute()  # the sandboxed reader runs in a directory of its own
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
    """A three-step progress bar (read, validate, write), drawn on a terminal only."""

    def __init__(self, enabled: bool, collection_id: str) -> None:
        self._bar = progress_bars.bar(
            total=3, desc=f"{collection_id}: read", unit="step", quiet=not enabled
        )

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
    check_sources(source)  # fast refusal of a disguised file, before any parser starts
    result = isolated_vector_read(layer, source, options, settings.ingest)
    bar.step(f"{layer.collection_id}: validate")
    territory = _territory(store, layer.collection_id, settings)
    frame, report = conform(result, layer, source=source_name, territory=territory)
    if territory.outline is not None:
        report.notes.append(f"rows checked against {territory.describe()}")
    _check_acceptable(report, settings)
    bar.step(f"{layer.collection_id}: write")
    # One batch: what is derived from this collection switches with it, or nothing switches.
    with store.batch(collections=ingest_collections(layer.collection_id)) as batch:
        frame = with_derived_fields(store, layer.collection_id, frame, report)
        info = batch.write(layer, frame, report=report)
        report.version = info.version
        checkpoint("ingest-written")
        notes = refresh_dependents(store, batch, layer.collection_id, frame, source=source_name)
    report.notes.extend(notes)
    bar.step(f"{layer.collection_id}: done")
    return report


def _territory(store: FeatureStore, collection_id: str, settings: Settings) -> Territory:
    """The configured box, narrowed to the stored communes' outline when there are some.

    The communes themselves are checked against the box alone, or a territory could never grow.
    """
    territory = Territory.from_settings(settings.territory)
    if collection_id == COMMUNES:
        return territory
    try:
        if store.collection(COMMUNES).count > OUTLINE_MAX_COMMUNES:
            return territory  # not read at all: see OUTLINE_MAX_COMMUNES
        communes = store.frame(COMMUNES, FeatureQuery(properties=()))
    except NotFound:  # never ingested (or a store that does not know the layer)
        return territory
    return territory.outlined(communes.geometry.to_numpy())


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


def _ingest_raster(
    layer: RasterLayer, source: Path, options: ReadOptions, settings: Settings, bar: _Stages
) -> IngestReport:
    catalog = RasterCatalog(settings.store.data_dir)
    with TemporaryDirectory(prefix="atlas-raster-") as tmp:
        result = isolated_raster_read(layer, source, options, Path(tmp), settings.ingest)
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
