"""What a caller asks for: collections, a format, a clip area, a target CRS (the POST body).

The model checks the shape of the request only; meanings (a CRS, a commune, a site, a polygon)
are resolved against the data and the caller's tier by ``clip.resolve_clip`` and ``plan``.
JSON names follow the OGC parameters where one exists (``bbox-crs``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

from atlas.query.crs import STORAGE_URI, ApiCRS, parse_crs
from atlas.query.requests import FilterLang, FilterRequest

MAX_COLLECTIONS = 20


class ExtractFormat(enum.StrEnum):
    """The file formats an extract can be written in."""

    GPKG = "gpkg"  # one GeoPackage, one layer per collection
    SHAPEFILE = "shapefile"  # .shp/.shx/.dbf/.prj/.cpg per collection, field names <= 10 chars
    GEOJSON = "geojson"  # one file per collection
    CSV = "csv"  # one file per collection, geometry as WKT or x/y, with an OGR VRT beside it
    FLATGEOBUF = "flatgeobuf"  # one file per collection, with its spatial index
    GEOPARQUET = "geoparquet"  # one file per collection (GeoParquet 1.x through geopandas)


class CsvGeometry(enum.StrEnum):
    """How CSV files carry geometry."""

    WKT = "wkt"  # a WKT column
    XY = "xy"  # x and y columns: the point, or a point on the surface of lines and polygons


class Clip(BaseModel):
    """Exactly one area: a bbox, a commune (INSEE code), an activity site, or a GeoJSON polygon."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    bbox: list[float] | None = Field(
        default=None,
        min_length=4,
        max_length=4,
        description="minx,miny,maxx,maxy in crs; lon/lat with minx > maxx crosses 180°",
    )
    commune: str | None = Field(
        default=None,
        pattern=r"^(\d{5}|2[AB]\d{3})$",
        description="INSEE code of a commune of the communes collection",
    )
    site: str | None = Field(
        default=None, min_length=1, max_length=80, description="site_id of an activity site"
    )
    polygon: dict[str, Any] | None = Field(
        default=None, description="a GeoJSON Polygon or MultiPolygon geometry in crs"
    )
    crs: str | None = Field(
        default=None,
        validation_alias=AliasChoices("crs", "bbox-crs"),
        description="CRS of bbox or polygon (default CRS84, lon/lat)",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Clip:
        given = [n for n in ("bbox", "commune", "site", "polygon") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of bbox, commune, site, polygon")
        if self.crs is not None and given[0] not in ("bbox", "polygon"):
            raise ValueError("crs applies to bbox and polygon only")
        return self


class ExtractRequest(BaseModel):
    """The body of ``POST /extracts``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    collections: list[str] = Field(
        min_length=1, max_length=MAX_COLLECTIONS, description="collection ids, one layer each"
    )
    format: ExtractFormat = Field(default=ExtractFormat.GPKG, description="file format")
    crs: str = Field(
        default=STORAGE_URI, description="CRS of the files (default Lambert-93, EPSG:2154)"
    )
    clip: Clip | None = Field(default=None, description="keep what intersects this area, cut")
    csv_geometry: CsvGeometry = Field(
        default=CsvGeometry.WKT,
        alias="csv-geometry",
        description="CSV only: geometry as a WKT column or as x/y columns",
    )
    filter: str | dict[str, Any] | None = Field(
        default=None,
        description="a CQL2 filter applied to every collection of the extract (OGC API"
        " Features Part 3): CQL2-text, or CQL2-JSON as an object; fields the tier may not see"
        " are refused as unknown",
    )
    filter_lang: FilterLang | None = Field(
        default=None,
        alias="filter-lang",
        description="cql2-text or cql2-json (default: cql2-json for an object, else cql2-text)",
    )
    filter_crs: str | None = Field(
        default=None, alias="filter-crs", description="CRS of the filter's geometries (CRS84)"
    )

    @property
    def filter_language(self) -> FilterLang:
        """The language of ``filter``: as given, else from its form."""
        if self.filter_lang is not None:
            return self.filter_lang
        return "cql2-json" if isinstance(self.filter, dict) else "cql2-text"

    @field_validator("collections")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if any(not v or len(v) > 80 for v in value):
            raise ValueError("collection ids are 1 to 80 characters")
        if len(set(value)) != len(value):
            raise ValueError("a collection is named twice")
        return value


@dataclass(frozen=True, slots=True)
class OutputOptions:
    """How the files are written: format, CRS, CSV geometry mode."""

    format: ExtractFormat
    crs: ApiCRS
    csv_geometry: CsvGeometry


def output_options(request: ExtractRequest) -> OutputOptions:
    """The request's output options, its CRS checked against the supported list."""
    return OutputOptions(request.format, parse_crs(request.crs), request.csv_geometry)


def filter_request(request: ExtractRequest) -> FilterRequest | None:
    """The request's CQL2 filter, its CRS checked against the supported list; None without one."""
    if request.filter is None:
        return None
    crs = parse_crs(request.filter_crs, parameter="filter-crs")
    return FilterRequest(request.filter, request.filter_language, crs)


def request_document(request: ExtractRequest) -> dict[str, Any]:
    """The request as JSON (for the job status and metadata.json)."""
    return request.model_dump(mode="json", by_alias=True, exclude_none=True)
