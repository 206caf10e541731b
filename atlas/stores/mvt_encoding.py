"""A Mapbox Vector Tile layer encoded in numpy from geometries already in tile units.

The embedded store's tiles are written here rather than by DuckDB's ``ST_AsMVT``: on a dense
tile DuckDB spends 20-30 µs a feature in its encoder (and as much again in ``ST_AsMVTGeom``),
where this encoder, vectorised over the whole tile, spends about one.

Everything a layer holds is a varint or bytes built from varints (MVT 2.1 over protobuf):
a feature is ``[18, len, 18, len(tags), tags…, 24, type, 34, len(geometry), geometry…]`` — the
field keys (2 tags, 3 type, 4 geometry; 2 for the layer's feature) are one-byte varints — so the
features of a layer are one stream of unsigned integers encoded in one numpy pass. Keys and values
are the layer's tables (one entry per distinct value and column).

Geometry (MVT 2.1 §4.3): the cursor starts at (0, 0) for each feature and moves with every
point, so deltas run on across a feature's rings and lines; polygon rings carry no closing point,
exterior rings have a positive surveyor's area in tile coordinates (y down, "clockwise" on
screen) and interior ones a negative one — rings are reversed here where needed, whoever drew
them. Repeated points are dropped; a ring left with fewer than three points, or no area, is
dropped (with its holes when it was an exterior), a line with fewer than two.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import shapely

POINT, LINESTRING, POLYGON = 1, 2, 3
_MOVE_TO, _LINE_TO, _CLOSE_PATH = 1, 2, 7
_FEATURE, _TAGS, _TYPE, _GEOMETRY = 18, 18, 24, 34  # (field << 3) | wire type, as varints


def geometry_kind(geometry_type: str) -> int:
    """The MVT geometry type of a layer's declared geometry type."""
    if "Polygon" in geometry_type:
        return POLYGON
    if "LineString" in geometry_type:
        return LINESTRING
    return POINT


def encode_layer(  # noqa: PLR0913 - a layer's parts, each named
    name: str,
    geometries: np.ndarray,
    properties: Mapping[str, Sequence[Any]],
    *,
    kind: int,
    extent: int = 4096,
    offsets: np.ndarray | None = None,
    limit: int | None = None,
) -> tuple[bytes, int, int]:
    """One MVT layer (a whole tile), the number of features it holds, and how many it would
    hold without ``limit`` (the first ``limit`` features with a geometry left are kept).

    ``geometries``: shapely geometries in tile units (y down), one per feature, in the order the
    features are written; a missing or empty one is no feature. ``offsets``: an (n, 2) array
    subtracted from each geometry's coordinates (global tile units to this tile's). Properties
    are columns of values; a missing value (None, NaN) is no tag.
    """
    geometries = np.asarray(geometries, dtype=object)
    ints, per_feature, kept = _geometry_ints(geometries, kind, offsets)
    drawable = len(kept)
    if limit is not None and drawable > limit:
        kept, per_feature = kept[:limit], per_feature[: limit + 1]
        ints = ints[: per_feature[-1]]
    if not len(kept):
        return b"", 0, drawable
    keys, values, tags, tag_counts = _tags(properties, kept)
    geometry_bytes = np.add.reduceat(_varint_lengths(ints), per_feature[:-1]) if len(ints) else 0
    geometry_bytes = np.where(np.diff(per_feature) > 0, geometry_bytes, 0)
    # Bytes of each feature's tags: differences of the running total (a feature may have none).
    running = np.zeros(len(tags) + 1, dtype=np.int64)
    np.cumsum(_varint_lengths(tags), out=running[1:])
    starts = _offsets(tag_counts)
    tag_bytes = running[starts + tag_counts] - running[starts]
    body = (
        1 + _varint_lengths(tag_bytes) + tag_bytes + 2 + 1 + _varint_lengths(geometry_bytes)
    ) + geometry_bytes
    stream = _feature_stream(
        ints, per_feature, tags, tag_counts, body, tag_bytes, geometry_bytes, kind
    )
    features = _varints(stream)
    out = bytearray()
    out += _field_bytes(1, name.encode())
    out += features
    for key in keys:
        out += _field_bytes(3, key.encode())
    out += b"".join(values)
    out += bytes([0x28]) + _varint(extent) + bytes([0x78, 2])  # extent, version 2
    return bytes([0x1A]) + _varint(len(out)) + bytes(out), len(kept), drawable


# -- geometry --------------------------------------------------------------------------------


