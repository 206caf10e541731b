"""Cadastral parcels tessellating the communes, written as an Etalab cadastre GeoJSON.

Parcels are Voronoi cells of seeds drawn per commune: dense in the towns (a few hundred m²),
sparse in the fields (a few hectares), on a loose grid of industrial lots inside the activity
parks. The river beds are left out, as the domaine public fluvial is not cadastred.
Ids follow the PCI: INSEE code (5) + prefixe '000' + section (2) + numero (4).
"""

from __future__ import annotations

import datetime as dt
import string
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from atlas.demo.formats import polygon_mappings, to_wgs84, write_feature_collection
from atlas.demo.territory import Territory

# Parcels per m²: fields (~2.5 ha), town centres (~450 m²).
_RURAL_DENSITY = 1 / 25_000
_URBAN_DENSITY = 1 / 450
_TARGET = 40_000
_SECTION_SIZE = 650.0  # metres: the side of the grid that cuts a commune into sections
_SECTIONS = [a + b for a in string.ascii_uppercase for b in string.ascii_uppercase]


@dataclass(frozen=True)
class Parcels:
    """The generated parcels (EPSG:2154), in file order."""

    ids: np.ndarray  # str, 14 characters
    communes: np.ndarray
    geometries: np.ndarray  # shapely Polygons
    seeds: np.ndarray  # (n, 2) generator points
    park: np.ndarray  # index of the activity park holding the parcel, -1 outside


def generate_parcels(
    territory: Territory, parks: list[shapely.Polygon], lot_sizes: list[float], rng, scale: float
) -> Parcels:
    """Parcels tessellating every commune (minus the rivers); parks cut into industrial lots."""
    park_union = shapely.union_all(parks)
    seeds = _sample_seeds(territory, park_union, rng, scale)
    park_seeds, park_index = _park_seeds(parks, lot_sizes, rng, scale)
    seeds = np.vstack([seeds, park_seeds])
    park_of = np.concatenate([np.full(len(seeds) - len(park_seeds), -1), park_index])
    ids, communes, geometries, kept_seeds, kept_park = [], [], [], [], []
    for commune in territory.communes:
        inside = shapely.contains_xy(commune.geometry, seeds[:, 0], seeds[:, 1])
        if inside.sum() < 2:
            continue
        local, local_park = seeds[inside], park_of[inside]
        cells = shapely.voronoi_polygons(
            shapely.MultiPoint(local), extend_to=commune.geometry, ordered=True
        )
        cells = shapely.intersection(np.asarray(cells.geoms), commune.geometry)
        cells = shapely.difference(cells, territory.rivers)
        cells = np.array([_largest(c) for c in cells], dtype=object)
        ok = np.array([c is not None and c.area >= 25 for c in cells])
        local, local_park, cells = local[ok], local_park[ok], cells[ok]
        ids.extend(_parcel_ids(commune.code, local, commune.geometry.bounds))
        communes.extend([commune.code] * len(local))
        geometries.extend(cells)
        kept_seeds.append(local)
        kept_park.append(local_park)
    order = np.argsort(np.array(ids), kind="stable")
    return Parcels(
        ids=np.array(ids)[order],
        communes=np.array(communes)[order],
        geometries=np.array(geometries, dtype=object)[order],
        seeds=np.vstack(kept_seeds)[order],
        park=np.concatenate(kept_park)[order],
    )


def _valid(geometries: np.ndarray) -> np.ndarray:
    """Geometries made valid where reprojection folded a sliver vertex (seen at scale 0.05)."""
    out = geometries.copy()
    for index in np.flatnonzero(~shapely.is_valid(out)):
        out[index] = _largest(shapely.make_valid(out[index]))
    return out


def _largest(geometry: shapely.Geometry) -> shapely.Polygon | None:
    """The largest polygon of a clipped cell (a cell cut by the river keeps its main part)."""
    parts = [p for p in shapely.get_parts(geometry) if isinstance(p, shapely.Polygon)]
    if not parts:
        return None
    return shapely.normalize(max(parts, key=lambda p: p.area))


