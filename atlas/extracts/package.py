"""What travels with the data: metadata.json, a README in French and English, the licence, a zip.

Licence per layer: a layer whose every field and geometry are public (classification ``public``)
is open data, Licence Ouverte / Open Licence 2.0 (Etalab); any other layer carries what only
partners or staff may see (prices, owners, the water network) and is marked "usage interne,
diffusion interdite" (internal use only, no redistribution), with the reason.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atlas import __version__
from atlas.extracts.clip import SEMANTICS, ClipArea
from atlas.extracts.request import ExtractFormat, OutputOptions
from atlas.extracts.tables import LayerTable
from atlas.extracts.writers import Written
from atlas.layers import catalog
from atlas.layers.base import Classification

ETALAB = "Licence Ouverte / Open Licence version 2.0 (Etalab)"
ETALAB_URL = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
INTERNAL = "usage interne, diffusion interdite"
METADATA = "metadata.json"
README = "LISEZMOI-README.txt"
LICENCE = "LICENCE.txt"
CLIPPED_FR = (
    "Objets retenus : ceux qui intersectent la zone ; lignes et polygones découpés à la zone"
    " (les objets qui n'en touchent que le bord sont écartés), points conservés tels quels."
)
CLIPPED_EN = (
    "Features kept: those intersecting the area; lines and polygons cut to it (features that"
    " only touch its boundary are left out), points kept as they are."
)
# What atlas.extracts.writers.neutralised does to CSV cells (OWASP "CSV Injection").
FORMULAS_FR = (
    "CSV : un texte qui commence par = + - @, une tabulation ou un retour chariot est écrit"
    " précédé d'une apostrophe ('), pour qu'un tableur ne l'exécute pas comme une formule ;"
    " retirez-la si votre outil n'interprète pas les formules. Les nombres restent des nombres."
)
FORMULAS_EN = (
    "CSV: a text starting with = + - @, a tab or a carriage return is written with a leading"
    " apostrophe ('), so that a spreadsheet does not run it as a formula; remove it if your tool"
    " does not evaluate formulas. Numbers stay numbers."
)


@dataclass(frozen=True)
class Extract:
    """Everything the metadata says about one extract."""

    job_id: str
    created: dt.datetime
    tier: str
    request_id: str
    query: dict[str, Any]
    options: OutputOptions
    area: ClipArea | None
    tables: list[LayerTable]
    written: Written


def licence(table: LayerTable) -> dict[str, Any]:
    """The licence of one layer as the tier received it (open, or internal use only and why)."""
    layer = catalog()[table.collection_id]
    kinds = {f.classification for f in table.view.fields}
    if table.view.geometry != "absent":
        kinds.add(layer.geometry_classification)  # type: ignore[union-attr]
    if kinds <= {Classification.PUBLIC}:
        return {"id": "etalab-2.0", "name": ETALAB, "url": ETALAB_URL}
    reasons = []
    if Classification.PERSONAL in kinds:
        reasons.append("données à caractère personnel (RGPD) / personal data (GDPR)")
    if Classification.SENSITIVE in kinds:
        reasons.append("réseau sensible (infrastructure critique) / sensitive network")
    if kinds & {Classification.BUSINESS, Classification.INTERNAL}:
        reasons.append("données non publiques / non-public data")
    return {"id": "internal", "name": INTERNAL, "reasons": reasons}


def metadata(extract: Extract) -> dict[str, Any]:
    """The metadata.json document."""
    options = extract.options
    return {
        "atlas_version": __version__,
        "job": extract.job_id,
        "request_id": extract.request_id,
        "created": extract.created.isoformat(timespec="seconds"),
        "tier": extract.tier,
        "query": extract.query,
        "format": options.format.value,
        "crs": {"code": options.crs.code, "uri": options.crs.uri},
        "axis_order": "x = easting or longitude, y = northing or latitude (GIS order)",
        "clip": extract.area.document() if extract.area is not None else None,
        "layers": [_layer_document(t, extract.written) for t in extract.tables],
        "files": extract.written.files,
        "notes": _notes(extract),
    }


def _layer_document(table: LayerTable, written: Written) -> dict[str, Any]:
    layer = catalog()[table.collection_id]
    renamed = written.renamed.get(table.layer_name, {})
    return {
        "collection": table.collection_id,
        "layer": table.layer_name,
        "title": table.info.title,
        "standard": layer.standard,  # type: ignore[union-attr]
        "source_version": table.info.version,
        "source_updated": table.info.updated.isoformat(timespec="seconds"),
        "features": len(table.frame),
        "features_read": table.read,
        "geometry_type": table.info.geometry_type,
        "geometry": table.view.geometry
        + (f" ({table.view.tolerance_m:g} m)" if table.view.geometry == "generalised" else ""),
        "id_field": layer.id_field,  # type: ignore[union-attr]
        "fields": [
            {
                "name": f.name,
                "type": f.type,
                **({"file_name": renamed[f.name]} if f.name in renamed else {}),
            }
            for f in table.view.fields
        ],
        "licence": licence(table),
    }


def _notes(extract: Extract) -> list[str]:
    notes = list(extract.written.notes)
    fmt = extract.options.format
    if extract.area is not None:
        notes.append(f"clip: {SEMANTICS}")
    if fmt == ExtractFormat.SHAPEFILE:
        notes.append(
            "Shapefile: field names cut to 10 characters (the 'file_name' of each field);"
            " text longer than 254 bytes is cut; encoding UTF-8 (.cpg)"
        )
    if fmt == ExtractFormat.CSV:
        notes.append(
            "CSV: UTF-8, comma-separated, types in .csvt; open the .vrt with GDAL/QGIS to get"
            " the geometry and CRS; text starting with = + - @, tab or CR prefixed with '"
            " (formula injection)"
            + (
                "; x/y of lines and polygons are a point on their surface"
                if extract.query.get("csv-geometry") == "xy"
                else ""
            )
        )
    if fmt == ExtractFormat.FLATGEOBUF:
        notes.append("FlatGeobuf: rows in the order of the spatial index (Hilbert curve)")
    notes.append("rows sorted by the id field, columns in the standard's order")
    return notes


def readme(document: dict[str, Any]) -> str:
    """LISEZMOI-README.txt: the extract in French, then in English."""
    layers = document["layers"]
    lines_fr = [
        f"  - {x['layer']} : {x['features']} objets, licence : {x['licence']['name']}"
        for x in layers
    ]
    lines_en = [
        f"  - {x['layer']}: {x['features']} features, licence: {x['licence']['name']}"
        for x in layers
    ]
    clip = document["clip"]
    where_fr = f"découpé sur : {_clip_words(clip)}" if clip else "sans découpage"
    where_en = f"clipped to: {_clip_words(clip)}" if clip else "not clipped"
    crs = document["crs"]["code"]
    return "\n".join(
        [
            f"Extrait Atlas {document['job']} — {document['created']}",
            "",
            f"Format {document['format']}, système de coordonnées {crs}, niveau d'accès"
            f" « {document['tier']} », {where_fr}.",
            "Couches :",
            *lines_fr,
            *([CLIPPED_FR] if clip else []),
            *([FORMULAS_FR] if document["format"] == ExtractFormat.CSV else []),
            f"Tout est décrit dans {METADATA} (version des sources, champs, requête) ; les"
            f" conditions de réutilisation sont dans {LICENCE}.",
            "",
            "-" * 72,
            "",
            f"Atlas extract {document['job']} — {document['created']}",
            "",
            f"Format {document['format']}, coordinate reference system {crs}, access tier"
            f" '{document['tier']}', {where_en}.",
            "Layers:",
            *lines_en,
            *([CLIPPED_EN] if clip else []),
            *([FORMULAS_EN] if document["format"] == ExtractFormat.CSV else []),
            f"{METADATA} describes everything (source versions, fields, query); {LICENCE}"
            " says how the data may be reused.",
            "",
        ]
    )


def licence_text(document: dict[str, Any]) -> str:
    """LICENCE.txt: which layers are open data, which are for internal use only."""
    open_layers = [x["layer"] for x in document["layers"] if x["licence"]["id"] == "etalab-2.0"]
    internal = [x for x in document["layers"] if x["licence"]["id"] != "etalab-2.0"]
    lines: list[str] = []
    if open_layers:
        lines += [
            f"{ETALAB} — {ETALAB_URL}",
            f"Couches / layers: {', '.join(open_layers)}",
            "Réutilisation libre, y compris commerciale, sous réserve de mentionner la source"
            " de l'information et la date de sa dernière mise à jour.",
            "Free reuse, commercial included, provided the source of the information and the"
            " date of its last update are mentioned.",
            f"Source : Atlas, {document['created'][:10]}; mises à jour des couches dans {METADATA}.",
            "",
        ]
    for layer in internal:
        reasons = "; ".join(layer["licence"]["reasons"])
        lines += [
            f"{layer['layer']} : USAGE INTERNE, DIFFUSION INTERDITE ({reasons}).",
            f"{layer['layer']}: INTERNAL USE ONLY, NO REDISTRIBUTION ({reasons}).",
            "",
        ]
    if any("RGPD" in r for x in internal for r in x["licence"]["reasons"]):
        lines.append(
            "Données personnelles : traitement limité à la finalité de la demande (RGPD art. 5),"
            " extraction journalisée. Personal data: use limited to the request's purpose,"
            " the extract is logged."
        )
    return "\n".join(lines).rstrip() + "\n"


def pack(document: dict[str, Any], data_dir: Path, archive: Path, created: dt.datetime) -> int:
    """Write the zip (data files, metadata, README, licence) atomically; its size in bytes."""
    stamp = created.astimezone(dt.UTC).timetuple()[:6]
    texts = {
        METADATA: json.dumps(document, ensure_ascii=False, indent=2) + "\n",
        README: readme(document),
        LICENCE: licence_text(document),
    }
    partial = archive.with_name(archive.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name, text in texts.items():
            zf.writestr(_entry(name, stamp), text.encode("utf-8"))
        for name in document["files"]:
            entry = _entry(name, stamp)
            with (
                open(data_dir / name, "rb") as source,
                zf.open(entry, "w", force_zip64=True) as out,
            ):
                shutil.copyfileobj(source, out, 1 << 20)
    partial.replace(archive)
    return archive.stat().st_size


def _entry(name: str, stamp: tuple[int, ...]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)  # type: ignore[arg-type]
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _clip_words(clip: dict[str, Any]) -> str:
    kind = clip["kind"]
    if kind == "commune":
        named = f"{clip['commune']} {clip['name']}" if clip.get("name") else clip["commune"]
        return f"commune {named} ({clip['boundaries']})"
    if kind == "site":
        return f"site {clip['site']}"
    if kind == "bbox":
        return f"bbox {clip['bbox']} ({clip['crs']})"
    return f"polygon ({clip['crs']})"