def _offsets(counts: np.ndarray) -> np.ndarray:
    """Where each run starts, given the runs' lengths (np.r_ costs more than the work here)."""
    out = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=out[1:])
    return out


def _changes(values: np.ndarray, *, first: bool = True, last: bool = False) -> np.ndarray:
    """Whether each value differs from the one before it (``first`` for the first one), or
    with ``last`` from the one after it (``True`` for the last one)."""
    out = np.empty(len(values), dtype=bool)
    if not len(values):
        return out
    if last:
        np.not_equal(values[1:], values[:-1], out=out[:-1])
        out[-1] = True
    else:
        np.not_equal(values[1:], values[:-1], out=out[1:])
        out[0] = first
    return out


def _geometry_ints(
    geometries: np.ndarray, kind: int, offsets: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The geometry command integers of every feature, where each feature's start in them
    (with the end appended), and which input features have a geometry left."""
    present = ~(shapely.is_missing(geometries) | shapely.is_empty(geometries))
    if kind == POLYGON:
        coords, path, feature = _polygon_paths(geometries, present)
    elif kind == LINESTRING:
        coords, path, feature = _line_paths(geometries, present)
    else:
        parts, owner = _simple_parts(geometries, present, _POINT_TYPES)
        coords, index = shapely.get_coordinates(parts, return_index=True)
        feature = owner[index]
        path = feature  # a feature's points are one MoveTo
    if offsets is not None and len(coords):
        coords = coords - np.asarray(offsets, dtype=np.float64)[feature]
    xy = np.rint(coords).astype(np.int64)
    keep = _drop_repeats(xy, path)
    xy, path, feature = xy[keep], path[keep], feature[keep]
    if kind == POLYGON:
        xy, path, feature = _polygon_rings(xy, path, feature)
    elif kind == LINESTRING:
        counts = _run_lengths(path)
        ok = np.repeat(counts >= 2, counts)
        xy, path, feature = xy[ok], path[ok], feature[ok]
    if not len(xy):
        empty = np.zeros(0, dtype=np.int64)
        return empty, np.zeros(1, dtype=np.int64), empty
    return _commands(xy, path, feature, kind)


_POINT_TYPES = (shapely.GeometryType.POINT,)
_LINE_TYPES = (shapely.GeometryType.LINESTRING, shapely.GeometryType.LINEARRING)
_POLYGON_TYPES = (shapely.GeometryType.POLYGON,)


def _simple_parts(
    geometries: np.ndarray, present: np.ndarray, types: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """The single parts of the present geometries that are of the layer's kind (a clipped
    polygon may come back as a collection holding lines too), and the feature of each."""
    parts, owner = geometries[present], np.flatnonzero(present)
    while True:
        kinds = shapely.get_type_id(parts)
        nested = kinds > 3  # multi-part geometries and collections
        if not nested.any():
            break
        inner, index = shapely.get_parts(parts[nested], return_index=True)
        parts = np.concatenate([parts[~nested], inner])
        owner = np.concatenate([owner[~nested], owner[nested][index]])
        order = np.argsort(owner, kind="stable")
        parts, owner = parts[order], owner[order]
    kinds = shapely.get_type_id(parts)
    keep = (kinds == types[0]) if len(types) == 1 else np.isin(kinds, types)
    keep &= ~shapely.is_empty(parts)
    return parts[keep], owner[keep]


def _polygon_paths(
    geometries: np.ndarray, present: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates of every ring without its closing point, each point's ring number (exterior
    rings negative-numbered as -1 - ring) and feature."""
    polygons, owner = _simple_parts(geometries, present, _POLYGON_TYPES)
    rings, ring_polygon = shapely.get_rings(polygons, return_index=True)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    if not len(coords):
        return coords, ring, ring
    last = _changes(ring, last=True)  # the closing point repeats the first
    coords, ring = coords[~last], ring[~last]
    exterior = _changes(ring_polygon)
    feature = owner[ring_polygon[ring]]
    path = np.where(exterior[ring], -1 - ring, ring)
    return coords, path, feature


