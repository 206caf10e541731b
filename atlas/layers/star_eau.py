"""StaR-Eau (V2024) and RAEPA 1.2 code lists, and the RAEPA -> StaR-Eau mapping.

StaR-Eau, the Astee/CNIG standard for buried water networks (GT "Réseaux enterrés des eaux",
V2024), succeeds the CNIG/COVADIS RAEPA 1.2 géostandard (2015). Its code lists are published as
CSV files (``listes valeurs/listes_completes/*.csv``: code, libellé, définition); the codes and
labels the atlas needs are written here as data, and a test checks them against those files.

RAEPA codes (two digits, ``val_raepa_*`` lists of the standard) are mapped to StaR-Eau codes.
Some producers publish the finer "NN-MM" codes of a local RAEPA extension (the ARC, Compiègne,
templates from which the RAEPA field lists were confirmed): for CONTCANAEP, FNOUVAEP and
FNAPPAEP these are translated through that extension's own ``code_raepa`` column; for MATERIAU
they are not accepted (the extension's ``code_raepa`` would turn "Fonte" into "Autre").

Every attribute and the geometry of the network are ``sensitive``: network plans are critical
infrastructure whose communication the authorities may restrict (code de l'environnement
art. R.554-23 and the instruction of 2 July 2020 on sensitive network data; code des relations
entre le public et l'administration art. L.311-5 allows withholding on public-safety grounds).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from atlas.errors import InvalidInput, ValidationFailed
from atlas.layers.base import Rejection
from atlas.layers.io import find_sources, list_layers, read_vector

STAR_EAU = "StaR-Eau"
RAEPA = "RAEPA"
SOURCE_MODELS = (STAR_EAU, RAEPA)

# --- StaR-Eau V2024 code lists (code -> libellé), from listes_valeurs/<name>.csv ---------------

COM_MATERIAU: dict[str, str] = {
    "acier": "Acier",
    "amci": "Amiante-Ciment",
    "autre": "Autre",
    "ba": "Béton Armé",
    "beton": "Béton inconnu",
    "bitum": "Bitume",
    "bois": "Bois",
    "briq": "Briquetage",
    "btat": "Béton Âme Tôle",
    "btcp": "Béton Composite",
    "btfb": "Béton Fibré",
    "btna": "Béton Non Armé",
    "btpc": "Béton Précontraint",
    "btpj": "Béton Projeté",
    "cu": "Cuivre",
    "epx": "Époxy",
    "fbpj": "Fibre Projetées",
    "fbro": "Fibres Ciment",
    "fbvr": "Fibre De Verre",
    "fd": "Fonte Ductile",
    "fg": "Fonte Grise",
    "fonte": "Fonte",
    "gres": "Grès",
    "inc": "Inconnu",
    "mac": "Maçonné",
    "maca": "Maçonnerie Appareillée",
    "macna": "Maçonnerie Non Appareillée",
    "metal": "Métal Inconnu",
    "meul": "Meulière",
    "mrtc": "Mortier De Ciment",
    "pb": "Plomb",
    "pbu": "Polybutylène (PB)",
    "pe": "Polyéthylène",
    "pebd": "Pebd",
    "pehd": "Pehd",
    "pehda": "Pehd Annelé",
    "pex": "Polyéthylène Réticulé",
    "plast": "Plastique Inconnu",
    "pp": "Polypropylène",
    "ppa": "Polypropylène Annelé",
    "prv": "Plastiques Renforcé Fibres",
    "pu": "Polyester",
    "pvc": "Pvc",
    "pvca": "Pvc Annelé",
    "pvcbo": "Pvc Bi-orienté",
    "pvcc": "Pvc C",
    "rpmp": "Mortier Renforcé",
    "sgbt": "Segment De Béton",
    "tole": "Tôle Galvanisée",
    "trct": "Terre Cuite",
    "nr": "Non renseigné(e)",
}
AEP_CONTENU_CANALISATION: dict[str, str] = {
    "eau_brute": "eau brute",
    "eau_potable": "eau potable",
    "eau_impropre": "eau impropre consommation humaine",
    "non_renseigne": "non renseigné(e)",
    "non_concerne": "non concerné(e)",
    "non_valide": "non validé(e)",
    "non_determine": "non déterminé(e)",
    "autre": "autre",
}
AEP_FONCTION_CANALISATION: dict[str, str] = {
    "adduction": "adduction",
    "transport": "transport",
    "transport_distri": "transport-distribution",
    "distribution": "distribution",
    "non_renseigne": "non renseigné(e)",
    "non_concerne": "non concerné(e)",
    "non_valide": "non validé(e)",
    "non_determine": "non déterminé(e)",
    "autre": "autre",
}
COM_ETAT_SERVICE: dict[str, str] = {
    "en_service": "en service",
    "en_arret": "en arrêt",
    "abandon": "abandon",
    "en_projet": "en projet",
    "en_construction": "en construction",
    "comble": "comblé",
    "depose": "déposé",
    "non_renseigne": "non renseigné(e)",
    "non_concerne": "non concerné(e)",
    "non_valide": "non validé(e)",
    "non_determine": "non déterminé(e)",
    "autre": "autre",
}
COM_PRECISION: dict[str, str] = {
    "A": "A",
    "B": "B",
    "C": "C",
}
COM_MODE_CIRCULATION: dict[str, str] = {
    "gravitaire": "gravitaire",
    "refoulement": "refoulement",
    "sous_vide": "sous vide",
    "forcee": "forcée",
    "non_renseigne": "non renseigné(e)",
    "non_concerne": "non concerné(e)",
    "non_valide": "non validé(e)",
    "non_determine": "non déterminé(e)",
    "autre": "autre",
}
AEP_TYPE_RESERVOIR: dict[str, str] = {
    "tour": "sur tour",
    "sol": "au sol",
    "semi_enterre": "semi-enterré",
    "enterre": "enterré",
    "non_renseigne": "non renseigné(e)",
    "non_concerne": "non concerné(e)",
    "non_valide": "non validé(e)",
    "non_determine": "non déterminé(e)",
    "autre": "autre",
}
AEP_FONCTION_POMPAGE: dict[str, str] = {
    "exhaure": "eaux d'exhaure",
    "transfert": "transfert",
    "reprise": "reprise",
    "accelerateur": "accélérateur",
    "surpresseur": "surpresseur",
    "non_renseigne": "non renseigné(e)",
    "non_concerne": "non concerné(e)",
    "non_valide": "non validé(e)",
    "non_determine": "non déterminé(e)",
    "autre": "autre",
}
AEP_FONCTION_TRAITEMENT: dict[str, str] = {
    "usine": "usine",
    "chimique": "traitement d'éléments chimiques",
    "metaux": "traitement des métaux",
    "desinfection": "désinfection",
    "rechloration": "re-chloration",
    "equilibre": "maintien des équilibres",
    "non_renseigne": "non renseigné(e)",
    "non_concerne": "non concerné(e)",
    "non_valide": "non validé(e)",
    "non_determine": "non déterminé(e)",
    "autre": "autre",
}
AEP_TYPE_CAPTAGE: dict[str, str] = {
    "forage": "forage",
    "prise_eau": "prise d'eau",
    "puits": "puits",
    "non_renseigne": "non renseigné(e)",
    "non_concerne": "non concerné(e)",
    "non_valide": "non validé(e)",
    "non_determine": "non déterminé(e)",
    "autre": "autre",
}
AEP_TYPE_VANNE: dict[str, str] = {
    "quart_tour": "1/4 tour",
    "papillon": "papillon",
    "opercule": "à opercule",
    "boisseau": "à boisseau sphérique",
    "diaphragme": "à diaphragme",
    "pointeau": "à pointeau",
    "guillotine": "guillotine",
    "clapet": "clapet",
    "non_renseigne": "non renseigné(e)",
    "non_concerne": "non concerné(e)",
    "non_valide": "non validé(e)",
    "non_determine": "non déterminé(e)",
    "autre": "autre",
}
AEP_TYPE_APPAREILLAGE: dict[str, str] = {
    "ventouse": "ventouse",
    "disconnecteur": "disconnecteur",
    "filtre": "filtre",
    "chasse": "chasse manuelle/automatique",
    "boite_boue": "boite à boues",
    "purge": "purge",
    "vidange": "vidange(décharge)",
    "anti_belier": "anti-bélier",
    "anti_retour": "clapet anti-retour",
    "non_renseigne": "non renseigné(e)",
    "non_concerne": "non concerné(e)",
    "non_valide": "non validé(e)",
    "non_determine": "non déterminé(e)",
    "autre": "autre",
}
AEP_TYPE_REGULATION: dict[str, str] = {
    "stabilisateur": "stabilisateur",
    "reducteur": "réducteur",
    "limiteur": "limiteur de débit",
    "vanne_alti": "vanne altimétrique",
    "non_renseigne": "non renseigné(e)",
    "non_concerne": "non concerné(e)",
    "non_valide": "non validé(e)",
    "non_determine": "non déterminé(e)",
    "autre": "autre",
}
AEP_TYPE_POINT_MESURE: dict[str, str] = {
    "volume": "volume",
    "vitesse": "vitesse",
    "debit": "débit",
    "pression": "pression",
    "physico_chimique": "physico-chimique",
    "multiple": "multiple",
    "non_renseigne": "non renseigné(e)",
    "non_concerne": "non concerné(e)",
    "non_valide": "non validé(e)",
    "non_determine": "non déterminé(e)",
    "autre": "autre",
}

# The tables above by the CSV file they come from (the test compares each with its file).
STAR_EAU_LISTS: dict[str, dict[str, str]] = {
    "com_materiau": COM_MATERIAU,
    "aep_contenu_canalisation": AEP_CONTENU_CANALISATION,
    "aep_fonction_canalisation": AEP_FONCTION_CANALISATION,
    "com_etat_service": COM_ETAT_SERVICE,
    "com_precision": COM_PRECISION,
    "com_mode_circulation": COM_MODE_CIRCULATION,
    "aep_type_reservoir": AEP_TYPE_RESERVOIR,
    "aep_fonction_pompage": AEP_FONCTION_POMPAGE,
    "aep_fonction_traitement": AEP_FONCTION_TRAITEMENT,
    "aep_type_captage": AEP_TYPE_CAPTAGE,
    "aep_type_vanne": AEP_TYPE_VANNE,
    "aep_type_appareillage": AEP_TYPE_APPAREILLAGE,
    "aep_type_regulation": AEP_TYPE_REGULATION,
    "aep_type_point_mesure": AEP_TYPE_POINT_MESURE,
}

# StaR-Eau structure layers: type_ouvrage -> (GeoPackage layer, sub-type field, its code list).
STRUCTURE_LAYERS: dict[str, tuple[str, str, dict[str, str]]] = {
    "reservoir": ("aep_reservoir", "type_reservoir", AEP_TYPE_RESERVOIR),
    "pompage": ("aep_pompage", "fonction_pompage", AEP_FONCTION_POMPAGE),
    "traitement": ("aep_traitement", "fonction_traitement", AEP_FONCTION_TRAITEMENT),
    "captage": ("aep_captage", "type_captage", AEP_TYPE_CAPTAGE),
    "vanne": ("aep_vanne", "type_vanne", AEP_TYPE_VANNE),
    "appareillage": ("aep_appareillage", "type_appareillage", AEP_TYPE_APPAREILLAGE),
    "regulation": ("aep_regulation", "type_regulation", AEP_TYPE_REGULATION),
    "point_mesure": ("aep_point_mesure", "type_point_mesure", AEP_TYPE_POINT_MESURE),
}
STRUCTURE_TYPES = (*STRUCTURE_LAYERS, "autre")

# --- RAEPA 1.2 -> StaR-Eau ----------------------------------------------------------------------

# MATERIAU (val_raepa_materiau, 00–28 and 99) -> com_materiau. RAEPA "PVC ancien" (laid before
# 1980) and "PVC U lisse" both become StaR-Eau "pvc" (the era lives in an_pose_*); PRV series A
# and B both "prv"; "Fibre ciment" and "Fibrociment" both "fbro" ("fibres ciment ou fibro-ciment").
RAEPA_MATERIAU: dict[str, str] = {
    "00": "inc",
    "01": "acier",
    "02": "amci",
    "03": "btat",
    "04": "ba",
    "05": "btfb",
    "06": "btna",
    "07": "cu",
    "08": "fbro",
    "09": "fbvr",
    "10": "fbro",
    "11": "fd",
    "12": "fg",
    "13": "gres",
    "14": "mac",
    "15": "meul",
    "16": "pebd",
    "17": "pehda",
    "18": "pehd",
    "19": "pb",
    "20": "ppa",
    "21": "pp",
    "22": "prv",
    "23": "prv",
    "24": "pvc",
    "25": "pvcbo",
    "26": "pvca",
    "27": "pvc",
    "28": "tole",
    "99": "autre",
}
# CONTCANAEP (val_raepa_cat_canal_ae) -> aep_contenu_canalisation.
RAEPA_CONTCANAEP: dict[str, str] = {
    "00": "non_determine",
    "01": "eau_brute",
    "02": "eau_potable",
    "99": "autre",
}
# FONCCANAEP (val_raepa_fonc_canal_ae) -> aep_fonction_canalisation.
RAEPA_FONCCANAEP: dict[str, str] = {
    "00": "non_determine",
    "01": "transport",
    "02": "distribution",
    "99": "autre",
}
# MODECIRC (val_raepa_mode_circulation): RAEPA "Forcé" is defined as water pushed by pumping,
# which StaR-Eau calls "refoulement" (its "forcée" is a pipe under gravity head).
RAEPA_MODECIRC: dict[str, str] = {
    "00": "non_determine",
    "01": "gravitaire",
    "02": "refoulement",
    "03": "sous_vide",
    "99": "autre",
}
# QUALGLOCXY (val_raepa_qualite_geoloc): classes of the arrêté of 15 February 2012 (DT-DICT,
# art. 1): A <= 40 cm, B <= 1.50 m, C otherwise.
RAEPA_QUALGLOC: dict[str, str] = {"01": "A", "02": "B", "03": "C"}
# ENSERVICE is O/N: "N" is a pipe out of service for good (abandoned) in RAEPA 1.2.
RAEPA_ENSERVICE: dict[str, str] = {"O": "en_service", "N": "abandon"}
# FNOUVAEP (val_raepa_fonc_ouv_ae) -> (type_ouvrage, StaR-Eau sub-type or None, RAEPA label).
RAEPA_FNOUVAEP: dict[str, tuple[str, str | None, str]] = {
    "00": ("autre", "non_determine", "Indéterminé"),
    "01": ("pompage", None, "Station de pompage"),
    "02": ("traitement", None, "Station de traitement"),
    "03": ("reservoir", None, "Réservoir"),
    "04": ("point_mesure", "volume", "Chambre de comptage"),
    "05": ("captage", None, "Captage"),
    "99": ("autre", "autre", "Autre"),
}
# FNAPPAEP (val_raepa_fonc_app_ae) -> (type_ouvrage, StaR-Eau sub-type or None, RAEPA label).
RAEPA_FNAPPAEP: dict[str, tuple[str, str | None, str]] = {
    "00": ("appareillage", "non_determine", "Indéterminé"),
    "01": ("appareillage", "autre", "Point de branchement"),
    "02": ("appareillage", "ventouse", "Ventouse"),
    "03": ("vanne", None, "Vanne"),
    "04": ("appareillage", "vidange", "Vidange"),
    "05": ("regulation", None, "Régulateur de pression"),
    "06": ("appareillage", "autre", "Hydrant"),
    "07": ("point_mesure", "volume", "Compteur"),
    "08": ("point_mesure", "debit", "Débitmètre"),
    "99": ("appareillage", "autre", "Autre"),
}
# The ARC extension's "NN-MM" codes -> RAEPA code (its code_raepa column).
EXTENDED_CONTCANAEP = {"00-00": "00", "01-00": "01", "02-00": "02", "03-00": "99", "04-00": "99"}
EXTENDED_CONTCANAEP["99-99"] = "99"
EXTENDED_FNOUVAEP = {
    "00-00": "00",
    "01-00": "01",
    "02-00": "02",
    "03-00": "03",
    "04-00": "99",
    "04-01": "04",
    "05-00": "05",
    "06-00": "99",
    "99-99": "99",
}
EXTENDED_FNAPPAEP = {
    "00-00": "00",
    "01-00": "01",
    "02-00": "02",
    "03-00": "03",
    "04-00": "04",
    "05-00": "05",
    "06-00": "06",
    "07-00": "99",
    "07-01": "07",
    "07-02": "08",
    "07-03": "99",
    "07-99": "99",
    "99-99": "99",
}


# --- reading helpers shared by water-pipes and water-structures -------------------------------


def raepa_code(value: object, extended: dict[str, str] | None = None) -> str | None:
    """A RAEPA code as text ('1', 1 or 1.0 -> '01'); an 'NN-MM' code through ``extended``."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip().upper()
    if not text:
        return None
    if extended and text in extended:
        return extended[text]
    return text.zfill(2) if text.isdigit() and len(text) <= 2 else text


