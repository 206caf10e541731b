"""Communes: the national administrative boundaries, one MultiPolygon per current commune.

Fields keep the names of IGN ADMIN EXPRESS 4 (the BD TOPO vocabulary, 2025 onward):
``code_insee`` (the id), ``nom_officiel``, ``code_insee_du_departement``,
``code_insee_de_la_region``, ``codes_siren_des_epci`` (several joined by ``/``, as ADMIN EXPRESS
writes them), ``code_siren`` and ``population`` (population municipale); ``merged_codes`` names
the former codes whose polygons this ingest merged into the commune.

The reader takes any of the national files, recognised by their columns:

- IGN ADMIN EXPRESS (Shapefile or GeoPackage ``commune`` layer): the upper-case names of the
  2.x/3.x editions (``INSEE_COM``, ``NOM``, ``INSEE_DEP``, ``INSEE_REG``, ``SIREN_EPCI``,
  ``POPULATION``) or the lower-case ones of 4.x (``code_insee``, ``nom_officiel``…);
- the Etalab *contours administratifs* communes (``code``, ``nom``, ``departement``, ``region``,
  ``epci``) and the france-geojson communes (``code``, ``nom``);
- a file with a ``code_YYYY`` column (the code in that year's COG beside the file's own ``code``).

Given a directory or an archive, it picks the communes file among the boundary files of a
delivery (not the cantons, arrondissements, départements, EPCI, chefs-lieux or delegated
communes) and reads the Etalab *découpage administratif* tables lying beside it (atlas.layers.cog):
then every polygon is named by its current commune, parts sharing a current code are merged
(Courcouronnes 91182 into Évry-Courcouronnes 91228), and name, département, région, EPCI and
population come from the COG. Without the tables, a merge only follows a ``code_YYYY`` column,
and a merged commune's population is left empty (its parts' figures predate the merger).
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from atlas.errors import InvalidInput
from atlas.layers import cog as cog_tables
from atlas.layers.base import FieldSpec, ReadOptions, ReadResult, Rejection, VectorLayer
from atlas.layers.io import find_sources, list_layers, read_vector

CODE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("code_insee", "string", required=True, description="INSEE code of the commune (COG)"),
    FieldSpec("nom_officiel", "string", required=True, description="official name of the commune"),
    FieldSpec("code_insee_du_departement", "string", description="INSEE code of its département"),
    FieldSpec("code_insee_de_la_region", "string", description="INSEE code of its région"),
    FieldSpec(
        "codes_siren_des_epci",
        "string",
        description="SIREN of its EPCI à fiscalité propre ('/' between several)",
    ),
    FieldSpec("code_siren", "string", description="SIREN of the commune itself"),
    FieldSpec("population", "integer", description="population municipale (INSEE, legal)"),
    FieldSpec(
        "merged_codes",
        "string",
        description="former INSEE codes whose polygons were merged into this commune ('/')",
    ),
)
# Source column names by field, lower-cased: ADMIN EXPRESS 4, then 2.x/3.x, then Etalab.
_ALIASES: dict[str, tuple[str, ...]] = {
    "code_insee": ("code_insee", "insee_com", "code", "codgeo", "insee"),
    "nom_officiel": ("nom_officiel", "nom", "nom_com", "libgeo", "name"),
    "code_insee_du_departement": ("code_insee_du_departement", "insee_dep", "departement", "dep"),
    "code_insee_de_la_region": ("code_insee_de_la_region", "insee_reg", "region", "reg"),
    "codes_siren_des_epci": ("codes_siren_des_epci", "siren_epci", "epci", "epci_siren"),
    "code_siren": ("code_siren", "siren"),
    "population": ("population",),
}
_CURRENT_CODE = re.compile(r"^code_(\d{4})$")  # e.g. code_2026: the code in that COG
# Other boundary files of a delivery whose names say "commune" (CHFLIEU_COMMUNE, the delegated).
_NOT_COMMUNES: tuple[str, ...] = (
    "associe", "delegue", "arrondissement", "canton", "departement", "region", "epci", "chf", "chef",
)  # fmt: skip
_NONE = {"", "NR", "nan", "None"}  # ADMIN EXPRESS writes NR (non renseigné)


def read_communes(path: Path, options: ReadOptions) -> ReadResult:
    """Read commune boundaries (ADMIN EXPRESS, Etalab, france-geojson) into the communes schema."""
    source, tables = _sources(path)
    raw = read_vector(source, crs=options.crs, layer=options.layer or _layer(source))
    raw = raw.reset_index(drop=True)
    columns = _columns(raw, source)
    cog = cog_tables.read_cog(tables) if tables else None
    codes = _codes(raw[columns["code_insee"]])
    bad = ~codes.map(lambda c: bool(CODE.match(c)))
    rejected = [
        Rejection(row=str(i + 1), reason=f"'{codes[i][:12]}' is not an INSEE commune code")
        for i in codes.index[bad]
    ]
    raw, codes = raw[~bad], codes[~bad]
    current = _codes(raw[columns["current"]]) if "current" in columns else codes.copy()
    if cog is not None:
        current = current.map(cog.current)
    frame, merged = _merge(raw, columns, codes, current, cog)
    notes = [f"read {source.name}"]
    if cog is not None:
        notes.append(f"named after the découpage administratif ({', '.join(cog.sources)})")
    if merged:
        notes.append(f"former codes merged into their current commune: {', '.join(merged[:10])}")
    return ReadResult(frame=frame, rejected=rejected, notes=notes, rows_read=len(bad))


def _sources(path: Path) -> tuple[Path, list[Path]]:
    """The boundary file and the COG tables of a file, directory or unpacked archive."""
    if path.is_file():
        return path, []
    found = find_sources(path)
    tables = [p for p in found if cog_tables.is_table(p)]
    vectors = [p for p in found if p not in tables]
    if len(vectors) > 1:
        vectors = [p for p in vectors if _names_communes(p.stem)] or vectors
    if not vectors:
        raise InvalidInput("no boundary file (.geojson, .json, .gpkg, .shp, .fgb) found")
    if len(vectors) > 1:
        names = ", ".join(p.name for p in vectors[:5])
        raise InvalidInput(f"several commune files found ({names}); give one of them")
    return vectors[0], tables


def _names_communes(stem: str) -> bool:
    folded = stem.lower().replace("é", "e")
    return "commune" in folded and not any(word in folded for word in _NOT_COMMUNES)


def _layer(source: Path) -> str | None:
    """A GeoPackage's ``commune`` layer when it holds several (ADMIN EXPRESS 4 has ten)."""
    if source.suffix.lower() != ".gpkg":
        return None
    names = list_layers(source)
    if len(names) <= 1:
        return None
    chosen = [n for n in names if n.lower() in ("commune", "communes")]
    if not chosen:
        raise InvalidInput(
            f"'{source.name}' holds several layers and none is 'commune': give one with --layer"
        )
    return chosen[0]


