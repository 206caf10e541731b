"""``GET /inventory/export``: the ZAE inventory (art. L.318-8-2 CU) as a zip, for the staff only.

A public or b2b caller gets exactly what an unknown path gets — FastAPI's own 404, status and
body ``{"detail": "Not Found"}`` — so the route tells them nothing. The tier is checked before
anything else the request carries (``mode`` is parsed afterwards), so that no parameter makes
the answer differ; only what every route does first (authentication, rate limit) can.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from atlas.api.deps import CurrentGate
from atlas.errors import InvalidInput
from atlas.inventory import inventory_zip
from atlas.policy.tiers import Tier

router = APIRouter(tags=["Inventory"])

MODES = ("publication", "internal")
ZIP = "application/zip"


@router.get(
    "/inventory/export",
    operation_id="getInventoryExport",
    summary="The ZAE inventory in the CNIG Sites économiques format (staff only)",
    response_class=Response,
    responses={
        200: {"content": {ZIP: {}}, "description": "CSVs, GeoPackage, datapackage, reports"},
        404: {"description": "not found (what any caller but the staff gets)"},
    },
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
    if gate.tier != Tier.INTERNAL:
        raise HTTPException(status_code=404)  # FastAPI's answer to an unknown path
    if mode not in MODES:
        raise InvalidInput(f"mode: '{mode[:40]}' is not one of {', '.join(MODES)}")
    data, filename = inventory_zip(gate, publish=mode == "publication")
    return Response(
        content=data,
        media_type=ZIP,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