def map_codes(
    raw: pd.DataFrame,
    column: str,
    table: dict[str, str],
    bad: dict[int, str],
    *,
    extended: dict[str, str] | None = None,
) -> pd.Series:
    """``column`` mapped through ``table``; a non-empty code not in it marks its row bad."""
    if column not in raw:
        return empty_column(raw)
    out: list[str | None] = []
    for index, value in raw[column].items():
        code = raepa_code(value, extended)
        if code is not None and code not in table:
            bad.setdefault(int(index), f"{column}: '{str(value)[:20]}' is not a RAEPA 1.2 code")
        out.append(table.get(code) if code is not None else None)
    return pd.Series(out, index=raw.index, dtype=object)


def empty_column(raw: pd.DataFrame) -> pd.Series:
    """A column of missing values aligned on ``raw``."""
    return pd.Series([None] * len(raw), index=raw.index, dtype=object)


def text_column(raw: pd.DataFrame, column: str, *, lower: bool = False) -> pd.Series:
    """``column`` as stripped text (codes read as numbers lose their '.0'), or missing values."""
    if column not in raw:
        return empty_column(raw)

    def _one(value: object) -> str | None:
        if value is None or (isinstance(value, float) and value != value):
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip()
        return (text.lower() if lower else text) or None

    # A list, not Series.map: map turns an all-None result into float NaN.
    return pd.Series([_one(v) for v in raw[column]], index=raw.index, dtype=object)