def _columns(raw: gpd.GeoDataFrame, source: Path) -> dict[str, str]:
    """Field name -> source column, for the fields the file has."""
    lower = {str(c).lower(): str(c) for c in raw.columns if c != raw.geometry.name}
    out = {
        name: next(lower[a] for a in aliases if a in lower)
        for name, aliases in _ALIASES.items()
        if any(a in lower for a in aliases)
    }
    years = sorted(c for c in lower if _CURRENT_CODE.match(c))
    if years:
        out["current"] = lower[years[-1]]
    if "code_insee" not in out:
        expected = ", ".join(_ALIASES["code_insee"][:3])
        raise InvalidInput(f"'{source.name}' has no INSEE code column (one of {expected})")
    return out


def _codes(values: pd.Series) -> pd.Series:
    """INSEE codes as text; a number column (a DBF may type them) padded to five digits."""
    text = values.map(lambda v: "" if v is None or v != v else str(v).strip())
    return text.map(lambda c: c.zfill(5) if c.isdigit() and len(c) < 5 else c)


def _merge(
    raw: gpd.GeoDataFrame,
    columns: dict[str, str],
    codes: pd.Series,
    current: pd.Series,
    cog: cog_tables.Cog | None,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """One row per current code: its parts' union, attributes from the COG or its own row."""
    rows, geometries, merged = [], [], []
    for code, index in current.groupby(current, sort=True).groups.items():
        parts = raw.loc[index]
        own = codes.loc[index]
        main = parts[own == code].iloc[0] if (own == code).any() else parts.iloc[0]
        former = sorted(set(own) - {code})
        merged += [f"{f} → {code}" for f in former]
        rows.append(_attributes(str(code), main, columns, cog, merged=former))
        if len(former) and cog is None:
            rows[-1]["population"] = None  # the parts' figures predate the merger
        geometries.append(
            parts.geometry.iloc[0]
            if len(parts) == 1
            else shapely.union_all(shapely.make_valid(parts.geometry.to_numpy()))
        )
    frame = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=[f.name for f in FIELDS]),
        geometry=gpd.GeoSeries(geometries, crs=raw.crs),
    )
    return frame, merged


def _attributes(
    code: str,
    row: pd.Series,
    columns: dict[str, str],
    cog: cog_tables.Cog | None,
    *,
    merged: list[str],
) -> dict[str, object]:
    def own(name: str) -> object:
        value = row[columns[name]] if name in columns else None
        return None if value is None or value != value or str(value).strip() in _NONE else value

    known = cog.communes.get(code) if cog is not None else None
    epci = cog.epci.get(code) if cog is not None else None
    departement = own("code_insee_du_departement") or _departement(code)
    return {
        "code_insee": code,
        "nom_officiel": known.nom if known else own("nom_officiel"),
        "code_insee_du_departement": known.departement if known else departement,
        "code_insee_de_la_region": known.region if known else own("code_insee_de_la_region"),
        "codes_siren_des_epci": epci or own("codes_siren_des_epci"),
        "code_siren": known.siren if known else own("code_siren"),
        "population": known.population if known else own("population"),
        "merged_codes": "/".join(merged) or None,
    }


def _departement(code: str) -> str:
    """The département of an INSEE commune code: 3 characters overseas (971…), else 2."""
    return code[:3] if code.startswith("97") else code[:2]


LAYER = VectorLayer(
    collection_id="communes",
    title="Communes",
    description="Administrative boundaries of the communes (IGN ADMIN EXPRESS, Etalab, INSEE COG).",
    geometry_type="MultiPolygon",
    id_field="code_insee",
    fields=FIELDS,
    reader=read_communes,
    standard="IGN ADMIN EXPRESS 4 (commune), INSEE Code officiel géographique",
)
