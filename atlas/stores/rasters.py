"""Raster versions (elevation, slope, flood hazard classes) as COG files, for both stores.

Rasters stay files in every deployment (COGs are what rio-tiler and GDAL read best, and a
PostGIS raster would only be exported back to a file for tiling): ``<data_dir>/raster/<id>/``
holds ``v<N>.tif`` + ``v<N>.json`` and a ``CURRENT`` pointer, switched with ``os.replace``
exactly like the embedded vector store, so a killed ingest leaves the served version intact.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

from atlas.errors import EmptyCollection
from atlas.faults import checkpoint
from atlas.stores.embedded import KEEP_VERSIONS
from atlas.stores.files import atomic_write, exclusive, fsync


class RasterCatalog:
    """Versioned COG files under ``<data_dir>/raster``."""

    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir) / "raster"
        self.root.mkdir(parents=True, exist_ok=True)

    def write_version(
        self, collection_id: str, cog: Path, metadata: dict[str, Any]
    ) -> dict[str, Any]:
        """Copy ``cog`` in as the next version and make it current."""
        directory = self.root / collection_id
        directory.mkdir(parents=True, exist_ok=True)
        with exclusive(directory / ".lock"):
            for leftover in directory.glob("*.partial"):
                leftover.unlink(missing_ok=True)
            numbers = [int(p.stem[1:]) for p in directory.glob("v*.json") if p.stem[1:].isdigit()]
            version = max(numbers, default=0) + 1
            partial = directory / f"v{version}.tif.partial"
            shutil.copyfile(cog, partial)
            fsync(partial)
            final = partial.with_suffix("")
            partial.replace(final)
            meta = {
                "collection": collection_id,
                "version": version,
                "file": final.name,
                "created": dt.datetime.now(dt.UTC).isoformat(),
                **metadata,
            }
            atomic_write(directory / f"v{version}.json", json.dumps(meta, default=str))
            checkpoint("before-switch")
            atomic_write(directory / "CURRENT", json.dumps({"version": version}))
            self._prune(directory)
        return meta

    def current(self, collection_id: str) -> tuple[Path, dict[str, Any]]:
        """The current COG path and its metadata."""
        directory = self.root / collection_id
        try:
            version = json.loads((directory / "CURRENT").read_text())["version"]
        except FileNotFoundError:
            raise EmptyCollection(collection_id) from None
        meta = json.loads((directory / f"v{version}.json").read_text())
        return directory / meta["file"], meta

    def available(self) -> list[str]:
        """Raster collections with a current version."""
        return sorted(p.parent.name for p in self.root.glob("*/CURRENT"))

    @staticmethod
    def _prune(directory: Path) -> None:
        numbers = sorted(int(p.stem[1:]) for p in directory.glob("v*.json") if p.stem[1:].isdigit())
        for number in numbers[:-KEEP_VERSIONS]:
            (directory / f"v{number}.tif").unlink(missing_ok=True)
            (directory / f"v{number}.json").unlink(missing_ok=True)
