"""How the portal asks its caller's gate: only the fields a sheet shows, and only those the tier sees.

A sheet never asks for a field the tier may not read (the gate would refuse it like an unknown
one), nor for more than it shows (personal fields would be read, and audited, for nothing).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from atlas.errors import EmptyCollection, NotFound, UnknownCollection
from atlas.policy.gate import Gate
from atlas.query.crs import CRS84_CODE, transform_geometry, transformer
from atlas.query.features import FeatureQuery
from atlas.stores.base import Feature
from atlas.types import STORAGE_CRS

# A collection hidden from the tier, or not ingested: the sheet has no such part.
ABSENT = (UnknownCollection, EmptyCollection)


def seen(gate: Gate, collection_id: str, names: tuple[str, ...]) -> tuple[str, ...]:
    """The fields of ``names`` the caller sees, in that order; () when the collection is hidden."""
    try:
        visible = set(gate.view(collection_id).field_names)
    except UnknownCollection:
        return ()
    return tuple(n for n in names if n in visible)


def one(gate: Gate, collection_id: str, feature_id: str, names: tuple[str, ...]) -> Feature:
    """One feature with the visible fields of ``names``; NotFound when the caller has no such row
    (hidden and missing alike)."""
    try:
        page = gate.query(
            collection_id,
            FeatureQuery(ids=(feature_id,), properties=seen(gate, collection_id, names), limit=1),
        )
    except ABSENT:
        raise NotFound(f"'{feature_id[:80]}' not found") from None
    if not page.features:
        raise NotFound(f"'{feature_id[:80]}' not found")
    return page.features[0]


def frame(
    gate: Gate, collection_id: str, names: tuple[str, ...], **criteria: Any
) -> gpd.GeoDataFrame | None:
    """Every matching feature with the visible fields of ``names`` (EPSG:2154); None when the
    caller has no such collection. ``criteria`` are FeatureQuery's (``intersects``, ``where``…)."""
    fields = seen(gate, collection_id, names)
    if not fields:
        return None
    try:
        return gate.frame(collection_id, FeatureQuery(properties=fields, **criteria), action="read")
    except ABSENT:
        return None


def present(value: Any) -> bool:
    """Whether a value read from a frame or a feature says something (not None, NaN or NA)."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    try:
        return not bool(pd.isna(value))
    except (TypeError, ValueError):
        return True


def crs84(geometry: BaseGeometry) -> BaseGeometry:
    """A Lambert-93 geometry in CRS84 (lon, lat), rounded to about a metre."""
    moved = transform_geometry(geometry, transformer(STORAGE_CRS, CRS84_CODE))
    return shapely.set_precision(moved, 1e-5)
