"""The staff's extracts page and the site-selection result's extract: form choices, the request
they make, and the job started through the caller's gate (``atlas.extracts``, as ``POST
/extracts`` starts it: same plan, cap, audit and job registry)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import ValidationError

from atlas.errors import InvalidInput
from atlas.extracts import ExtractJobs, ExtractRequest
from atlas.extracts.jobs import JobState
from atlas.extracts.request import CsvGeometry, ExtractFormat
from atlas.extracts.run import plan_extract, run_extract
from atlas.maps.labels import Lang
from atlas.policy.gate import Gate
from atlas.query.crs import STORAGE_URI, SUPPORTED
from atlas.selection import Selection
from atlas.selection.extract import extract_body
from atlas.settings import Settings

FORMAT_LABELS = {
    ExtractFormat.GPKG: "GeoPackage",
    ExtractFormat.SHAPEFILE: "Shapefile",
    ExtractFormat.GEOJSON: "GeoJSON",
    ExtractFormat.CSV: "CSV",
    ExtractFormat.FLATGEOBUF: "FlatGeobuf",
    ExtractFormat.GEOPARQUET: "GeoParquet",
}
CRS_LABELS = {
    STORAGE_URI: "Lambert-93 (EPSG:2154)",
    "http://www.opengis.net/def/crs/EPSG/0/3949": "CC49 (EPSG:3949)",
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84": "WGS 84 lon/lat (CRS84)",
    "http://www.opengis.net/def/crs/EPSG/0/4326": "WGS 84 (EPSG:4326)",
    "http://www.opengis.net/def/crs/EPSG/0/3857": "Web Mercator (EPSG:3857)",
}


@dataclass(frozen=True, slots=True)
class Option:
    """A choice of the form: the value posted and what the reader sees."""

    value: str
    label: str


def layer_options(gate: Gate) -> list[Option]:
    """The vector collections the caller may extract (it sees them, they hold data)."""
    return [Option(c.id, f"{c.title} ({c.count})") for c in gate.collections()]


def format_options() -> list[Option]:
    """Every extract format."""
    return [Option(f.value, FORMAT_LABELS[f]) for f in ExtractFormat]


def crs_options() -> list[Option]:
    """Every CRS of the API, Lambert-93 first (the extracts' default)."""
    ordered = sorted(SUPPORTED.items(), key=lambda item: item[0] != STORAGE_URI)
    return [Option(uri, CRS_LABELS.get(uri, code)) for uri, code in ordered]


def extract_request(form: Mapping[str, str], collections: list[str]) -> ExtractRequest:
    """The request of the extracts form (``collections``: the boxes ticked); a 400 naming the
    field when something is wrong."""
    body: dict[str, object] = {
        "collections": collections,
        "format": form.get("format") or ExtractFormat.GPKG.value,
        "crs": form.get("crs") or STORAGE_URI,
        "csv-geometry": form.get("csv_geometry") or CsvGeometry.WKT.value,
    }
    if form.get("commune", "").strip():
        body["clip"] = {"commune": form["commune"].strip()}
    return _validated(body)


def selection_request(selection: Selection, form: Mapping[str, str]) -> ExtractRequest:
    """The extract of the plots meeting every criterion (the API's ``extract`` link's body)."""
    ids = selection.selected_ids
    if not ids:
        raise InvalidInput("no plot meets every criterion: there is nothing to extract")
    body = extract_body(ids, file_format=form.get("format") or ExtractFormat.GPKG.value)
    body["crs"] = form.get("crs") or STORAGE_URI
    return _validated(body)


def _validated(body: dict[str, object]) -> ExtractRequest:
    if not body["collections"]:
        raise InvalidInput("collections: tick at least one layer")
    try:
        return ExtractRequest.model_validate(body)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "form"
        raise InvalidInput(f"{where}: {first['msg']}") from None


def start_extract(
    gate: Gate, request: ExtractRequest, jobs: ExtractJobs, settings: Settings
) -> JobState:
    """Plan (404/400 for what the tier may not have, over the cap) and queue the job."""
    plan = plan_extract(gate, request, settings)
    plan.estimate.check()

    def work(job_id, created, progress):  # noqa: ANN001, ANN202 - the registry's Work signature
        return run_extract(
            gate, plan, jobs.root / job_id, job_id=job_id, created=created, progress=progress
        )

    return jobs.submit(gate.principal, work, query=plan.query, estimate=plan.estimate.document())


STATUS_WORDS = {
    "accepted": ("en attente", "queued"),
    "running": ("en cours", "running"),
    "successful": ("terminé", "done"),
    "failed": ("échec", "failed"),
}


def status_word(status: str, lang: Lang) -> str:
    """A job status in the reader's language."""
    return STATUS_WORDS.get(status, (status, status))[lang is Lang.EN]