def drop_bad(
    frame: gpd.GeoDataFrame, bad: dict[int, str], id_field: str, prefix: str = ""
) -> tuple[gpd.GeoDataFrame, list[Rejection]]:
    """Remove the rows marked bad; one Rejection each, labelled by row number and id."""
    rejected = []
    for index, reason in sorted(bad.items()):
        ident = frame[id_field].iloc[index] if id_field in frame else None
        label = f"{prefix}{index + 1}" + (f" ({ident})" if ident else "")
        rejected.append(Rejection(row=label, reason=reason))
    keep = [i not in bad for i in range(len(frame))]
    return frame[keep].reset_index(drop=True), rejected


def model_of(columns: list[str]) -> str:
    """Which standard a table follows, from its field names: RAEPA 1.2 or StaR-Eau."""
    upper = {str(c).upper() for c in columns}
    lower = {str(c).lower() for c in columns}
    if upper & {"IDCANA", "IDOUVRAGE", "IDAPPAREIL"}:
        return RAEPA
    if lower & {"id_canalisation", "id_noeud_reseau", "type_reseau"}:
        return STAR_EAU
    raise InvalidInput("the table follows neither StaR-Eau nor RAEPA 1.2 (no id field found)")


def read_vector_or_empty(source: Path, *, crs: str | None, layer: str | None) -> gpd.GeoDataFrame:
    """One table of a network file, rows numbered from 0."""
    return read_vector(source, crs=crs, layer=layer).reset_index(drop=True)


def read_table(source: Path, *, crs: str | None, layer: str | None) -> gpd.GeoDataFrame:
    """One table of a network file; an empty one is refused (nothing to ingest is an error)."""
    raw = read_vector_or_empty(source, crs=crs, layer=layer)
    if raw.empty:
        where = f"layer '{layer}' of '{source.name}'" if layer else f"'{source.name}'"
        raise ValidationFailed(f"{where} has no features: an empty network cannot be ingested")
    return raw


def sources(path: Path, pattern: str) -> list[Path]:
    """The network files of ``path``: the file itself, or those of a directory matching
    ``pattern`` (a RAEPA delivery holds one shapefile per class), else its single GeoPackage."""
    if path.is_file():
        return [path]
    found = find_sources(path)
    matching = [p for p in found if pattern in p.name.upper()]
    if matching:
        return matching
    packages = [p for p in found if p.suffix.lower() == ".gpkg"]
    if len(packages) == 1:
        return packages
    names = ", ".join(p.name for p in found[:5]) or "nothing"
    raise InvalidInput(f"no {pattern} table or single GeoPackage found (found: {names})")


def gpkg_layers(path: Path) -> list[str]:
    """Layer names of a GeoPackage."""
    return list_layers(path)