def _density(territory: Territory, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    weight = territory.urban_weight(x, y)
    return _RURAL_DENSITY + (_URBAN_DENSITY - _RURAL_DENSITY) * weight**1.3


def _sample_seeds(
    territory: Territory, park_union: shapely.Geometry, rng, scale: float
) -> np.ndarray:
    """Rejection-sample seeds with the town/field density, outside parks and rivers."""
    xmin, ymin, xmax, ymax = territory.bounds
    gx, gy = np.meshgrid(np.arange(xmin, xmax, 100.0), np.arange(ymin, ymax, 100.0))
    gx, gy = gx.ravel(), gy.ravel()
    inside = shapely.contains_xy(territory.envelope, gx, gy) & ~shapely.contains_xy(
        park_union, gx, gy
    )
    expected = float(_density(territory, gx[inside], gy[inside]).sum() * 100.0 * 100.0)
    factor = _TARGET * 0.975 * scale / expected
    peak = _URBAN_DENSITY * factor
    count = int((xmax - xmin) * (ymax - ymin) * peak * 1.05)
    x = rng.uniform(xmin, xmax, count)
    y = rng.uniform(ymin, ymax, count)
    keep = rng.uniform(0.0, 1.0, count) < _density(territory, x, y) * factor / peak
    x, y = x[keep], y[keep]
    keep = shapely.contains_xy(territory.envelope, x, y) & ~shapely.contains_xy(park_union, x, y)
    keep &= ~shapely.contains_xy(territory.rivers, x, y)
    return np.column_stack([x[keep], y[keep]])


def _park_seeds(
    parks: list[shapely.Polygon], lot_sizes: list[float], rng, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """A jittered grid of industrial lots in each park (lot side in metres)."""
    points, index = [], []
    for number, (park, side) in enumerate(zip(parks, lot_sizes, strict=True)):
        side = side / np.sqrt(max(scale, 0.05)) if scale < 1 else side
        xmin, ymin, xmax, ymax = park.bounds
        gx, gy = np.meshgrid(np.arange(xmin, xmax, side), np.arange(ymin, ymax, side * 0.8))
        gx = gx.ravel() + rng.normal(0, side * 0.18, gx.size)
        gy = gy.ravel() + rng.normal(0, side * 0.15, gy.size)
        inside = shapely.contains_xy(park, gx, gy)
        points.append(np.column_stack([gx[inside], gy[inside]]))
        index.append(np.full(int(inside.sum()), number))
    return np.vstack(points), np.concatenate(index)


def _parcel_ids(code: str, seeds: np.ndarray, bounds: tuple[float, ...]) -> list[str]:
    """Sections on a grid over the commune; numbers west to east within north-to-south rows."""
    xmin, _, _, ymax = bounds
    col = ((seeds[:, 0] - xmin) // _SECTION_SIZE).astype(int)
    row = ((ymax - seeds[:, 1]) // _SECTION_SIZE).astype(int)
    cell = row * 1000 + col
    sections = {value: _SECTIONS[i] for i, value in enumerate(np.unique(cell))}
    ids = [""] * len(seeds)
    for value, section in sections.items():
        members = np.flatnonzero(cell == value)
        # numbering follows the land in strips of 60 m, as a surveyor's sheet would
        strip = ((ymax - seeds[members, 1]) // 60).astype(int)
        order = members[np.lexsort((seeds[members, 0], strip))]
        for number, member in enumerate(order, start=1):
            ids[member] = f"{code}000{section}{number:04d}"
    return ids


# Owners as MAJIC's ``ddenom`` writes them (SURNAME/GIVEN NAME for a natural person). Made up:
# the Etalab files carry no owner; the atlas joins the fichiers fonciers for its staff.
OWNERS = (
    "SCI DU MOULIN DE SEINE", "COMMUNE D EVRY-COURCOURONNES", "CA GRAND PARIS SUD SEINE ESSONNE",
    "SAS LOGISTIQUE DU HUREPOIX", "SCI LES HAUTS DE LISSES", "EPA PARIS-SACLAY",
    "MARCHANDEAU/GERMAINE", "LEBRETONNEUX/JEAN-PAUL", "ROUSSELIERE/ODETTE", "SCI ARPAJON ACTIVITES",
    "VANDERCAMMEN/PHILIPPE", "SNC FONCIERE DE SENART", "DEPARTEMENT DE L ESSONNE",
    "KERGUELENNEC/ANNICK", "SCI BONDOUFLE PARC", "SA HLM ESSONNE HABITAT",
)  # fmt: skip


def owner_of(parcel_id: str) -> str:
    """The demo owner of a parcel, fixed by its id (no draw from the generator)."""
    return OWNERS[zlib.crc32(parcel_id.encode()) % len(OWNERS)]


def write_parcels(path: Path, parcels: Parcels, rng) -> Path:
    """The Etalab "parcelles" GeoJSON (EPSG:4326, 7 decimals, as cadastre.data.gouv.fr)."""
    areas = shapely.area(parcels.geometries)
    # The fiscal area (contenance) is the surveyed area, not the drawing's: a few per mil off.
    contenance = np.maximum(1, np.round(areas * rng.normal(1.0, 0.004, len(areas)))).astype(int)
    arpente = rng.uniform(size=len(areas)) < 0.3
    created_days = rng.integers(0, 9000, len(areas))
    updated_days = rng.integers(0, 4000, len(areas))
    # snapped to the 7-decimal grid at once (valid after rounding; see formats._coords_json)
    lonlat = polygon_mappings(
        shapely.set_precision(_valid(to_wgs84(list(parcels.geometries))), 1e-7), 7
    )
    base = dt.date(1995, 1, 1)

    def features():
        for i, pid in enumerate(parcels.ids):
            created = base + dt.timedelta(days=int(created_days[i]))
            updated = min(created + dt.timedelta(days=int(updated_days[i])), dt.date(2024, 6, 30))
            properties = {
                "id": pid,
                "commune": pid[:5],
                "prefixe": pid[5:8],
                "section": pid[8:10].lstrip("0"),
                "numero": pid[10:].lstrip("0"),
                "contenance": int(contenance[i]),
                "arpente": bool(arpente[i]),
                "created": created.isoformat(),
                "updated": updated.isoformat(),
                "proprietaire": owner_of(pid),
            }
            yield pid, properties, lonlat[i]

    return write_feature_collection(path, features(), digits=7, snap=False)
