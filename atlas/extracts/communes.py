"""Commune boundaries for ``clip.commune``: a configured file, else the demo territory's partition.

No collection serves commune polygons, and an attribute filter would not do: half the layers
(heritage perimeters, flood zones, plots) carry no INSEE code, and the parcels' one is hidden from
partners. So a commune clip is a polygon clip like the others, with the polygon taken from:

- ``ATLAS_EXTRACT_COMMUNES``: any vector file GDAL reads (IGN Admin Express, the
  ``france-geojson`` communes of a département…), the INSEE code in ``ATLAS_EXTRACT_COMMUNES_CODE_FIELD``
  (default ``code``); parts sharing a code are merged (Évry and Courcouronnes in 2018 geography
  under their 2019 code), reprojected to Lambert-93;
- otherwise the demo territory's communes (``atlas.demo.territory``: real codes and names,
  synthetic Voronoi boundaries), which is what the demo data was generated in. A deployment on
  real data must set the file; ``metadata.json`` names the source either way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import shapely
from shapely.geometry.base import BaseGeometry

from atlas.errors import InvalidInput, StoreUnavailable
from atlas.types import STORAGE_CRS

log = logging.getLogger("atlas.extracts")

DEMO_SOURCE = "atlas demo territory (real INSEE codes, synthetic boundaries)"


@dataclass(frozen=True)
class CommuneBoundaries:
    """Commune polygons in EPSG:2154 by INSEE code, and where they come from."""

    source: str
    polygons: dict[str, BaseGeometry]

    def polygon(self, code: str) -> BaseGeometry:
        """The commune's polygon; InvalidInput when the boundaries have no such code."""
        try:
            return self.polygons[code]
        except KeyError:
            raise InvalidInput(f"clip.commune: no commune '{code[:8]}' in the boundaries") from None


def commune_boundaries(path: Path | None, code_field: str = "code") -> CommuneBoundaries:
    """The boundaries the settings select (read once per file version)."""
    if path is None:
        return _demo_boundaries()
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as exc:
        log.error("commune boundaries %s cannot be read: %s", path, exc)
        raise StoreUnavailable("commune boundaries are unavailable") from exc
    return _file_boundaries(path, code_field, stamp)


@lru_cache(maxsize=1)
def _demo_boundaries() -> CommuneBoundaries:
    from atlas.demo.territory import build_territory

    territory = build_territory()
    return CommuneBoundaries(DEMO_SOURCE, {c.code: c.geometry for c in territory.communes})


@lru_cache(maxsize=4)
def _file_boundaries(path: Path, code_field: str, _stamp: int) -> CommuneBoundaries:
    import pyogrio

    try:
        frame = pyogrio.read_dataframe(path, columns=[code_field])
    except Exception as exc:  # GDAL says why in its own words: to the log, not to clients
        log.error("commune boundaries %s cannot be read: %s", path, exc)
        raise StoreUnavailable("commune boundaries are unavailable") from exc
    if frame.crs is None:
        frame = frame.set_crs("OGC:CRS84")  # GeoJSON without a crs member (RFC 7946)
    frame = frame.to_crs(STORAGE_CRS)
    polygons: dict[str, BaseGeometry] = {}
    for code, group in frame.groupby(frame[code_field].astype(str)):
        merged = shapely.make_valid(shapely.union_all(group.geometry.values))
        polygons[str(code)] = merged
    return CommuneBoundaries(f"{path.name} (field '{code_field}')", polygons)
