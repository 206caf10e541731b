"""Historic monuments: Mérimée records (immeubles protégés au titre des monuments historiques).

The schema uses the field names of the Ministry of Culture's national open-data export of
Mérimée (POP, "Liste des immeubles protégés au titre des monuments historiques", as served by
data.culture.gouv.fr): ``reference``, ``titre_editorial_de_la_notice``,
``denomination_de_l_edifice``, ``commune_forme_index``, ``cog_insee_lors_de_la_protection``,
``typologie_de_la_protection``, ``date_et_typologie_de_la_protection``,
``coordonnees_au_format_wgs84``… written in lower case as that API does; the CSV's capitalised
names (``Reference``, ``COG_Insee_lors_de_la_protection``) are the same names. Older exports
use the historical Mérimée codes (``REF``, ``TICO``, ``DENO``, ``INSEE``, ``PROT``, ``DPRO``…,
prefixed ``chp`` in some municipal portals: ``chptico``, ``chpprot``…); both are accepted.

Derived fields: ``protection`` ('classé MH' when any part is classé — the stronger regime of the
code du patrimoine, art. L.621-1 — else 'inscrit MH', art. L.621-25), ``protection_partielle``
and ``date_protection`` (the first protection act; a year alone gives 1 January of that year).

A record without a Mérimée reference (some municipal extracts drop it) gets a stable synthetic
id ``ATLAS-<INSEE>-<sha1 of commune, title, denomination, address and position>``, announced in
the ingest notes: it is not a Mérimée reference and is replaced once the real one is supplied.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
import unicodedata
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from atlas.errors import InvalidInput
from atlas.layers.base import FieldSpec, ReadOptions, ReadResult, Rejection, VectorLayer
from atlas.layers.io import read_text_file, read_vector, single_source

PROTECTIONS = ("classé MH", "inscrit MH")

FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("reference", "string", required=True, description="Mérimée reference (PA…, IA…)"),
    FieldSpec("titre_editorial_de_la_notice", "string", description="usual title (old TICO)"),
    FieldSpec("autre_appellation_de_l_edifice", "string", description="other name (old APPL)"),
    FieldSpec("denomination_de_l_edifice", "string", description="type of building (old DENO)"),
    FieldSpec("commune_forme_index", "string", description="commune (old COM)"),
    FieldSpec("cog_insee_lors_de_la_protection", "string", description="INSEE code (old INSEE)"),
    FieldSpec("departement_format_numerique", "string", description="département (old DPT)"),
    FieldSpec("adresse_forme_index", "string", description="address (old ADRS)"),
    FieldSpec("lieudit", "string", description="place name (old LIEU)"),
    FieldSpec("cadastre", "string", description="cadastral references (old CADA)"),
    FieldSpec(
        "typologie_de_la_protection", "string", description="protection as published (old PROT)"
    ),
    FieldSpec("date_et_typologie_de_la_protection", "string", description="dated acts (old DPRO)"),
    FieldSpec("precision_de_la_protection", "string", description="protected parts (old PPRO)"),
    FieldSpec("nature_de_la_protection", "string", description="nature of the act (old APRO)"),
    FieldSpec(
        "siecle_de_la_campagne_principale_de_construction",
        "string",
        description="century (old SCLE)",
    ),
    FieldSpec("datation_de_l_edifice", "string", description="dates of construction (old DATE)"),
    FieldSpec("historique", "string", description="history (old HIST)"),
    FieldSpec(
        "protection", "string", enum=PROTECTIONS, description="derived: classé or inscrit MH"
    ),
    FieldSpec(
        "protection_partielle", "boolean", description="derived: only part of it is protected"
    ),
    FieldSpec("date_protection", "date", description="derived: date of the first protection act"),
)
_NAMES = [f.name for f in FIELDS]

# Old Mérimée code -> current POP name (the POP export's documentation pairs them).
_OLD_CODES: dict[str, str] = {
    "ref": "reference",
    "tico": "titre_editorial_de_la_notice",
    "appl": "autre_appellation_de_l_edifice",
    "deno": "denomination_de_l_edifice",
    "com": "commune_forme_index",
    "insee": "cog_insee_lors_de_la_protection",
    "dpt": "departement_format_numerique",
    "adrs": "adresse_forme_index",
    "lieu": "lieudit",
    "cada": "cadastre",
    "prot": "typologie_de_la_protection",
    "dpro": "date_et_typologie_de_la_protection",
    "ppro": "precision_de_la_protection",
    "apro": "nature_de_la_protection",
    "scle": "siecle_de_la_campagne_principale_de_construction",
    "date": "datation_de_l_edifice",
    "hist": "historique",
    "coorwgs84": "coordonnees_au_format_wgs84",
}
# Editorial forms stand in for the index forms when only they are present.
_FALLBACKS = {
    "commune_forme_index": "commune_forme_editoriale",
    "adresse_forme_index": "adresse_forme_editoriale",
}
_COORDS = "coordonnees_au_format_wgs84"


def read_monuments(path: Path, options: ReadOptions) -> ReadResult:
    """Read Mérimée records (GeoJSON/GPKG/SHP, or the POP CSV with WGS84 coordinates)."""
    source = single_source(path)
    if source.suffix.lower() in (".csv", ".txt"):
        raw = _read_csv(source)
    else:
        raw = read_vector(source, crs=options.crs, layer=options.layer)
    table = _normalise_columns(raw)
    geometry, rejected = _geometries(raw, table)
    rows_read = len(table)
    keep = [i for i in range(rows_read) if i not in {int(r.row) - 1 for r in rejected}]
    table = table.iloc[keep].reset_index(drop=True)
    frame = gpd.GeoDataFrame(table, geometry=[geometry[i] for i in keep], crs=geometry.crs)
    _derive(frame)
    notes = _ensure_references(frame)
    frame = gpd.GeoDataFrame(frame[[*_NAMES]], geometry=frame.geometry, crs=frame.crs)
    return ReadResult(frame=frame, rejected=rejected, notes=notes, rows_read=rows_read)


def _read_csv(source: Path) -> gpd.GeoDataFrame:
    """The POP CSV export: ``;``-separated (``|`` in older dumps), positions in a text column."""
    text = read_text_file(source)
    head = text.readline()
    text.seek(0)
    delimiter = max(";|,\t", key=head.count)
    try:
        table = pd.read_csv(
            text, sep=delimiter, dtype=str, keep_default_na=False, quoting=csv.QUOTE_MINIMAL
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InvalidInput(
            f"'{source.name}' is not a readable Mérimée CSV: {str(exc)[:120]}"
        ) from exc
    return gpd.GeoDataFrame(table, geometry=[None] * len(table), crs="EPSG:4326")


def _key(name: str) -> str:
    """A column name folded: lower case, no accents, spaces and apostrophes as underscores."""
    folded = unicodedata.normalize("NFKD", str(name))
    folded = "".join(c for c in folded if not unicodedata.combining(c)).lower().strip()
    return re.sub(r"[^a-z0-9]+", "_", folded).strip("_")


def _normalise_columns(raw: gpd.GeoDataFrame) -> pd.DataFrame:
    """Map POP names and old Mérimée codes (bare or ``chp``-prefixed) to the schema's names.

    When several source columns map to one name (a file mixing ``PROT`` and ``chpprot``), the
    first non-empty value of the row wins.
    """
    by_key: dict[str, list[str]] = {}
    for column in raw.columns:
        if column == raw.geometry.name:
            continue
        key = _key(column)
        key = _OLD_CODES.get(key.removeprefix("chp"), _OLD_CODES.get(key, key))
        by_key.setdefault(key, []).append(column)
    table = pd.DataFrame(index=raw.index)
    for name in [*_NAMES, _COORDS]:
        columns = by_key.get(name) or by_key.get(_FALLBACKS.get(name, ""), [])
        values = pd.Series([None] * len(raw), index=raw.index, dtype=object)
        for column in columns:
            # object dtype: keeps None as None (a pandas "str" column would turn it into NaN)
            found = raw[column].astype(object).map(_text)
            values = values.where(values.map(lambda v: isinstance(v, str)), found)
        table[name] = values
    return table.reset_index(drop=True)


def _text(value: object) -> str | None:
    """A cell as stripped text; lists (the POP API's multi-valued fields) joined with ' ; '."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, list | tuple):
        return " ; ".join(str(v) for v in value) or None
    text = str(value).strip()
    return text or None


def _geometries(
    raw: gpd.GeoDataFrame, table: pd.DataFrame
) -> tuple[gpd.GeoSeries, list[Rejection]]:
    """The file's points, else the WGS84 text position; rows with neither are rejected."""
    geometry = raw.geometry.reset_index(drop=True)
    crs = raw.crs
    if crs is None or geometry.isna().all():
        geometry, crs = gpd.GeoSeries([None] * len(table)), "EPSG:4326"
    rejected: list[Rejection] = []
    points = []
    for index, geom in enumerate(geometry):
        if geom is None or geom.is_empty:
            geom = _point_from_text(table[_COORDS].iloc[index])
            if geom is not None and crs != "EPSG:4326":
                geom = gpd.GeoSeries([geom], crs=4326).to_crs(crs).iloc[0]
        if geom is None:
            label = f"{index + 1}"
            rejected.append(
                Rejection(row=label, reason="no position (geometry nor WGS84 coordinates)")
            )
        points.append(geom)
    return gpd.GeoSeries(points, crs=crs), rejected


def _point_from_text(value: str | None) -> shapely.Point | None:
    """Mérimée writes WGS84 positions 'lat, lon' (the POP API: {'lon':…, 'lat':…})."""
    if not isinstance(value, str):
        return None
    numbers = re.findall(r"-?[0-9]+(?:\.[0-9]+)?", value)
    if len(numbers) != 2:
        return None
    lat, lon = float(numbers[0]), float(numbers[1])
    if "lon" in value and value.index("lon") < value.index("lat"):
        lon, lat = lat, lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return shapely.Point(lon, lat)


def _derive(frame: pd.DataFrame) -> None:
    """Add protection, protection_partielle and date_protection (in place)."""
    # PROT states the protection in force; DPRO (the dated acts) only stands in when PROT is empty.
    text = frame["typologie_de_la_protection"].where(
        frame["typologie_de_la_protection"].notna(), frame["date_et_typologie_de_la_protection"]
    )
    frame["protection"] = text.map(parse_protection)
    frame["protection_partielle"] = text.map(
        lambda t: bool(re.search(r"partiel", t, re.I)) if isinstance(t, str) else None
    )
    frame["date_protection"] = frame["date_et_typologie_de_la_protection"].map(
        first_protection_date
    )


def parse_protection(text: str | None) -> str | None:
    """'classé MH' when the text mentions a classement, 'inscrit MH' for an inscription, else None."""
    if not isinstance(text, str):
        return None
    if re.search(r"class[ée]", text, re.I):
        return "classé MH"
    if re.search(r"inscri", text, re.I):
        return "inscrit MH"
    return None


def first_protection_date(text: str | None) -> str | None:
    """The earliest date in a DPRO text ('1993/04/01 : inscrit MH ; 1995/05/10 : classé MH').

    A date that does not exist ('1925/16/07', a typing slip in the source) keeps its year only.
    """
    if not isinstance(text, str):
        return None
    dates = []
    for year, month, day in re.findall(
        r"(?<![0-9])(1[5-9][0-9]{2}|20[0-9]{2})(?:[/-]?([01][0-9])[/-]?([0-3][0-9]))?(?![0-9])",
        text,
    ):
        try:
            dates.append(dt.date(int(year), int(month or 1), int(day or 1)))
        except ValueError:
            dates.append(dt.date(int(year), 1, 1))
    return min(dates).isoformat() if dates else None


def _ensure_references(frame: pd.DataFrame) -> list[str]:
    """Fill missing references with a stable synthetic id; a note says how many."""
    frame["reference"] = frame["reference"].map(
        lambda v: v.upper().replace(" ", "") if isinstance(v, str) else None
    )
    missing = frame["reference"].isna()
    if not missing.any():
        return []
    frame.loc[missing, "reference"] = [_synthetic_id(row) for _, row in frame[missing].iterrows()]
    return [
        f"{int(missing.sum())} records had no Mérimée reference: a stable id ATLAS-<INSEE>-<hash> "
        "was built from commune, title, denomination, address and position"
    ]


def _synthetic_id(row: pd.Series) -> str:
    geom = row["geometry"]
    parts = [
        row["cog_insee_lors_de_la_protection"],
        row["titre_editorial_de_la_notice"],
        row["denomination_de_l_edifice"],
        row["adresse_forme_index"],
        f"{geom.x:.6f},{geom.y:.6f}" if geom is not None else "",
    ]
    digest = hashlib.sha1(
        "|".join(p if isinstance(p, str) else "" for p in parts).encode(), usedforsecurity=False
    )
    insee = row["cog_insee_lors_de_la_protection"]
    return f"ATLAS-{insee if isinstance(insee, str) else '00000'}-{digest.hexdigest()[:10]}"


LAYER = VectorLayer(
    collection_id="heritage-monuments",
    title="Historic monuments",
    description="Buildings protected as monuments historiques (classés, inscrits), from Mérimée.",
    geometry_type="Point",
    id_field="reference",
    fields=FIELDS,
    reader=read_monuments,
    standard="Mérimée (Ministère de la Culture, POP open-data export)",
)
