"""Planning an extract (before the job: area, output options, estimate, cap) and running it."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlas.extracts.clip import ClipArea, resolve_clip
from atlas.extracts.estimate import Estimate, check_vector_collection, estimate
from atlas.extracts.package import Extract, metadata, pack
from atlas.extracts.request import (
    ExtractRequest,
    OutputOptions,
    filter_request,
    output_options,
    request_document,
)
from atlas.extracts.tables import LayerTable, read_table
from atlas.extracts.writers import OutLayer, write_layers
from atlas.layers import catalog
from atlas.policy.filters import tier_filter
from atlas.policy.gate import Gate
from atlas.query.filters import Expression
from atlas.settings import Settings

Progress = Callable[[float, str], None]  # (percent, what is being done)


@dataclass(frozen=True)
class Plan:
    """An extract ready to run: what was asked, where, how, and how big."""

    request: ExtractRequest
    options: OutputOptions
    area: ClipArea | None
    estimate: Estimate
    filters: dict[str, Expression | None] = field(default_factory=dict)

    @property
    def query(self) -> dict[str, Any]:
        """The request as JSON."""
        return request_document(self.request)


def plan_extract(gate: Gate, request: ExtractRequest, settings: Settings) -> Plan:
    """Resolve and estimate a request for the caller; nothing is read but counts."""
    options = output_options(request)
    area = resolve_clip(request.clip, gate)
    cap = settings.caps.extract(gate.tier.value)
    for collection_id in request.collections:
        check_vector_collection(gate, collection_id)  # 404 / 400 before the filter is parsed
    asked = filter_request(request)
    filters = {cid: tier_filter(asked, gate.view(cid)) for cid in request.collections if asked}
    counted = estimate(gate, request.collections, area, request.format, cap, filters)
    return Plan(request, options, area, counted, filters)


def run_extract(
    gate: Gate, plan: Plan, job_dir: Path, *, job_id: str, created: dt.datetime, progress: Progress
) -> dict[str, Any]:
    """Read every collection through ``gate``, write, pack ``job_dir/<archive>``; a summary."""
    work = job_dir / "work"
    shutil.rmtree(work, ignore_errors=True)
    total = max(plan.estimate.total, 1)
    done = 0
    tables: list[LayerTable] = []
    for collection_id in plan.request.collections:
        progress(5 + 70 * done / total, f"reading {collection_id}")
        tables.append(read_table(gate, collection_id, plan.area, plan.filters.get(collection_id)))
        done += plan.estimate.counts.get(collection_id, 0)
    progress(75, f"writing {plan.options.format.value}")
    written = write_layers([_out_layer(t, plan.options) for t in tables], plan.options, work)
    extract = Extract(
        job_id=job_id,
        created=created,
        tier=gate.tier.value,
        request_id=gate.request_id,
        query=plan.query,
        options=plan.options,
        area=plan.area,
        tables=tables,
        written=written,
    )
    document = metadata(extract)
    progress(95, "packing")
    archive = job_dir / archive_name(job_id)
    size = pack(document, work, archive, created)
    shutil.rmtree(work, ignore_errors=True)
    return {
        "archive": archive.name,
        "bytes": size,
        "counts": {t.collection_id: len(t.frame) for t in tables},
    }


def archive_name(job_id: str) -> str:
    """The zip's file name."""
    return f"atlas-extract-{job_id}.zip"


def _out_layer(table: LayerTable, options: OutputOptions) -> OutLayer:
    layer = catalog()[table.collection_id]
    frame = table.frame if options.crs.is_storage else table.frame.to_crs(options.crs.code)
    return OutLayer(table.layer_name, layer.geometry_type, layer.id_field, frame)  # type: ignore[union-attr]
