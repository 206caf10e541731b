"""``GET /inventory/export``: the ZAE inventory (art. L.318-8-2 CU) as a zip, for the staff only.

A public or b2b caller gets exactly what an unknown path gets — the router's own 404, raised as
the same exception, status, headers and body ``{"code": "NotFound", …}`` alike — so the route
tells them nothing, whatever the method (the other methods have a route of their own here, or
they would answer 405 where an unknown path answers 404), and the OpenAPI document they receive
does not list it (``callable_by``): who may is a grant of the policy (``atlas.policy.grants``). The tier is checked before anything else the request carries
(``mode`` is parsed afterwards), so that no parameter makes the answer differ; only what every
route does first (authentication, rate limit) can.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from atlas.api.deps import CurrentGate
from atlas.api.openapi import callable_by
from atlas.errors import InvalidInput
from atlas.inventory import inventory_zip
from atlas.policy.grants import Operation, granted_tiers

router = APIRouter(tags=["Inventory"])

MODES = ("publication", "internal")
ZIP = "application/zip"
PATH = "/inventory/export"
EXPORT = Operation.INVENTORY_EXPORT  # granted to the staff only (atlas.policy.grants)
OTHER_METHODS = ["HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]  # FastAPI: GET only


@router.get(
    PATH,
    operation_id="getInventoryExport",
    summary="The ZAE inventory in the CNIG Sites économiques format (staff only)",
    response_class=Response,
    responses={
        200: {"content": {ZIP: {}}, "description": "CSVs, GeoPackage, datapackage, reports"},
        404: {"description": "not found (what any caller but the staff gets)"},
    },
    openapi_extra=callable_by(*granted_tiers(EXPORT)),
)
def export_inventory(
    gate: CurrentGate,
    mode: Annotated[
        str,
        Query(
            description="publication: personal data anonymised, non-diffusible businesses "
            "removed; internal: everything",
            json_schema_extra={"enum": list(MODES)},
        ),
    ] = "publication",
) -> Response:
    """The CNIG CSVs, GeoPackage, datapackage and reports, validated, as one zip."""
    if not gate.granted(EXPORT):
        raise HTTPException(status_code=404)  # the router's answer to an unknown path
    if mode not in MODES:
        raise InvalidInput(f"mode: '{mode[:40]}' is not one of {', '.join(MODES)}")
    data, filename = inventory_zip(gate, publish=mode == "publication")
    return Response(
        content=data,
        media_type=ZIP,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.api_route(PATH, methods=OTHER_METHODS, include_in_schema=False)
def other_methods(gate: CurrentGate) -> None:
    """The staff get the router's 405; anyone else what an unknown path answers to any method."""
    if not gate.granted(EXPORT):
        raise HTTPException(status_code=404)
    raise HTTPException(status_code=405, headers={"Allow": "GET"})
