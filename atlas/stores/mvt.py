"""The vector-tile query both stores run: one tile of a grid, generalised for its zoom, capped,
counted.

- The grid (``atlas.query.grids``) says which stored geometry is tiled: ``geom_3857`` for
  WebMercatorQuad, ``geom`` (EPSG:2154) for the Lambert-93 grid; the tile's envelope is made from
  the grid's own bounds (morecantile), so clipping and quantising happen in the grid's CRS.

- Per-zoom generalisation: lines and polygons are simplified (``ST_Simplify``, Douglas-Peucker)
  with a tolerance of one tile unit at that zoom before ``ST_AsMVTGeom`` snaps them to the tile's
  grid, so a low-zoom tile does not carry vertices it cannot show.
- A feature cap: the candidates are ordered largest first (area, length; points by id) and cut at
  ``limit``, so a tile that would hold too much leaves out its smallest features.
- Counts: how many features the tile holds, and how many it would hold without the cap.

Per-zoom generalised geometry, written at ingest (:func:`tile_columns`): for each zoom of the
layer's band (its minzoom, at least 12, to 16) a copy of every geometry simplified at one tile unit,
in *global* tile units of that zoom (WebMercatorQuad, 4096 units a tile, y down), snapped to whole
units and made valid — what ``ST_AsMVTGeom`` would make of it in any tile, but once. A feature
whose box lies within the tile and its buffer then only needs a translation by the tile's origin
(exact: whole numbers below 2**29); one that crosses the buffer's edge is still clipped by
``ST_AsMVTGeom``. The size used by the cap is stored too (``tile_size``). A heavy z13-14 tile
costs PostGIS 35-45 % less, a z16 one half; tables written before these columns existed are
tiled the old way (:class:`TileColumns` says what a table holds).

Dates and datetimes travel as ISO 8601 text (``2024-05-01``, ``2024-05-01T08:00:00Z`` in UTC):
MVT values have no date type, DuckDB's ``ST_AsMVT`` refuses DATE columns, and PostGIS would print
them in the session's time zone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from atlas.layers.base import VectorLayer
from atlas.query.grids import MVT_BUFFER, MVT_EXTENT, WEB_MERCATOR, TileGrid
from atlas.stores.sql import quote
from atlas.stores.where import BOX_COLUMNS
from atlas.types import TileXYZ

WEB_MERCATOR_SPAN = 2 * 20037508.342789244  # metres across zoom 0
BUFFER = MVT_BUFFER  # tile units kept around the tile so that strokes join across tiles
WEB_MERCATOR_ORIGIN = WEB_MERCATOR_SPAN / 2  # the grid's top-left corner is (-o, o)
GENERALISED_ZOOMS = (12, 16)  # the band of zooms whose geometry is generalised at ingest
SIZE_COLUMN = "tile_size"  # area (polygons) or length (lines) in Web Mercator metres
# The Web Mercator box of each geometry: the embedded store finds a tile's features by it.
TILE_BOX_COLUMNS = ("tile_xmin", "tile_ymin", "tile_xmax", "tile_ymax")


def generalised_column(z: int) -> str:
    """The column of the geometry generalised for zoom ``z``."""
    return f"mvt_z{int(z)}"


def generalised_zooms(layer: VectorLayer) -> range:
    """The zooms whose generalised geometry is written for ``layer`` (none below its minzoom)."""
    low, high = GENERALISED_ZOOMS
    return range(max(layer.min_zoom, low), high + 1)


def tile_column_names(layer: VectorLayer) -> list[str]:
    """The tile columns both stores add to a layer's table (reserved as field names)."""
    return [SIZE_COLUMN, *TILE_BOX_COLUMNS, *map(generalised_column, generalised_zooms(layer))]


def tile_columns(layer: VectorLayer, geoms_3857: np.ndarray) -> dict[str, np.ndarray]:
    """What tiles need of each geometry, computed once at ingest: its size, its Web Mercator
    box, and per zoom of the layer's band its generalised geometry in global tile units (a
    shapely array; None where it collapses below one unit)."""
    geoms = np.asarray(geoms_3857, dtype=object)
    out: dict[str, np.ndarray] = {SIZE_COLUMN: _sizes(layer, geoms)}
    box = shapely.bounds(geoms)  # NaN for a missing geometry: never in a tile
    for i, name in enumerate(TILE_BOX_COLUMNS):
        out[name] = box[:, i]
    for z in generalised_zooms(layer):
        out[generalised_column(z)] = generalised(geoms, z, layer.geometry_type)
    return out