def _line_paths(
    geometries: np.ndarray, present: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lines, owner = _simple_parts(geometries, present, _LINE_TYPES)
    coords, line = shapely.get_coordinates(lines, return_index=True)
    return coords, line, owner[line]


def _drop_repeats(xy: np.ndarray, path: np.ndarray) -> np.ndarray:
    """Points that differ from the one before them on the same path."""
    keep = np.ones(len(xy), dtype=bool)
    if len(xy) > 1:
        same = (path[1:] == path[:-1]) & (xy[1:] == xy[:-1]).all(axis=1)
        keep[1:] = ~same
    return keep


def _run_lengths(values: np.ndarray) -> np.ndarray:
    if not len(values):
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(_changes(values))
    return np.diff(np.append(starts, len(values)))


def _polygon_rings(
    xy: np.ndarray, path: np.ndarray, feature: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rings with area, oriented per MVT (exteriors positive); holes of a dropped exterior go."""
    if not len(xy):
        return xy, path, feature
    counts = _run_lengths(path)
    starts = _offsets(counts)
    nxt = np.arange(len(xy)) + 1
    ends = np.repeat(starts + counts, counts)
    nxt = np.where(nxt == ends, np.repeat(starts, counts), nxt)
    x, y = xy[:, 0].astype(np.float64), xy[:, 1].astype(np.float64)
    area = np.add.reduceat(x * y[nxt] - x[nxt] * y, starts)
    exterior = path[starts] < 0
    ok = (counts >= 3) & (area != 0)
    # A hole belongs to the exterior before it: a dropped exterior takes its holes along.
    shell = np.cumsum(exterior) - 1
    shell_ok = ok[np.flatnonzero(exterior)][shell] if exterior.any() else ok
    ok &= shell_ok
    flip = ok & ((area > 0) != exterior)
    order = np.arange(len(xy))
    if flip.any():
        ring = np.repeat(np.arange(len(counts)), counts)
        within = order - starts[ring]
        reversed_ = starts[ring] + counts[ring] - 1 - within
        order = np.where(flip[ring], reversed_, order)
    keep = np.repeat(ok, counts)
    order = order[keep]
    return xy[order], path[order], feature[order]


def _commands(
    xy: np.ndarray, path: np.ndarray, feature: np.ndarray, kind: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MoveTo / LineTo / ClosePath with zigzag deltas (cursor reset at each feature)."""
    n = len(xy)
    new_feature = _changes(feature)
    previous = np.zeros_like(xy)
    previous[1:] = xy[:-1]
    previous[new_feature] = 0
    delta = xy - previous
    zigzag = ((delta << 1) ^ (delta >> 63)).astype(np.int64)
    counts = _run_lengths(path) if kind != POINT else _run_lengths(feature)
    starts = _offsets(counts)
    if kind == POINT:
        size = 1 + 2 * counts
    elif kind == LINESTRING:
        size = 2 + 2 * counts
    else:
        size = 3 + 2 * counts
    out_start = _offsets(size)
    out = np.zeros(int(size.sum()), dtype=np.int64)
    run = np.repeat(np.arange(len(counts)), counts)
    j = np.arange(n) - starts[run]
    if kind == POINT:
        out[out_start] = _MOVE_TO | (counts << 3)
        position = out_start[run] + 1 + 2 * j
    else:
        out[out_start] = _MOVE_TO | (1 << 3)
        out[out_start + 3] = _LINE_TO | ((counts - 1) << 3)
        position = out_start[run] + 1 + 2 * j + (j >= 1)
        if kind == POLYGON:
            out[out_start + size - 1] = _CLOSE_PATH | (1 << 3)
    out[position] = zigzag[:, 0]
    out[position + 1] = zigzag[:, 1]
    run_feature = feature[starts]
    first_run = np.flatnonzero(_changes(run_feature))
    per_feature = np.append(out_start[first_run], len(out))
    return out, per_feature, run_feature[first_run]


# -- tags and values ---------------------------------------------------------------------


def _tags(
    properties: Mapping[str, Sequence[Any]], kept: np.ndarray
) -> tuple[list[str], list[bytes], np.ndarray, np.ndarray]:
    """The layer's keys and encoded values, each kept feature's tags (key, value index pairs,
    in one array) and how many integers each feature's tags take."""
    keys: list[str] = []
    values: list[bytes] = []
    columns = []
    for key, column in properties.items():
        codes, uniques = _factorised(column, kept)
        if not len(uniques):
            continue
        key_index = len(keys)
        keys.append(key)
        value_index = np.where(codes >= 0, codes + len(values), -1)
        values.extend(map(_value_field, uniques))
        columns.append((key_index, value_index))
    if not columns:
        return keys, values, np.zeros(0, dtype=np.int64), np.zeros(len(kept), dtype=np.int64)
    present = np.column_stack([v >= 0 for _, v in columns])
    pairs = np.empty((len(kept), len(columns), 2), dtype=np.int64)
    for i, (key_index, value_index) in enumerate(columns):
        pairs[:, i, 0] = key_index
        pairs[:, i, 1] = value_index
    tags = pairs[present].reshape(-1)
    return keys, values, tags, 2 * present.sum(axis=1)


def _factorised(column: Sequence[Any], kept: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """Each kept row's index among the column's distinct values (-1: none, for None and NaN),
    and those values in order of first appearance."""
    index: dict[Any, int] = {}
    codes = np.empty(len(kept), dtype=np.int64)
    for row, position in enumerate(kept.tolist()):
        value = column[position]
        if value is None or value != value:  # noqa: PLR0124 - NaN is the value unequal to itself
            codes[row] = -1
        else:
            codes[row] = index.setdefault(value, len(index))
    return codes, list(index)


def _value_field(value: Any) -> bytes:
    """One ``Value`` message as the layer's field 4: text, bool, integers (uint / sint), other
    numbers as doubles. Short text (ids, names: most values) takes the fast path."""
    if isinstance(value, str):
        text = value.encode()
        size = len(text)
        if size < 126:  # both lengths fit one varint byte
            return bytes((0x22, size + 2, 0x0A, size)) + text
        return _field_bytes(4, _field_bytes(1, text))
    if isinstance(value, bool | np.bool_):
        message = bytes([0x38, 1 if value else 0])
    elif isinstance(value, int | np.integer):
        number = int(value)
        if number >= 0:
            message = bytes([0x28]) + _varint(number)
        else:
            message = bytes([0x30]) + _varint((-number << 1) - 1)
    elif isinstance(value, float | np.floating | Decimal):
        message = bytes([0x19]) + struct.pack("<d", float(value))
    else:
        message = _field_bytes(1, str(value).encode())
    return _field_bytes(4, message)


# -- varints -------------------------------------------------------------------------------


def _feature_stream(  # noqa: PLR0913
    ints: np.ndarray,
    per_feature: np.ndarray,
    tags: np.ndarray,
    tag_counts: np.ndarray,
    body: np.ndarray,
    tag_bytes: np.ndarray,
    geometry_bytes: np.ndarray,
    kind: int,
) -> np.ndarray:
    """Every feature as ``[18, body, 18, tag bytes, tags…, 24, kind, 34, geometry bytes,
    geometry…]`` in one integer array."""
    geometry_counts = np.diff(per_feature)
    size = 4 + tag_counts + 4 + geometry_counts
    start = _offsets(size)
    out = np.empty(int(size.sum()), dtype=np.int64)
    out[start] = _FEATURE
    out[start + 1] = body
    out[start + 2] = _TAGS
    out[start + 3] = tag_bytes
    feature_of_tag = np.repeat(np.arange(len(tag_counts)), tag_counts)
    tag_start = _offsets(tag_counts)
    out[start[feature_of_tag] + 4 + (np.arange(len(tags)) - tag_start[feature_of_tag])] = tags
    middle = start + 4 + tag_counts
    out[middle] = _TYPE
    out[middle + 1] = kind
    out[middle + 2] = _GEOMETRY
    out[middle + 3] = geometry_bytes
    feature_of_int = np.repeat(np.arange(len(geometry_counts)), geometry_counts)
    within = np.arange(len(ints)) - per_feature[:-1][feature_of_int]
    out[middle[feature_of_int] + 4 + within] = ints
    return out


def _varint_lengths(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=np.uint64)
    return (
        1
        + (v >= 1 << 7).astype(np.int64)
        + (v >= 1 << 14)
        + (v >= 1 << 21)
        + (v >= 1 << 28)
        + (v >= 1 << 35)
    )


def _varints(values: np.ndarray) -> bytes:
    """Protobuf varints of non-negative integers (< 2**42), all in one pass."""
    v = np.asarray(values, dtype=np.uint64)
    lengths = _varint_lengths(v)
    ends = np.cumsum(lengths)
    out = np.empty(int(ends[-1]) if len(ends) else 0, dtype=np.uint8)
    starts = ends - lengths
    for k in range(int(lengths.max()) if len(lengths) else 0):
        has = lengths > k
        byte = (v[has] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = (lengths[has] > k + 1).astype(np.uint64) << np.uint64(7)
        out[starts[has] + k] = (byte | more).astype(np.uint8)
    return out.tobytes()


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field_bytes(field: int, payload: bytes) -> bytes:
    return bytes([(field << 3) | 2]) + _varint(len(payload)) + payload
