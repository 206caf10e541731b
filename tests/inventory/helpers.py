"""Reading an export back: frictionless against the published CNIG schemas, files as bytes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyogrio
from frictionless import Resource, Schema, formats

from tests.helpers import require_real_data

CLASS_FILES = ("site-eco", "terrain-eco", "etablissement")


def published_schema(name: str) -> dict:
    """The CNIG TableSchema as published (../shared/data/real/cnig-sites-economiques)."""
    path = require_real_data("cnig-sites-economiques", f"schema-{name}.json")
    return json.loads(path.read_text(encoding="utf-8"))


def validate_against_published(csv_path: Path, name: str):
    """The frictionless report of an exported CSV against the published schema of its class."""
    resource = Resource(
        path=csv_path.name,
        basepath=str(csv_path.parent),
        schema=Schema.from_descriptor(published_schema(name)),
        control=formats.CsvControl(delimiter=";"),
        encoding="utf-8",
    )
    return resource.validate()


def assert_valid(report, what: str) -> None:
    """report.valid, printing every error when it is not."""
    if not report.valid:
        for task in report.tasks:
            for error in task.errors:
                print(f"{what}: {error.type}: {error.message}")
    assert report.valid, f"{what} does not validate against the CNIG schema (errors printed)"


def read_csv(path: Path) -> pd.DataFrame:
    """A CNIG CSV as text, empty cells as ''."""
    return pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding="utf-8")


def every_text(directory: Path) -> dict[str, str]:
    """Each file of an export as text; GeoPackage layers as their attribute tables too."""
    out = {}
    for path in sorted(directory.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        text = data.decode("utf-8", errors="replace")
        if path.suffix == ".gpkg":
            for layer, _ in pyogrio.list_layers(path):
                frame = pyogrio.read_dataframe(path, layer=str(layer), read_geometry=False)
                text += "\n" + frame.to_csv(sep=";", index=False)
        out[str(path.relative_to(directory))] = text
    return out
