"""The OGC requests a gate answers, parsed from HTTP once (``atlas.api.params``) and checked
against a tier's view in one place (``atlas.policy.reading``).

These hold what the client asked, in its own terms: a bbox in ``bbox-crs`` and its axis order,
a CQL2 filter's text, field names not yet checked. Syntax is settled (numbers are numbers, CRSs
are supported ones); meaning (which fields the tier may name, what a literal is) is the gate's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from atlas.query.crs import ApiCRS, parse_crs
from atlas.query.features import SortKey
from atlas.query.grids import DEFAULT_GRID
from atlas.types import TileXYZ

# "cql-text" is the pre-standard name (Part 3 drafts) that GDAL's OAPIF driver looks for before
# it sends a -where to the server; it is read as CQL2 text, whose basic predicates it shares.
FilterLang = Literal["cql2-text", "cql2-json", "cql-text"]


def _crs84() -> ApiCRS:
    return parse_crs(None)


@dataclass(frozen=True, slots=True)
class FilterRequest:
    """A CQL2 filter as the client wrote it (OGC API Features Part 3)."""

    source: str | Mapping[str, Any]  # CQL2-text, or CQL2-JSON as text or as an object
    lang: FilterLang = "cql2-text"
    crs: ApiCRS = field(default_factory=_crs84)  # filter-crs: the CRS of geometry literals


@dataclass(frozen=True, slots=True)
class BBoxRequest:
    """``bbox`` numbers in ``crs``'s axis order (``bbox-crs``, CRS84 by default)."""

    values: tuple[float, float, float, float]
    crs: ApiCRS = field(default_factory=_crs84)


@dataclass(frozen=True, slots=True)
class ItemsRequest:
    """``GET /collections/{collectionId}/items`` (Parts 1, 2 and 3)."""

    bbox: BBoxRequest | None = None
    crs: ApiCRS = field(default_factory=_crs84)  # of the response's geometry
    limit: int | None = None  # None: the default page size
    offset: int = 0
    properties: tuple[str, ...] | None = None  # None: every field the tier sees
    sortby: tuple[SortKey, ...] = ()
    filter: FilterRequest | None = None
    # ``name=value`` on a queryable (Part 1, 7.15.5), as text: typed against the field.
    equals: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class FeatureRequest:
    """``GET /collections/{collectionId}/items/{featureId}``."""

    feature_id: str
    crs: ApiCRS = field(default_factory=_crs84)  # of the response's geometry


@dataclass(frozen=True, slots=True)
class TileRequest:
    """``GET /collections/{collectionId}/tiles/{tileMatrixSetId}/{z}/{x}/{y}``, or one layer of
    a multi-layer tile (``/tiles/…``)."""

    tile: TileXYZ  # checked against the grid's matrices (``TileGrid.check``)
    properties: tuple[str, ...] = ()  # the fields to put in the tile
    grid: str = DEFAULT_GRID  # a TileMatrixSet id of ``atlas.query.grids``
    # The tile is one of ``layers`` layers of one MVT: each gets that share of the tile budget,
    # so that the whole tile stays within it.
    layers: int = 1
