"""Byte-stable writers shared by the generators: GeoJSON, ``;`` CSV, geometry text, Luhn keys.

Everything is written by hand from sorted, rounded values (no timestamps, no dict-order
surprises), so that one seed gives byte-identical files.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import shapely

from atlas.query.crs import transformer
from atlas.types import STORAGE_CRS

CRS_2154: dict[str, object] = {
    "type": "name",
    "properties": {"name": "urn:ogc:def:crs:EPSG::2154"},
}


def to_wgs84(geometries: Sequence[shapely.Geometry]) -> np.ndarray:
    """Lambert-93 geometries to lon/lat."""

    def project(coords: np.ndarray) -> np.ndarray:
        lon, lat = transformer(STORAGE_CRS, "EPSG:4326").transform(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(np.asarray(geometries, dtype=object), project)


def write_feature_collection(
    path: Path,
    features: Iterable[tuple[str | None, dict[str, object], shapely.Geometry | dict]],
    *,
    digits: int,
    crs: dict[str, object] | None = None,
    name: str | None = None,
    snap: bool = True,
) -> Path:
    """Write (id, properties, geometry) triples as a GeoJSON FeatureCollection, one per line.

    A geometry may be given as a ready GeoJSON mapping (see :func:`polygon_mappings`).
    """
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        head: dict[str, object] = {"type": "FeatureCollection"}
        if name:
            head["name"] = name
        if crs:
            head["crs"] = crs
        out.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [\n')
        first = True
        for feature_id, properties, geometry in features:
            feature: dict[str, object] = {"type": "Feature"}
            if feature_id is not None:
                feature["id"] = feature_id
            feature["geometry"] = (
                geometry
                if isinstance(geometry, dict)
                else _coords_json(geometry, digits, snap=snap)
            )
            feature["properties"] = properties
            out.write(("" if first else ",\n") + json.dumps(feature, ensure_ascii=False))
            first = False
        out.write("\n]}\n")
    return path


def polygon_mappings(geometries: np.ndarray, digits: int) -> list[dict[str, object]]:
    """GeoJSON mappings of many polygons at once (vectorised rounding; the parcels' fast path).

    Single-ring polygons take the vectorised path; any other geometry goes through
    :func:`_coords_json`. numpy's round divides by an exact power of ten, so a rounded value
    prints as its short decimal form.
    """
    simple = (shapely.get_type_id(geometries) == 3) & (
        shapely.get_num_interior_rings(geometries) == 0
    )
    out: list[dict[str, object]] = [None] * len(geometries)  # type: ignore[list-item]
    chosen = np.flatnonzero(simple)
    coords, index = shapely.get_coordinates(geometries[chosen], return_index=True)
    rows = np.round(coords, digits).tolist()
    bounds = np.searchsorted(index, np.arange(len(chosen) + 1))
    for k, position in enumerate(chosen):
        ring = rows[bounds[k] : bounds[k + 1]]
        out[position] = {"type": "Polygon", "coordinates": [ring]}
    for position in np.flatnonzero(~simple):
        out[position] = _coords_json(geometries[position], digits, snap=False)
    return out


def _coords_json(
    geometry: shapely.Geometry, digits: int, *, snap: bool = True
) -> dict[str, object]:
    """GeoJSON geometry with its coordinates rounded to ``digits`` decimals, still valid.

    Rounding can fold a tiny Voronoi edge onto itself; snapping polygons to the grid with
    GEOS's precision model keeps them valid, so the readers have nothing to repair.
    """
    if snap and shapely.get_type_id(geometry) in (3, 6):  # Polygon, MultiPolygon
        geometry = shapely.set_precision(geometry, 10.0**-digits)
    mapping = shapely.geometry.mapping(geometry)
    return {"type": mapping["type"], "coordinates": _round(mapping["coordinates"], digits)}


def _round(value: object, digits: int) -> object:
    if isinstance(value, int | float):
        return round(float(value), digits)
    return [_round(v, digits) for v in value]  # type: ignore[attr-defined]


def geometry_text(geometry: shapely.Geometry, digits: int = 2) -> str:
    """A geometry as the GeoJSON text CNIG exchange files hold in a CSV cell (valid, rounded)."""
    return json.dumps(_coords_json(geometry, digits), separators=(",", ":"))


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    """A ``;``-separated UTF-8 CSV (CNIG, INSEE BPE conventions), quoting only where needed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    return path


def luhn_complete(digits: str) -> str:
    """``digits`` followed by the one digit that makes the whole a valid Luhn number.

    SIREN (9 digits) and SIRET (14) carry a Luhn key (INSEE, répertoire SIRENE).
    """
    for last in "0123456789":
        if luhn_valid(digits + last):
            return digits + last
    raise AssertionError("unreachable")


def luhn_valid(number: str) -> bool:
    """Whether ``number`` passes the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(number)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0
