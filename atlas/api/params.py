"""Query parameters, parsed once into the requests of ``atlas.query.requests``.

Parameter groups are dependency classes (FastAPI's ``Depends()`` on a class): each parameter is
declared, and described in the OpenAPI document, once, with OGC's hyphenated names through
``alias=``; every route that takes it takes the class. Parsing here is syntax only (numbers,
supported CRSs, sort keys); what the names and values mean for the caller's tier is the gate's
(``atlas.policy.reading``). Every message names the parameter and says what was wrong; none
echoes more than a short, truncated piece of the input.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import Depends, Query, Request

from atlas.api.on_loop import on_loop
from atlas.errors import InvalidInput
from atlas.query.crs import SUPPORTED, ApiCRS, parse_crs
from atlas.query.features import SortKey
from atlas.query.requests import BBoxRequest, FilterLang, FilterRequest, ItemsRequest

# Past it a store's OFFSET overflows (PostgreSQL bigint); no collection comes near it.
MAX_OFFSET = 1_000_000_000
CRS_HELP = "one of: " + ", ".join(SUPPORTED)

# Query parameters the item endpoints define; any other one must be a queryable's name.
ITEM_PARAMETERS = frozenset(
    {
        "f",
        "lang",  # HTML pages (atlas.api.negotiation)
        "bbox",
        "bbox-crs",
        "crs",
        "limit",
        "offset",
        "properties",
        "sortby",
        "filter",
        "filter-lang",
        "filter-crs",
        "datetime",
    }
)


def short(text: str, size: int = 40) -> str:
    """Input echoed in a message: truncated, so an error never reflects a whole payload."""
    return text if len(text) <= size else text[:size] + "…"


class ResponseCrs:
    """``crs``: the CRS of the response's geometry (OGC API Features Part 2)."""

    def __init__(
        self,
        crs: Annotated[
            str | None, Query(description=f"CRS of the response geometry, {CRS_HELP}")
        ] = None,
    ) -> None:
        self.crs: ApiCRS = parse_crs(crs)


class BBoxParams:
    """``bbox`` and ``bbox-crs`` (Part 1, 7.15.3; Part 2)."""

    def __init__(
        self,
        bbox: Annotated[
            str | None,
            Query(
                description="minx,miny,maxx,maxy in bbox-crs; lon/lat with minx > maxx crosses 180°"
            ),
        ] = None,
        bbox_crs: Annotated[
            str | None, Query(alias="bbox-crs", description=f"CRS of bbox, {CRS_HELP}")
        ] = None,
    ) -> None:
        crs = parse_crs(bbox_crs, parameter="bbox-crs")
        self.bbox = None if bbox is None else BBoxRequest(parse_bbox(bbox), crs)


class FilterParams:
    """``filter``, ``filter-lang`` and ``filter-crs`` (Part 3)."""

    def __init__(
        self,
        filter_: Annotated[
            str | None, Query(alias="filter", description="a CQL2 filter (OGC API Features Part 3)")
        ] = None,
        filter_lang: Annotated[
            FilterLang, Query(alias="filter-lang", description="language of filter")
        ] = "cql2-text",
        filter_crs: Annotated[
            str | None,
            Query(alias="filter-crs", description=f"CRS of filter geometries, {CRS_HELP}"),
        ] = None,
    ) -> None:
        self.filter = None
        if filter_ is not None:
            crs = parse_crs(filter_crs, parameter="filter-crs")
            self.filter = FilterRequest(filter_, filter_lang, crs)


class PagingParams:
    """``limit`` and ``offset`` (Part 1, 7.15.2)."""

    def __init__(
        self,
        limit: Annotated[int | None, Query(description="page size")] = None,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="features to skip")] = 0,
    ) -> None:
        self.limit = limit
        self.offset = offset


# The groups as dependencies run on the event loop (atlas.api.on_loop: no thread hop each).
ResponseCrsQuery = Annotated[ResponseCrs, Depends(on_loop(ResponseCrs))]


class ItemsParams:
    """Every parameter of ``/collections/{collectionId}/items``, as one :class:`ItemsRequest`."""

    def __init__(
        self,
        request: Request,
        crs: ResponseCrsQuery,
        bbox: Annotated[BBoxParams, Depends(on_loop(BBoxParams))],
        paging: Annotated[PagingParams, Depends(on_loop(PagingParams))],
        filters: Annotated[FilterParams, Depends(on_loop(FilterParams))],
        properties: Annotated[
            str | None, Query(description="fields to return, comma-separated")
        ] = None,
        sortby: Annotated[
            str | None, Query(description="+field or -field, comma-separated")
        ] = None,
    ) -> None:
        self.request = ItemsRequest(
            bbox=bbox.bbox,
            crs=crs.crs,
            limit=paging.limit,
            offset=paging.offset,
            properties=parse_names(properties),
            sortby=parse_sortby(sortby),
            filter=filters.filter,
            equals=tuple(
                (k, v) for k, v in request.query_params.multi_items() if k not in ITEM_PARAMETERS
            ),
        )


ItemsQuery = Annotated[ItemsParams, Depends(on_loop(ItemsParams))]


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``bbox=a,b,c,d``: four finite numbers (their meaning depends on ``bbox-crs``)."""
    parts = text.split(",")
    if len(parts) == 6:
        raise InvalidInput("bbox: 3D boxes (6 numbers) are not supported; give 4 numbers")
    if len(parts) != 4:
        raise InvalidInput(f"bbox: expected 4 comma-separated numbers, got '{short(text)}'")
    try:
        a, b, c, d = (float(p) for p in parts)
    except ValueError:
        raise InvalidInput(f"bbox: '{short(text)}' holds something that is not a number") from None
    if not all(math.isfinite(v) for v in (a, b, c, d)):
        raise InvalidInput("bbox: values must be finite numbers")
    return (a, b, c, d)


def parse_names(text: str | None) -> tuple[str, ...] | None:
    """``properties=a,b``: field names, once each, in order (None: absent)."""
    if text is None:
        return None
    return tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))


def parse_sortby(text: str | None) -> tuple[SortKey, ...]:
    """``sortby=+a,-b`` (OGC API Features Part 3, sorting)."""
    if text is None or not text.strip():
        return ()
    keys = []
    for raw in text.split(","):
        token = raw.strip()
        descending = token.startswith("-")
        name = token.lstrip("+-").strip()
        if not name:
            raise InvalidInput("sortby: empty sort key")
        keys.append(SortKey(name, descending))
    return tuple(keys)
