"""Copy the pinned front-end libraries from ``node_modules`` into the app's static vendor folder.

Run after ``npm ci --ignore-scripts`` in this directory: ``python build.py``. It copies only the
files the pages load (no source maps, no sources), each package's licence, and writes
``manifest.json`` (name, version, npm source, integrity, licence, sha256 of every copied file).
The copied files are committed: the app runs without Node, and CI's ``tests/maps`` checks the
manifest against the files on disk. The ``devDependencies`` are test assets (axe-core, which the
accessibility tests inject into pages): they go to ``tests/vendor/`` with a manifest of their own,
so the app never ships nor serves them.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent.parent / "atlas" / "api" / "static" / "vendor"
TEST_OUT = HERE.parent.parent / "tests" / "vendor"
MODULES = HERE / "node_modules"

# package -> (target folder under vendor/, files to copy relative to the package, licence files)
FILES: dict[str, tuple[str, list[str], list[str]]] = {
    "leaflet": (
        "leaflet",
        ["dist/leaflet.js", "dist/leaflet.css", "dist/images/layers.png",
         "dist/images/layers-2x.png", "dist/images/marker-icon.png",
         "dist/images/marker-icon-2x.png", "dist/images/marker-shadow.png"],
        ["LICENSE"],
    ),
    "jquery": ("jquery", ["dist/jquery.min.js"], ["LICENSE.txt"]),
    "leaflet-search": (
        "leaflet-search",
        ["dist/leaflet-search.min.js", "dist/leaflet-search.min.css", "images/loader.gif",
         "images/search-icon.png"],
        ["license.txt"],
    ),
    "leaflet.markercluster": (
        "leaflet.markercluster",
        ["dist/leaflet.markercluster.js", "dist/MarkerCluster.css",
         "dist/MarkerCluster.Default.css"],
        ["MIT-LICENCE.txt"],
    ),
    # The bundled build includes pbf, vector-tile, point-geometry, ieee754 and topojson-client:
    # their licences travel with it.
    "leaflet.vectorgrid": (
        "leaflet.vectorgrid",
        ["dist/Leaflet.VectorGrid.bundled.min.js"],
        ["README.md"],  # the package ships no LICENSE file; its README states the Beerware terms
    ),
}
# Test assets (package.json's devDependencies), copied to TEST_OUT: never served by the app.
TEST_FILES: dict[str, tuple[str, list[str], list[str]]] = {
    "axe-core": ("axe-core", ["axe.min.js"], ["LICENSE", "LICENSE-3RD-PARTY.txt"]),
}
BUNDLED = {"leaflet.vectorgrid": ["pbf", "vector-tile", "point-geometry", "ieee754",
                                  "topojson-client"]}  # fmt: skip
LICENCE_NAMES = ("LICENSE", "LICENSE.txt", "LICENSE.md", "license.txt")


def _target(package: str, rel: str, folder: str) -> str:
    # Leaflet keeps its historical flat layout (leaflet.js, images/) that the HTML pages use.
    return f"{folder}/{rel.removeprefix('dist/')}" if package == "leaflet" else f"{folder}/{rel}"


def _copy(src: Path, target: str, out: Path = OUT) -> dict[str, str]:
    dest = out / target
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    return {"path": target, "sha256": hashlib.sha256(dest.read_bytes()).hexdigest()}


def _tarball(package: str, version: str) -> str:
    return f"https://registry.npmjs.org/{package}/-/{package.split('/')[-1]}-{version}.tgz"


def _lock() -> dict:
    return json.loads((HERE / "package-lock.json").read_text())["packages"]


def _vendor(files: dict[str, tuple[str, list[str], list[str]]], out: Path) -> list[dict]:
    """Copy each package's files and licences into ``out``; its manifest entries."""
    lock = _lock()
    entries = []
    for package, (folder, rels, licences) in files.items():
        meta = json.loads((MODULES / package / "package.json").read_text())
        locked = lock[f"node_modules/{package}"]
        copied = [_copy(MODULES / package / r, _target(package, r, folder), out) for r in rels]
        notices = [_copy(MODULES / package / name, f"{folder}/{name}", out) for name in licences]
        for dep in BUNDLED.get(package, []):
            for name in LICENCE_NAMES:
                if (MODULES / dep / name).exists():
                    target = f"{folder}/licences/{dep}-{name}"
                    notices.append(_copy(MODULES / dep / name, target, out))
        entries.append(
            {
                "name": package,
                "version": meta["version"],
                "licence": meta.get("license"),
                # npm's own tarball address (the lock file may omit "resolved")
                "source": locked.get("resolved") or _tarball(package, meta["version"]),
                "integrity": locked["integrity"],
                "files": copied,
                "licence_files": notices,
            }
        )
    manifest = {"generated_by": "web/vendor/build.py", "packages": entries}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"{sum(len(e['files']) for e in entries)} files of {len(entries)} packages in {out}")
    return entries


def main() -> None:
    """Copy every file of :data:`FILES` and :data:`TEST_FILES`, and write their manifests."""
    _vendor(FILES, OUT)
    _vendor(TEST_FILES, TEST_OUT)


if __name__ == "__main__":
    main()
