"""Site selection: ``POST /site-selection`` (criteria as JSON) and ``GET /site-selection`` (the same
criteria as query parameters: the shareable URL).

Both parse into one :class:`atlas.selection.SiteCriteria` and answer the same GeoJSON
FeatureCollection: the plots the caller's tier sees, ranked, each with every criterion's measured
value and verdict. The response's ``self`` link is the GET URL of the search, and its ``extract``
link carries the body for ``POST /extracts`` that exports the plots meeting every criterion.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from atlas.api.bodies import BODY_RESPONSES, json_body
from atlas.api.deps import BaseUrl, CurrentGate
from atlas.api.geojson import GEOJSON, feature_document, geojson_response
from atlas.api.params import ResponseCrsQuery
from atlas.policy.gate import Gate
from atlas.query.crs import SUPPORTED, ApiCRS
from atlas.selection import (
    RankedPlot,
    Selection,
    SiteCriteria,
    criteria_params,
    parse_criteria,
    query_criteria,
    select_sites,
    unavailable_criteria,
)
from atlas.selection.extract import extract_body
from atlas.stores.base import Feature

router = APIRouter(tags=["Site selection"])

Base = BaseUrl
PATH = "/site-selection"
_SCHEMA = SiteCriteria.model_json_schema()
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {GEOJSON: {}}, "description": "the plots ranked, with their verdicts"}
}


def _query_parameters() -> list[dict[str, Any]]:
    """The criteria as OpenAPI query parameters, described once, by the model."""
    out = []
    for name, prop in _SCHEMA["properties"].items():
        schema = {k: v for k, v in prop.items() if k not in ("title", "description")}
        parameter = {
            "name": name,
            "in": "query",
            "required": False,
            "description": prop.get("description", ""),
            "schema": schema,
        }
        if "array" in json.dumps(schema):
            parameter.update(style="form", explode=True)  # repeated: vocations hold commas
        out.append(parameter)
    return out


@router.get(
    PATH,
    operation_id="getSiteSelection",
    summary="Plots ranked against site-selection criteria (shareable URL)",
    response_class=Response,
    responses=_RESPONSES,
    openapi_extra={"parameters": _query_parameters()},
)
def get_site_selection(
    request: Request,
    gate: CurrentGate,
    base: Base,
    crs: ResponseCrsQuery,
) -> Response:
    """The search of the query parameters."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k != "crs"]
    return _answer(gate, query_criteria(items), crs.crs, base)


@router.post(
    PATH,
    operation_id="postSiteSelection",
    summary="Plots ranked against site-selection criteria",
    response_class=Response,
    responses={**_RESPONSES, **BODY_RESPONSES},
    openapi_extra={
        "requestBody": {"required": False, "content": {"application/json": {"schema": _SCHEMA}}}
    },
)
def post_site_selection(
    gate: CurrentGate,
    body: Annotated[Any, Depends(json_body)],
    base: Base,
    crs: ResponseCrsQuery,
) -> Response:
    """The search of the JSON body (checked and parsed by ``atlas.api.bodies``; none: no criteria)."""
    return _answer(gate, body, crs.crs, base)


def _answer(gate: Gate, raw: Any, crs: ApiCRS, base: str) -> Response:
    """Parse the criteria (the raw JSON or query values), search as the caller, shape the answer."""
    criteria = parse_criteria(raw, unavailable=unavailable_criteria(gate))
    cap = gate.page_cap
    if criteria.limit > cap:
        criteria = criteria.model_copy(update={"limit": cap})
    selection = select_sites(gate, criteria)
    return geojson_response(_document(selection, crs, base), crs)


def _document(selection: Selection, crs: ApiCRS, base: str) -> dict[str, Any]:
    criteria = selection.criteria
    params = criteria_params(criteria)
    if crs.uri != next(iter(SUPPORTED)):
        params.append(("crs", crs.uri))
    href = f"{base}{PATH}" + (f"?{urlencode(params)}" if params else "")
    matched = selection.passing if criteria.only_passing else selection.evaluated
    return {
        "type": "FeatureCollection",
        "features": [_feature(plot, crs) for plot in selection.plots],
        "numberMatched": matched,
        "numberReturned": len(selection.plots),
        "numberEvaluated": selection.evaluated,
        "numberPassing": selection.passing,
        "criteria": criteria.model_dump(exclude_defaults=True),
        "timeStamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "links": [
            {"href": href, "rel": "self", "type": GEOJSON, "title": "this search (GET)"},
            {
                "href": f"{base}/extracts",
                "rel": "extract",
                "type": "application/json",
                "method": "POST",
                "title": "export the plots meeting every criterion",
                "body": extract_body(selection.selected_ids),
            },
        ],
    }


def _feature(plot: RankedPlot, crs: ApiCRS) -> dict[str, Any]:
    properties = {
        "rank": plot.rank,
        "score": plot.score,
        "passed": plot.passed,
        "failed": plot.failed,
        **plot.properties,
        "criteria": [v.as_dict() for v in plot.verdicts],
    }
    return feature_document(Feature(plot.terr_id, properties, plot.geometry), crs)
