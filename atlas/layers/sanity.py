"""Geometry sanity at the door: finite coordinates, a CRS they can be in, the territory.

A reader hands :func:`atlas.layers.conform.conform` its rows in the CRS the file declares, the
one it implies (GeoJSON without a ``crs`` member is lon/lat, RFC 7946 §4) or the one ``--crs``
gave. Then:

- the whole input: when most rows cannot lie in the territory in that CRS but do in another
  one (Lambert-93, lon/lat, swapped axes, Web Mercator, the CC zones, Lambert II, UTM), it is
  refused with one line naming that CRS — a CRS is never guessed silently (:func:`check_crs`);
- each row: non-finite or absurd coordinates, a position at Null Island (0, 0)
  (:func:`coordinate_problems`); once in EPSG:2154, a row outside the territory
  (:func:`territory_problems`), with where it lies and why (swapped axes, say);
- each write: a store never receives a non-finite number (:func:`check_storable`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Container
from dataclasses import dataclass
from functools import cached_property, lru_cache

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from atlas.errors import CRSMismatch, ValidationFailed
from atlas.query.crs import CRS84_CODE, transformer
from atlas.settings import DEFAULT_TERRITORY_BBOX, TerritorySettings
from atlas.types import STORAGE_CRS

BBox4 = tuple[float, float, float, float]

# No projected coordinate on Earth lies 100,000 km from its origin; 1e300 is not a place.
ABSURD_METRES = 1e8
_NULL_ISLAND = {True: 1e-6, False: 0.1}  # degrees for a geographic CRS, else metres
_SAMPLE = 10_000  # rows whose centres decide the whole-input check
_MAJORITY = 0.5  # below this share in the territory, the CRS is questioned
_FITS = 0.9  # a candidate CRS must place this share in the territory
# The communes' outline is widened by this much: simplified boundary files (the france-geojson
# communes are cut at ~1 m, ADMIN EXPRESS COG CARTO generalised) must not reject a parcel along
# the edge, and an intake or a 500 m monument perimeter just outside is still the territory's.
OUTLINE_MARGIN_M = 1_000.0
# Above this many communes the outline is not drawn (a union of a national file at every ingest
# is not cheap): the box alone applies, as before the communes layer.
OUTLINE_MAX_COMMUNES = 3_000


@dataclass(frozen=True)
class Territory:
    """Where the data of this deployment may lie, in CRS84.

    The box ATLAS_TERRITORY_BBOX, first; once the ``communes`` collection holds data, the
    union of its communes widened by OUTLINE_MARGIN_M (``outline``, CRS84) narrows it to the
    territory's real outline (:meth:`outlined`), and every check here follows it unchanged.
    """

    bbox: BBox4 = DEFAULT_TERRITORY_BBOX
    outline: BaseGeometry | None = None
    label: str = "ATLAS_TERRITORY_BBOX"

    def contains_lonlat(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """True where (lon, lat) lies in the territory."""
        xmin, ymin, xmax, ymax = self.bbox
        with np.errstate(invalid="ignore"):
            inside = (lon >= xmin) & (lon <= xmax) & (lat >= ymin) & (lat <= ymax)
        if self.outline is not None and inside.any():
            inside[inside] = shapely.intersects_xy(self.outline, lon[inside], lat[inside])
        return inside

    @cached_property
    def storage_area(self) -> BaseGeometry:
        """The territory in EPSG:2154, edges densified so that the curved outline holds."""
        area = self.outline if self.outline is not None else shapely.box(*self.bbox)
        to_storage = transformer(CRS84_CODE, STORAGE_CRS)
        projected = shapely.transform(
            shapely.segmentize(area, max_segment_length=0.05),
            lambda xy: np.column_stack(to_storage.transform(xy[:, 0], xy[:, 1])),
        )
        shapely.prepare(projected)
        return projected

    @classmethod
    def from_settings(cls, settings: TerritorySettings) -> Territory:
        """The configured box (the communes narrow it: see :meth:`outlined`)."""
        return cls(bbox=settings.bbox)

    def outlined(self, communes: np.ndarray) -> Territory:
        """The territory narrowed to the union of ``communes`` (EPSG:2154), with the margin."""
        present = communes[~(shapely.is_missing(communes) | shapely.is_empty(communes))]
        if not len(present) or len(present) > OUTLINE_MAX_COMMUNES:
            return self
        # Simplified first (far below the margin): the union is of a few vertices per commune,
        # and the gaps simplification opens between neighbours are closed by the buffer.
        simplified = shapely.simplify(present, OUTLINE_MARGIN_M / 10)
        try:
            area = shapely.union_all(simplified).buffer(OUTLINE_MARGIN_M, quad_segs=4)
        except shapely.errors.GEOSException:  # stored communes are valid; never fail an ingest
            return self
        to_lonlat = transformer(STORAGE_CRS, CRS84_CODE)
        outline = shapely.transform(
            shapely.simplify(area, OUTLINE_MARGIN_M / 10),
            lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1])),
        )
        shapely.prepare(outline)
        label = f"the communes collection's outline and {OUTLINE_MARGIN_M / 1000:g} km around it"
        return dataclasses.replace(self, outline=outline, label=label)

    def describe(self) -> str:
        """How a message names the territory."""
        if self.outline is not None and self.label != Territory.label:
            return f"the territory ({self.label})"
        return f"the territory ({self.label} {','.join(f'{v:g}' for v in self.bbox)})"


@dataclass(frozen=True, slots=True)
class _Candidate:
    crs: str
    hint: str
    swap: bool = False


# The CRSs French open data comes in, most likely first. A candidate must place the data both
# in the territory and in its own area of use (which tells the nine CC zones apart).
_CANDIDATES = (
    _Candidate("EPSG:2154", "they look like Lambert-93: give --crs EPSG:2154"),
    _Candidate("EPSG:4326", "they look like longitude/latitude (WGS 84): give --crs EPSG:4326"),
    _Candidate("EPSG:3857", "they look like Web Mercator: give --crs EPSG:3857"),
    *(
        _Candidate(
            f"EPSG:{code}", f"they look like Lambert CC{code - 3900}: give --crs EPSG:{code}"
        )
        for code in range(3942, 3951)
    ),
    _Candidate("EPSG:27572", "they look like NTF Lambert II étendu: give --crs EPSG:27572"),
    *(
        _Candidate(
            f"EPSG:{code}", f"they look like UTM zone {code - 32600}N: give --crs EPSG:{code}"
        )
        for code in (32630, 32631, 32632)
    ),
)
_SWAPPED = _Candidate(
    "", "latitude and longitude look swapped: write longitude first (x), then latitude (y)", True
)


def crs_label(crs: CRS) -> str:
    """'WGS 84 (EPSG:4326)': the name and code of a CRS, for messages."""
    code = crs.to_authority()
    return f"{crs.name} ({':'.join(code)})" if code else crs.name


def check_crs(geometries: gpd.GeoSeries, territory: Territory, *, source: str) -> None:
    """Refuse the whole input when its coordinates cannot be in its CRS but fit another one."""
    crs = geometries.crs
    if crs is None:
        return
    x, y = _sample_centres(geometries)
    if not len(x) or _share(x, y, crs, territory) >= _MAJORITY:
        return
    candidates = [c for c in _CANDIDATES if not crs.equals(c.crs)]
    if crs.is_geographic:
        candidates.insert(0, _SWAPPED)
    for candidate in candidates:
        target = crs if candidate.swap else CRS.from_user_input(candidate.crs)
        xs, ys = (y, x) if candidate.swap else (x, y)
        if _share(xs, ys, target, territory, within_use=True) >= _FITS:
            raise CRSMismatch(
                f"'{source}': coordinates cannot be in {crs_label(crs)}: {candidate.hint}"
            )


def _sample_centres(geometries: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    """Bounding-box centres of up to _SAMPLE rows spread over the input, finite ones only."""
    values = geometries.to_numpy()
    if len(values) > _SAMPLE:
        values = values[np.linspace(0, len(values) - 1, _SAMPLE).astype(int)]
    with np.errstate(invalid="ignore", over="ignore"):
        bounds = shapely.bounds(values)
        x, y = (bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2
    finite = np.isfinite(x) & np.isfinite(y)
    return x[finite], y[finite]


def _share(
    x: np.ndarray, y: np.ndarray, crs: CRS, territory: Territory, *, within_use: bool = False
) -> float:
    """The share of points (x, y) in ``crs`` that fall in the territory."""
    with np.errstate(invalid="ignore", over="ignore"):
        lon, lat = _to_lonlat(crs).transform(x, y)
    inside = territory.contains_lonlat(np.asarray(lon), np.asarray(lat))
    if within_use and crs.area_of_use is not None:
        west, south, east, north = crs.area_of_use.bounds
        inside &= (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
    return float(inside.mean()) if len(inside) else 0.0


@lru_cache(maxsize=32)
def _to_lonlat(crs: CRS) -> Transformer:
    return transformer(crs.to_wkt(), CRS84_CODE)


def coordinate_problems(geometries: gpd.GeoSeries) -> dict[int, str]:
    """Rows (0-based) whose coordinates are non-finite, absurd for their CRS, or (0, 0)."""
    values = geometries.to_numpy()
    coords, index = shapely.get_coordinates(values, return_index=True)
    problems: dict[int, str] = {}
    finite = np.isfinite(coords).all(axis=1)
    for row in np.unique(index[~finite]):
        problems[int(row)] = "coordinates are not finite numbers (NaN or infinity)"
    geographic = bool(geometries.crs is not None and geometries.crs.is_geographic)
    limits = (180.0, 90.0) if geographic else (ABSURD_METRES, ABSURD_METRES)
    with np.errstate(invalid="ignore"):
        absurd = finite & ((np.abs(coords[:, 0]) > limits[0]) | (np.abs(coords[:, 1]) > limits[1]))
    where = geometries.crs.to_string() if geometries.crs is not None else "any CRS"
    for position in np.flatnonzero(absurd):
        row = int(index[position])
        if row not in problems:
            x, y = coords[position]
            problems[row] = f"coordinates ({x:.6g}, {y:.6g}) are out of range for {where}"
    tolerance = _NULL_ISLAND[geographic]
    with np.errstate(invalid="ignore"):
        null = (np.abs(shapely.bounds(values)) <= tolerance).all(axis=1)
    for row in np.flatnonzero(null):
        problems.setdefault(int(row), "at Null Island (0, 0): a position written as zeros")
    return problems


def territory_problems(
    storage: gpd.GeoSeries,
    source: gpd.GeoSeries,
    territory: Territory,
    *,
    skip: Container[int] = (),
) -> dict[int, str]:
    """Rows (0-based) outside the territory once in EPSG:2154, each with where it lies."""
    values = storage.to_numpy()
    present = ~(shapely.is_missing(values) | shapely.is_empty(values))
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(shapely.bounds(values)).all(axis=1)
    problems: dict[int, str] = {}
    for index in np.flatnonzero(present & ~finite):
        problems[int(index)] = f"coordinates cannot be transformed to {STORAGE_CRS}"
    candidates = present & finite
    inside = np.zeros(len(values), dtype=bool)
    inside[candidates] = shapely.intersects(territory.storage_area, values[candidates])
    outside = [int(r) for r in np.flatnonzero(candidates & ~inside) if int(r) not in skip]
    if not outside:
        return problems
    centres = shapely.bounds(values[outside])
    lon, lat = transformer(STORAGE_CRS, CRS84_CODE).transform(
        (centres[:, 0] + centres[:, 2]) / 2, (centres[:, 1] + centres[:, 3]) / 2
    )
    swapped = np.zeros(len(outside), dtype=bool)
    if source.crs is not None and source.crs.is_geographic:
        swapped = territory.contains_lonlat(np.asarray(lat), np.asarray(lon))
    for row, x, y, swap in zip(outside, lon, lat, swapped, strict=True):
        problems[row] = (
            f"latitude and longitude look swapped (x {x:.5f}, y {y:.5f})"
            if swap
            else f"outside {territory.describe()}: lon {x:.5f}, lat {y:.5f}"
        )
    return problems


def check_storable(frame: gpd.GeoDataFrame, collection_id: str) -> None:
    """Refuse a write holding a non-finite coordinate or number: no store ever holds one."""
    coords = shapely.get_coordinates(frame.geometry.to_numpy())  # x, y: stores are 2D
    if not np.isfinite(coords).all():
        raise ValidationFailed(
            f"{collection_id}: non-finite coordinates cannot be stored; nothing was written"
        )
    for name in frame.columns:
        column = frame[name]
        if name != frame.geometry.name and column.dtype.kind == "f":
            if np.isinf(column.to_numpy(dtype=float, na_value=np.nan)).any():
                raise ValidationFailed(
                    f"{collection_id}: field {name} holds an infinite number; nothing was written"
                )