def generalised(geoms_3857: np.ndarray, z: int, geometry_type: str) -> np.ndarray:
    """The geometries simplified at one tile unit of zoom ``z``, in that zoom's global tile
    units (y down), snapped to whole units, valid; None where nothing is left."""
    unit = tolerance_m(z, MVT_EXTENT)
    geoms = np.asarray(geoms_3857, dtype=object)
    if "Point" not in geometry_type:
        geoms = shapely.simplify(geoms, unit, preserve_topology=True)
    origin = WEB_MERCATOR_ORIGIN

    def to_units(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(((xy[:, 0] + origin) / unit, (origin - xy[:, 1]) / unit))

    geoms = np.asarray(shapely.set_precision(shapely.transform(geoms, to_units), 1.0))
    if "Polygon" in geometry_type:
        # MVT 2.1: exterior rings have a positive surveyor's area in tile coordinates (y down),
        # i.e. counter-clockwise as shapely reads these numbers; PostGIS's ST_AsMVT writes rings
        # as given, and set_precision hands them back the other way round.
        geoms = np.asarray(shapely.orient_polygons(geoms, exterior_cw=False))
    geoms[shapely.is_missing(geoms) | shapely.is_empty(geoms)] = None
    return geoms


def _sizes(layer: VectorLayer, geoms: np.ndarray) -> np.ndarray:
    if "Polygon" in layer.geometry_type:
        sizes = shapely.area(geoms)
    elif "LineString" in layer.geometry_type:
        sizes = shapely.length(geoms)
    else:
        sizes = np.zeros(len(geoms))
    return np.nan_to_num(np.asarray(sizes, dtype=np.float64), nan=0.0)


@dataclass(frozen=True, slots=True)
class TileColumns:
    """Which tile columns a stored table holds (tables written before them hold none)."""

    zooms: frozenset[int] = frozenset()
    sized: bool = False
    boxed: bool = False

    @classmethod
    def of(cls, columns: Iterable[str]) -> TileColumns:
        names = set(columns)
        zooms = frozenset(
            z for z in range(GENERALISED_ZOOMS[1] + 1) if generalised_column(z) in names
        )
        return cls(zooms, SIZE_COLUMN in names, set(TILE_BOX_COLUMNS) <= names)

    def generalised(self, grid: TileGrid, tile: TileXYZ, extent: int) -> bool:
        """Whether this tile can use the stored generalised geometry."""
        return grid.id == WEB_MERCATOR and extent == MVT_EXTENT and tile.z in self.zooms


@dataclass(frozen=True, slots=True)
class MvtDialect:
    """What differs between PostGIS and DuckDB in the tile query."""

    # The tile as a geometry, from ``{xmin} {ymin} {xmax} {ymax}`` and ``{srid}``.
    envelope: str
    bounds: str  # the tile as ``ST_AsMVTGeom`` takes it, ``{envelope}`` standing for the geometry
    date_text: str  # a date as ISO text, ``{}`` standing for the column
    datetime_text: str  # a timestamp with time zone as ISO text in UTC
    name: str  # the placeholder of the layer name
    # Tile numbers as named parameters (PostGIS): one statement text per zoom, which the driver
    # prepares once per connection (no parse and plan per tile); False: written as literals.
    bind: bool = False
    # Features reach ST_AsMVT in ``kept``'s order (largest first) on PostgreSQL, which reads a
    # materialised CTE in order; DuckDB may aggregate in parallel: it orders them by id.
    ordered_aggregate: bool = True


class _Numbers:
    """The tile's numbers as the dialect writes them: ``:name`` parameters, or literals."""

    def __init__(self, bind: bool) -> None:
        self.bind = bind
        self.params: dict[str, float] = {}

    def __call__(self, name: str, value: float) -> str:
        if not self.bind:
            return repr(float(value))  # our numbers (morecantile's): exact as Python reprs
        self.params[name] = float(value)
        return f":{name}"


def tolerance_m(z: int, extent: int) -> float:
    """One tile unit at zoom ``z``, in Web Mercator metres: the simplification tolerance."""
    return WEB_MERCATOR_SPAN / (2**z) / extent


def _size(layer: VectorLayer, column: str) -> str:
    if "Polygon" in layer.geometry_type:
        return f"ST_Area({column})"
    if "LineString" in layer.geometry_type:
        return f"ST_Length({column})"
    return "0"  # points are all one size: ids decide


def _attributes(layer: VectorLayer, properties: Sequence[str], dialect: MvtDialect) -> list[str]:
    out = []
    for name in properties:
        if name == "id":
            continue  # every feature carries its id already (``feature_id AS id``)
        column = quote(name)
        kind = layer.field(name).type
        if kind == "date":
            out.append(f"{dialect.date_text.format(column)} AS {column}")
        elif kind == "datetime":
            out.append(f"{dialect.datetime_text.format(column)} AS {column}")
        else:
            out.append(column)
    return out


@dataclass(frozen=True, slots=True)
class TileQuery:
    """One tile as a store asks for it: the layer and fields, the tile, where its rows are and
    how they are filtered, the dialect, and what the table holds."""

    layer: VectorLayer
    properties: Sequence[str]
    tile: TileXYZ
    grid: TileGrid
    table: str
    where: str  # the filter's SQL (client values are bound parameters: WhereBuilder)
    dialect: MvtDialect
    extent: int
    limit: int | None
    stored: TileColumns = TileColumns()


@dataclass(frozen=True, slots=True)
class _Parts:
    """The pieces both forms of the tile query share."""

    attrs: str  # the selected id and properties
    names: list[str]  # their names in the tile
    size: str  # the cap's measure
    mvt_geom: str  # ST_AsMVTGeom of the (simplified) stored geometry
    envelope: str  # the tile as a geometry of the grid's CRS
    bounds: tuple[float, float, float, float]
    generalised: str | None  # the stored generalised column, when this tile can use it
    inside: tuple[float, float, float, float]  # a box within which no clipping is needed


def _parts(query: TileQuery, number: _Numbers) -> _Parts:
    layer, properties, tile, grid = query.layer, query.properties, query.tile, query.grid
    dialect, extent, stored = query.dialect, query.extent, query.stored
    names = ["id", *(quote(p) for p in properties if p != "id")]
    attrs = ", ".join(["feature_id AS id", *_attributes(layer, properties, dialect)])
    column = grid.column
    geom = column
    if "Point" not in layer.geometry_type:
        geom = f"ST_Simplify({column}, {number('tolerance', grid.tolerance(tile.z, extent))})"
    extent = int(extent)
    left, bottom, right, top = (float(v) for v in grid.bounds(tile))
    envelope = dialect.envelope.format(
        xmin=number("tile_xmin", left),
        ymin=number("tile_ymin", bottom),
        xmax=number("tile_xmax", right),
        ymax=number("tile_ymax", top),
        srid=grid.epsg,
    )
    bounds = dialect.bounds.format(envelope=envelope)
    # Within the buffer less one unit, a generalised geometry (whole units, at most half a unit
    # from the simplified one) needs no clipping.
    pad = (right - left) * (BUFFER - 1) / extent
    return _Parts(
        attrs=attrs,
        names=names,
        size=SIZE_COLUMN if stored.sized else _size(layer, column),
        mvt_geom=f"ST_AsMVTGeom({geom}, {bounds}, {extent}, {BUFFER}, true)",
        envelope=envelope,
        bounds=(left, bottom, right, top),
        generalised=(
            generalised_column(tile.z) if stored.generalised(grid, tile, extent) else None
        ),
        inside=(left - pad, bottom - pad, right + pad, top + pad),
    )


def mvt_sql(query: TileQuery) -> tuple[str, dict[str, float]]:
    """``SELECT mvt, kept, candidates`` for one tile, and its numbers when the dialect binds
    them (the layer name is a parameter too): the store's own ``ST_AsMVT`` (PostGIS; DuckDB for
    tables without the tile columns)."""
    tile, dialect, limit = query.tile, query.dialect, query.limit
    number = _Numbers(dialect.bind)
    parts = _parts(query, number)
    column = query.grid.column
    cap = f" LIMIT {int(limit)}" if limit is not None else ""
    order = " ORDER BY m.id" if dialect.ordered_aggregate else ""
    geom = parts.mvt_geom
    if parts.generalised is not None:
        xmin, ymin, xmax, ymax = (
            number(f"inside_{n}", v)
            for n, v in zip(("xmin", "ymin", "xmax", "ymax"), parts.inside, strict=True)
        )
        inside = dialect.envelope.format(xmin=xmin, ymin=ymin, xmax=xmax, ymax=ymax, srid=3857)
        dx, dy = number("dx", -tile.x * MVT_EXTENT), number("dy", -tile.y * MVT_EXTENT)
        geom = (
            f"CASE WHEN {column} @ {inside}"
            f" THEN ST_Translate({parts.generalised}, {dx}, {dy}) ELSE {geom} END"
        )
    # Ids, geometries and values come from our own columns; only ``where`` holds client values,
    # and those are bound parameters (WhereBuilder).
    sql = (
        "WITH candidates AS MATERIALIZED ("  # noqa: S608
        f" SELECT {parts.attrs}, {parts.size} AS size__, {geom} AS mvt_geom__"
        f" FROM {query.table} WHERE {column} && {parts.envelope} AND {query.where}"
        "), kept AS MATERIALIZED ("
        " SELECT * FROM candidates WHERE mvt_geom__ IS NOT NULL"
        f" ORDER BY size__ DESC, id{cap})"
        # PostgreSQL: features largest first, as ``kept`` holds them (the same tile is the same
        # bytes; sorting again here cost a sixth of a dense tile). DuckDB: by id.
        f" SELECT (SELECT ST_AsMVT(m, {dialect.name}, {int(query.extent)}, 'mvt_geom__'{order})"
        f" FROM (SELECT {', '.join(parts.names)}, mvt_geom__ FROM kept) m),"
        " (SELECT count(*) FROM kept),"
        " (SELECT count(*) FROM candidates WHERE mvt_geom__ IS NOT NULL)"
    )
    return sql, number.params


def mvt_rows_sql(query: TileQuery, *, ranked: bool = True) -> str:
    """The features of one tile as rows for :mod:`mvt_encoding`: id, properties, WKB, whether
    it still needs clipping, and its size. ``ranked``: every candidate, largest first (the
    encoder keeps the first ``limit`` it can draw and counts the others); otherwise the rows as
    found, at most one past the cap — most tiles hold fewer than the cap, and then nothing needs
    sorting in SQL: the caller orders the few rows it has. Where the tile can use the stored generalised geometry (``stored``), the
    WKB is that geometry in global tile units, and a feature crossing the buffer's edge is
    clipped by the caller (shapely's ``clip_by_rect``, 1 µs a feature where DuckDB's
    ``ST_AsMVTGeom`` takes 20); otherwise it is ``ST_AsMVTGeom``'s, in the tile's own units.
    The table has the tile columns: features are found by their stored boxes (a columnar scan
    DuckDB skips through by row group, where its R-tree fetches each row alone)."""
    parts = _parts(query, _Numbers(bind=False))
    left, bottom, right, top = (repr(v) for v in parts.bounds)
    xmin, ymin, xmax, ymax = BOX_COLUMNS if query.grid.column == "geom" else TILE_BOX_COLUMNS
    limit = query.limit
    found = f"{xmax} >= {left} AND {xmin} <= {right} AND {ymax} >= {bottom} AND {ymin} <= {top}"
    cap = f" LIMIT {int(limit) + 1}" if limit is not None else ""
    if parts.generalised is not None:
        a, b, c, d = (repr(v) for v in parts.inside)
        wkb = parts.generalised
        clip = f"NOT ({xmin} >= {a} AND {ymin} >= {b} AND {xmax} <= {c} AND {ymax} <= {d})"
        # One flat statement: the stored column is read as is, no CTE needs to name a computed
        # one (DuckDB spends ≈ 0.25 ms of a 1 ms z16 statement on the CTE's projections).
        rows = (
            f"SELECT {parts.attrs}, {wkb} AS wkb__, {clip} AS clip__, {parts.size} AS size__"  # noqa: S608
            f" FROM {query.table} WHERE {found} AND {wkb} IS NOT NULL AND {query.where}"
        )
        return f"{rows} ORDER BY size__ DESC, feature_id" if ranked else rows + cap
    wkb, clip = f"ST_AsWKB({parts.mvt_geom})", "false"
    columns = f"{', '.join(parts.names)}, wkb__, clip__, size__"
    if ranked:
        select = f"{columns} FROM candidates WHERE wkb__ IS NOT NULL ORDER BY size__ DESC, id"
    else:
        select = f"{columns} FROM candidates WHERE wkb__ IS NOT NULL{cap}"
    return (
        "WITH candidates AS ("  # noqa: S608
        f" SELECT {parts.attrs}, {parts.size} AS size__, {wkb} AS wkb__, {clip} AS clip__"
        f" FROM {query.table} WHERE {found} AND {query.where})"
        f" SELECT {select}"
    )
