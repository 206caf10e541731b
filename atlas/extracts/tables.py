"""One collection read for an extract: through the gate, clipped, typed, sorted, reprojected.

Typing and order come from the layer schema, never from what a store's driver returned, so that
the embedded store and PostGIS give the same table, hence the same bytes in the files: columns in
schema order (the tier's visible fields) then ``geometry``; integers ``Int64``, numbers
``Float64``, booleans ``boolean``, dates ``datetime.date``, strings ``str``, missing values null;
rows sorted by the collection's id field (code-point order).

Where a tier sees generalised geometry (public establishments, 50 m), which features fall in the
clip area is decided on that generalised geometry, in counts as in rows: deciding on the exact one
would let a caller locate a feature precisely by moving a small polygon around.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from atlas.extracts.clip import ClipArea, keep_and_cut
from atlas.layers.base import FieldSpec
from atlas.policy.gate import Gate
from atlas.policy.rules import TierView
from atlas.query.features import FeatureQuery
from atlas.query.filters import Expression
from atlas.query.values import as_date, is_missing
from atlas.stores.base import CollectionInfo

_PAGE = 10_000


@dataclass
class LayerTable:
    """What one collection gives an extract."""

    collection_id: str
    info: CollectionInfo  # as the caller sees it (version, update time)
    view: TierView
    frame: gpd.GeoDataFrame  # typed, sorted, clipped, in EPSG:2154
    read: int  # features read through the gate (the audit record's count)

    @property
    def layer_name(self) -> str:
        """The layer or file name: the collection id with underscores (valid SQL and file names)."""
        return layer_name(self.collection_id)


def layer_name(collection_id: str) -> str:
    """``activity-sites`` -> ``activity_sites``."""
    return collection_id.replace("-", "_")


def spatial_query(
    view: TierView, area: ClipArea | None, expression: Expression | None = None
) -> FeatureQuery:
    """The store query of an extract: the filter, and the area widened by the tier's
    generalisation tolerance."""
    if area is None:
        return FeatureQuery(filter=expression)
    if view.geometry == "generalised" and view.tolerance_m > 0:
        # A generalised geometry lies within tolerance of the exact one: read that much more,
        # then decide on the generalised geometry (keep_and_cut).
        buffered = area.geometry.buffer(view.tolerance_m)
        return FeatureQuery(intersects=buffered, filter=expression)
    return FeatureQuery(intersects=area.geometry, filter=expression)


def count(
    gate: Gate, collection_id: str, area: ClipArea | None, expression: Expression | None = None
) -> int:
    """How many features the caller's extract of ``collection_id`` reads (before cutting)."""
    view = gate.view(collection_id)
    query = spatial_query(view, area, expression)
    if area is None or view.geometry != "generalised":
        return gate.count(collection_id, query)
    total, offset = 0, 0
    while True:  # generalised: the decision needs the generalised geometry, ids only
        page_query = FeatureQuery(
            intersects=query.intersects,
            filter=expression,
            properties=(),
            limit=_PAGE,
            offset=offset,
        )
        page = gate.query(collection_id, page_query)
        geometries = np.array([f.geometry for f in page.features], dtype=object)
        total += int(keep_and_cut(geometries, area)[0].sum()) if len(geometries) else 0
        if len(page.features) < _PAGE:
            return total
        offset += _PAGE


def read_table(
    gate: Gate, collection_id: str, area: ClipArea | None, expression: Expression | None = None
) -> LayerTable:
    """Read one collection through the gate (audited as an extract) and shape it."""
    info = gate.collection(collection_id)
    view = gate.view(collection_id)
    frame = gate.frame(
        collection_id,
        spatial_query(view, area, expression),
        action="extract",
        area=area.wkt if area is not None else None,
    )
    read = len(frame)
    if area is not None and read:
        keep, cut = keep_and_cut(np.asarray(frame.geometry.values, dtype=object), area)
        frame = frame.loc[keep].copy()
        frame["geometry"] = gpd.GeoSeries(cut[keep], index=frame.index, crs=frame.crs)
    return LayerTable(collection_id, info, view, typed(frame, view), read)


def typed(frame: gpd.GeoDataFrame, view: TierView) -> gpd.GeoDataFrame:
    """Schema columns and types, rows sorted by id, a fresh RangeIndex (see the module docstring)."""
    id_field = _id_field(view)
    columns: dict[str, Any] = {}
    for spec in view.fields:
        values = frame[spec.name] if spec.name in frame else pd.Series([None] * len(frame))
        columns[spec.name] = _typed(spec, list(values))
    out = gpd.GeoDataFrame(
        columns, geometry=gpd.GeoSeries(list(frame.geometry.values), crs=frame.crs)
    )
    ids = [str(v) for v in out[id_field]]
    order = sorted(range(len(ids)), key=ids.__getitem__)
    return out.iloc[order].reset_index(drop=True)


def _id_field(view: TierView) -> str:
    from atlas.layers import catalog

    return catalog()[view.collection_id].id_field  # type: ignore[union-attr]


def _typed(spec: FieldSpec, values: list[Any]) -> Any:
    values = [None if is_missing(v) else v for v in values]
    kind = spec.type
    if kind == "integer":
        return pd.array([None if v is None else int(v) for v in values], dtype="Int64")
    if kind == "number":
        return pd.array([None if v is None else float(v) for v in values], dtype="Float64")
    if kind == "boolean":
        return pd.array([None if v is None else bool(v) for v in values], dtype="boolean")
    if kind == "date":
        return pd.Series([as_date(v) for v in values], dtype=object)
    if kind == "datetime":
        return pd.to_datetime(pd.Series(values, dtype=object), utc=True).astype(
            "datetime64[ms, UTC]"
        )
    return pd.Series([None if v is None else str(v) for v in values], dtype=object)
