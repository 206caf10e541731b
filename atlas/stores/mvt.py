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

Dates and datetimes travel as ISO 8601 text (``2024-05-01``, ``2024-05-01T08:00:00Z`` in UTC):
MVT values have no date type, DuckDB's ``ST_AsMVT`` refuses DATE columns, and PostGIS would print
them in the session's time zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from atlas.layers.base import VectorLayer
from atlas.query.grids import MVT_BUFFER, TileGrid
from atlas.stores.sql import quote
from atlas.types import TileXYZ

WEB_MERCATOR_SPAN = 2 * 20037508.342789244  # metres across zoom 0
BUFFER = MVT_BUFFER  # tile units kept around the tile so that strokes join across tiles


@dataclass(frozen=True, slots=True)
class MvtDialect:
    """What differs between PostGIS and DuckDB in the tile query."""

    # The tile as a geometry, from ``{xmin} {ymin} {xmax} {ymax}`` and ``{srid}``.
    envelope: str
    bounds: str  # the tile as ``ST_AsMVTGeom`` takes it, ``{envelope}`` standing for the geometry
    date_text: str  # a date as ISO text, ``{}`` standing for the column
    datetime_text: str  # a timestamp with time zone as ISO text in UTC
    name: str  # the placeholder of the layer name


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


def mvt_sql(  # noqa: PLR0913 - the query's parts, each named
    layer: VectorLayer,
    properties: Sequence[str],
    *,
    tile: TileXYZ,
    grid: TileGrid,
    table: str,
    where: str,
    dialect: MvtDialect,
    extent: int,
    limit: int | None,
) -> str:
    """``SELECT mvt, kept, candidates`` for one tile (the layer name is the one parameter)."""
    names = ["id", *(quote(p) for p in properties if p != "id")]
    attrs = ", ".join(["feature_id AS id", *_attributes(layer, properties, dialect)])
    column = grid.column
    geom = column
    if "Point" not in layer.geometry_type:
        geom = f"ST_Simplify({column}, {grid.tolerance(tile.z, extent)!r})"
    cap = f" LIMIT {int(limit)}" if limit is not None else ""
    extent = int(extent)
    # The grid's bounds are our numbers (morecantile's), written as Python reprs: exact.
    xmin, ymin, xmax, ymax = (repr(float(v)) for v in grid.bounds(tile))
    envelope = dialect.envelope.format(xmin=xmin, ymin=ymin, xmax=xmax, ymax=ymax, srid=grid.epsg)
    bounds = dialect.bounds.format(envelope=envelope)
    # Ids, geometries and values come from our own columns; only ``where`` holds client values,
    # and those are bound parameters (WhereBuilder).
    return (
        "WITH candidates AS MATERIALIZED ("  # noqa: S608
        f" SELECT {attrs}, {_size(layer, column)} AS size__,"
        f" ST_AsMVTGeom({geom}, {bounds}, {extent}, {BUFFER}, true) AS mvt_geom__"
        f" FROM {table} WHERE {column} && {envelope} AND {where}"
        "), kept AS MATERIALIZED ("
        " SELECT * FROM candidates WHERE mvt_geom__ IS NOT NULL"
        f" ORDER BY size__ DESC, id{cap})"
        # Features in id order: the same tile is the same bytes (caches, ETags).
        f" SELECT (SELECT ST_AsMVT(m, {dialect.name}, {extent}, 'mvt_geom__' ORDER BY m.id)"
        f" FROM (SELECT {', '.join(names)}, mvt_geom__ FROM kept) m),"
        " (SELECT count(*) FROM kept),"
        " (SELECT count(*) FROM candidates WHERE mvt_geom__ IS NOT NULL)"
    )
