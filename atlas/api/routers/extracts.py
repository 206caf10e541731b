"""Extracts: ``POST /extracts`` (a job, or its estimate), ``GET /extracts/{jobId}[/download]``.

Thin handlers over ``atlas.extracts``: the caller's gate resolves, counts and reads; the job
registry on ``app.state.extracts`` runs and keeps the files. Somebody else's job is a 404 exactly
like an unknown id.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse

from atlas.api.auth import CurrentPrincipal
from atlas.api.bodies import BODY_RESPONSES
from atlas.api.deps import BaseUrl, CurrentGate, CurrentSettings
from atlas.extracts import ExtractJobs, ExtractRequest
from atlas.extracts.jobs import JobState
from atlas.extracts.run import plan_extract, run_extract

router = APIRouter(tags=["Extracts"])

Base = BaseUrl
AppSettings = CurrentSettings
ZIP = "application/zip"
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "invalid request, or over the tier's extract cap (the estimate is said)"},
    404: {"description": "unknown collection (hidden ones alike), or unknown job"},
}


async def get_jobs(request: Request) -> ExtractJobs:
    """The job registry opened in the lifespan."""
    return request.app.state.extracts


Jobs = Annotated[ExtractJobs, Depends(get_jobs)]


@router.post(
    "/extracts",
    operation_id="createExtract",
    summary="Start an extract job (or, with dry_run, estimate it)",
    status_code=201,
    responses={
        201: {"description": "the job was accepted; Location is its status URL"},
        200: {"description": "dry_run: the estimate only"},
        429: {"description": "too many extracts of the caller are running"},
        **_ERRORS,
        **BODY_RESPONSES,
    },
)
def create_extract(
    body: ExtractRequest,
    gate: CurrentGate,
    jobs: Jobs,
    settings: AppSettings,
    base: Base,
    dry_run: Annotated[
        bool, Query(description="only count and estimate the size; nothing is read or written")
    ] = False,
) -> JSONResponse:
    """Check the request against the caller's tier and cap, then queue the job."""
    plan = plan_extract(gate, body, settings)
    if dry_run:
        return JSONResponse({"estimate": plan.estimate.document(), "query": plan.query})
    plan.estimate.check()  # over the cap: 400 before anything is read

    def work(job_id, created, progress):  # noqa: ANN001, ANN202 - the registry's Work signature
        job_dir = jobs.root / job_id
        return run_extract(gate, plan, job_dir, job_id=job_id, created=created, progress=progress)

    state = jobs.submit(gate.principal, work, query=plan.query, estimate=plan.estimate.document())
    href = f"{base}/extracts/{state.job_id}"
    return JSONResponse(
        _status_document(state, base),
        status_code=201,
        headers={"Location": href, "Cache-Control": "no-store"},
    )


@router.get(
    "/extracts/{jobId}",
    operation_id="getExtract",
    summary="Status and progress of an extract job",
    responses={404: _ERRORS[404]},
)
def get_extract(jobId: str, principal: CurrentPrincipal, jobs: Jobs, base: Base) -> JSONResponse:  # noqa: N803
    """The caller's job: status, progress, estimate, and the download link when done."""
    state = jobs.get(jobId, principal)
    return JSONResponse(_status_document(state, base), headers={"Cache-Control": "no-store"})


@router.get(
    "/extracts/{jobId}/download",
    operation_id="getExtractFile",
    summary="The extract's zip: data files, metadata.json, README, licence",
    response_class=FileResponse,
    responses={
        200: {"content": {ZIP: {}}, "description": "the archive"},
        404: _ERRORS[404],
        409: {"description": "the job has not finished, or failed"},
    },
)
def download_extract(jobId: str, principal: CurrentPrincipal, jobs: Jobs) -> FileResponse:  # noqa: N803
    """The archive of the caller's finished job."""
    path = jobs.archive(jobId, principal)
    return FileResponse(
        path, media_type=ZIP, filename=path.name, headers={"Cache-Control": "no-store"}
    )


def _status_document(state: JobState, base: str) -> dict[str, Any]:
    href = f"{base}/extracts/{state.job_id}"
    links = [{"href": href, "rel": "self", "type": "application/json"}]
    if state.status == "successful":
        links.append({"href": f"{href}/download", "rel": "enclosure", "type": ZIP})
    return {**state.document(), "links": links}
