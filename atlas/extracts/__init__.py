"""Governed extracts: layers written to files for the caller's own tools, through the tier gate.

A request (``request.py``) names collections, a format, an optional clip area and a target CRS.
Before anything runs, ``estimate.py`` counts through the caller's gate what the tier would get and
refuses an extract over the tier's cap. A job (``jobs.py``) then reads every collection through
the same gate (``Gate.frame(action="extract")``, which writes one audit record per collection),
cuts geometries to the clip area (``clip.py``), normalises and sorts the rows so that both stores
give the same bytes (``tables.py``), writes the format (``writers.py``) and packs it with a
metadata file, a bilingual README and the licence (``package.py``). No FastAPI here: the router
is ``atlas/api/routers/extracts.py``.
"""

from __future__ import annotations

from atlas.extracts.estimate import Estimate, ExtractTooLarge, estimate
from atlas.extracts.jobs import ExtractJobs, JobNotReady
from atlas.extracts.request import CsvGeometry, ExtractFormat, ExtractRequest

__all__ = [
    "CsvGeometry",
    "Estimate",
    "ExtractFormat",
    "ExtractJobs",
    "ExtractRequest",
    "ExtractTooLarge",
    "JobNotReady",
    "estimate",
]
