"""The CNIG "Sites économiques" standard v1.0.1 (2024-10-18), declared in Python.

The standard (cnigfr/schema-sites-economiques, Licence Ouverte 2.0) answers art. L.318-8-2 of the
code de l'urbanisme (loi Climat et résilience, art. 220: the inventory of the zones d'activité
économique). It publishes one frictionless TableSchema per class; this module declares the three
classes the atlas stores — SITE-ECO, TERRAIN-ECO, ETABLISSEMENT — field by field (name, type,
required, format, pattern, code list) and rebuilds those TableSchemas from the declaration; a test
proves them equal to the published ones. The published files are never copied here.

Two traits of the published schemas are kept on purpose, because a file the CNIG validator
accepts must not be refused here:
- the code lists (site_type, terr_etat_occup, …) sit at the top level of their field, outside
  ``constraints``: the TableSchema specification does not enforce them (the CNIG's own valid
  example has ``site_etat = 'logistique'``). Readers fold spelling variants onto the listed
  value and note the values still outside; ``oui``/``non`` enums and patterns sit inside
  ``constraints`` and are enforced.
- geometries are GeoJSON text in a column (``site_geomsurf``, ``terr_geomsurf``,
  ``etab_geompoint``); that column becomes the feature's geometry, not an attribute.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from atlas.layers.base import Classification, FieldSpec

CnigType = Literal["string", "number", "integer", "date", "geojson", "geopoint"]

PUBLIC = Classification.PUBLIC
BUSINESS = Classification.BUSINESS
INTERNAL = Classification.INTERNAL
PERSONAL = Classification.PERSONAL

STANDARD = "CNIG Sites économiques v1.0.1 (TableSchema, 2024-10-18)"
MISSING_VALUES = ("", "NA", "NaN", "N/A")
URL_PATTERN = r"^(https?)://[^\s/$.?#].[^\s]*$"
# terr_refcad as published: parcel ids (commune 5 + prefixe 3 + section 2 + numero 4) joined by
# '|'. The back-reference is the CNIG's own writing; it accepts exactly "id(|id)*".
REFCAD_PATTERN = r"(?:(?:^|\|)(\d{8}[0-9A-Z]{2}\d{4}|)\1+\d{8}[0-9A-Z]{2}\d{4})+$"

OUI_NON = ("oui", "non")
_UNKNOWN = ("inconnu", "autre", "sans objet")  # v1.0.1 closes every code list with these three

SITE_TYPE = (
    "zone d'activité économique",
    "site économique historique hors ZAE",
    "établissement économique isolé",
    "zone AU à vocation économique",
) + _UNKNOWN
SITE_VOCADOMI = (
    "industrielle",
    "commerciale",
    "tertiaire",
    "artisanale",
    "touristique",
    "portuaire",
    "aéroportuaire, aéronautique",
    "entrepôts, logistique",
    "logistique agricole",
    "mixte",
) + _UNKNOWN
SITE_ETAT = (
    "en projet",
    "création",
    "existant et actif",
    "projet de déclassement",
    "déclassé",
) + _UNKNOWN
SITE_EVOL_URBA = ("extension urbaine", "renouvellement urbain", "mixte") + _UNKNOWN
SITE_MOA_TYPE = (
    "commune",
    "epci",
    "société d'économie mixte",
    "chambre de commerce et industrie",
    "Etat",
    "privé",
) + _UNKNOWN
TERR_MAITRISE_FONC = (
    "personne physique",
    "Etat",
    "région",
    "département",
    "structure intercommunale",
    "commune",
    "autre collectivité territoriale",
    "organisme de logement social",
    "établissement public foncier",
    "SEM ou SPLA",
    "aménageur",
    "investisseur professionnel",
    "établissement de santé et structure sociale",
    "établissement de tourisme et structure de loisir sportive ou cultuelle",
    "établissement industriel et commercial",
    "organisation de gestion foncière et immobilière",
    "établissement d'enseignement d'étude et de recherche",
) + _UNKNOWN
TERR_STADE_AMNGT = (
    "non aménageable",
    "non aménagé, non viabilisé",
    "viabilisation en cours",
    "viabilisé non aménagé",
    "viabilisé et aménagé",
) + _UNKNOWN
TERR_STADE_COMM = (
    "non commercialisé",
    "non commercialisable",
    "en vente",
    "en vente avec contraintes",
    "vendu, commercialisation achevée",
    "réservé par option de réservation",
    "réservé par une délibération de l'EPCI",
) + _UNKNOWN
TERR_ETAT_OCCUP = (
    "inoccupé",
    "occupation transitoire",
    "occupé",
    "vacant",
    "friche",
) + _UNKNOWN
TERR_USAGE = (
    "voirie ou infrastructure",
    "parkings, stationnement",
    "zone de retournement poids-lourds",
    "autres équipements publics",
    "bâti productif",
    "bâti résidentiel",
    "bassin d'orage ou de rétention",
    "espace vert",
    "espace naturel ou forestier",
    "espace agricole",
    "zone de service partagée entre entreprises",
    "carrières, zones d'extraction",
    "dépôt, stockage",
    "production d’énergie renouvelable",  # the typographic apostrophe is the CNIG's
) + _UNKNOWN
GEOCODAGE_QUALITE = (
    "non localisé",
    "localisation à la commune",
    "localisation au lieu-dit",
    "localisation à la rue (sans numéro)",
    "localisation à la plaque adresse",
    "localisation à la parcelle",
    "localisation au bâtiment",
) + _UNKNOWN
# Wordings of the 2023 data model (241018_MCD_SITES-ECONOMIQUES.ods) renamed in v1.0.1: a file
# made from the older model is read with the current value.
LEGACY_VALUES: dict[str, dict[str, str]] = {
    "terr_etat_occup": {"occupation en transition": "occupation transitoire"},
    "site_vocadomi": {"mixte, sans dominante": "mixte"},
}


@dataclass(frozen=True, slots=True)
class CnigField:
    """One field of a CNIG class, as the TableSchema publishes it, plus its classification."""

    name: str
    type: CnigType
    required: bool = False
    classification: Classification = PUBLIC
    description: str = ""
    format: str | None = None
    pattern: str | None = None
    enum: tuple[str, ...] | None = None
    enforced: bool = True  # False: the code list sits outside ``constraints`` (not enforced)
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class CnigClass:
    """A class of the standard: its fields in published order, its key and geometry column."""

    name: str
    schema_name: str
    fields: tuple[CnigField, ...]
    primary_key: str
    geometry_field: str
    dropped: tuple[str, ...] = ()  # published fields the atlas does not store
    layer_names: tuple[str, ...] = ()  # GeoPackage layer names that hold this class
    # Optional fields of another national standard kept when a source has them (the SIRENE
    # diffusion status); never part of the CNIG TableSchema, so exports stay valid against it.
    extensions: tuple[CnigField, ...] = ()

    def field(self, name: str) -> CnigField:
        """The field (published or extension) called ``name``; KeyError when there is none."""
        for spec in (*self.fields, *self.extensions):
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def field_names(self) -> list[str]:
        """Published field names in order, then the extensions."""
        return [f.name for f in (*self.fields, *self.extensions)]

    @property
    def stored_fields(self) -> tuple[CnigField, ...]:
        """The fields that become attributes (not the geometry column, not the dropped ones)."""
        skip = {self.geometry_field, *self.dropped}
        return tuple(f for f in (*self.fields, *self.extensions) if f.name not in skip)


def _s(name: str, required: bool = False, cls: Classification = PUBLIC, desc: str = "", **kw):
    return CnigField(name, "string", required, cls, desc, **kw)


def _n(name: str, required: bool = False, desc: str = "", unit: str | None = None, **kw):
    return CnigField(name, "number", required, kw.pop("cls", PUBLIC), desc, unit=unit, **kw)


def _d(name: str, required: bool = False, desc: str = "", fmt: str = "%Y-%m-%d", **kw):
    return CnigField(name, "date", required, kw.pop("cls", PUBLIC), desc, format=fmt, **kw)


def _code(name: str, values: tuple[str, ...], desc: str, cls: Classification = PUBLIC):
    return CnigField(name, "string", True, cls, desc, enum=values, enforced=False)


def _yes_no(name: str, desc: str, required: bool = False) -> CnigField:
    return CnigField(name, "string", required, PUBLIC, desc, enum=OUI_NON)


def _url(name: str, desc: str) -> CnigField:
    return CnigField(name, "string", False, PUBLIC, desc, pattern=URL_PATTERN)


_VOCATIONS = ("industrielle", "commerciale", "tertiaire", "artisanale", "touristique")
_NETWORKS = ("eau_pluviale", "eau_potable", "assainissement", "gaz", "electrique")

SITE_ECO = CnigClass(
    name="SITE-ECO",
    schema_name="sites-economiques-site-eco",
    primary_key="site_id",
    geometry_field="site_geomsurf",
    # The centroid in lon/lat: derived from site_geomsurf, optional, not stored.
    dropped=("site_geompoint",),
    layer_names=("site_eco", "sites_eco", "site_economique", "activity_sites"),
    fields=(
        _s("site_id", True, desc="site id"),
        _s("pole_id", True, desc="id of the economic pole the site belongs to"),
        _s("site_nom", True, desc="site name"),
        _code("site_type", SITE_TYPE, "kind of economic site"),
        _code("site_vocadomi", SITE_VOCADOMI, "dominant vocation observed"),
        _code("site_etat", SITE_ETAT, "state (project, creation, active…)"),
        _n("site_surf_brute", True, "gross area", "ha"),
        _n("site_surf_utile", True, "area meant for business premises", "ha"),
        _d("site_creation_date", desc="year the site was created", fmt="%Y"),
        _d("site_identif_date", True, "date the site was identified"),
        _d("site_actu_date", True, "date of the last update"),
        _s("source_producteur", desc="producer of the data"),
        _s("site_description", desc="free description"),
        _s("site_quali_territoire", desc="territorial label or qualification"),
        CnigField(
            "site_evol_urba",
            "string",
            description="kind of urbanisation",
            enum=SITE_EVOL_URBA,
            enforced=False,
        ),
        _url("site_url", "web page of the site"),
        _s("site_epci_nom", True, desc="EPCI in charge of the zone"),
        _s("site_epci_siren", True, desc="SIREN of that EPCI"),
        _s("site_comm_nom", True, desc="main commune"),
        _s("site_comm_insee", True, desc="INSEE code of the main commune"),
        _code("site_moa_type", SITE_MOA_TYPE, "kind of project owner"),
        # The maîtrise d'ouvrage fields name organisations (communes, EPCI, SEM, companies): public.
        _s("site_moa_nom", desc="project owner and/or manager"),
        _s("site_moa_amngt", desc="owner in charge of development"),
        # The commercialisation contact: producers write a sales officer's name here as often as
        # a company's, so it is treated as personal data (GDPR), internal and audited.
        _s("site_moa_comm", cls=PERSONAL, desc="owner in charge of commercialisation (contact)"),
        _n("site_uf_nbre", desc="number of land units (unités foncières)"),
        _n("site_uf_vacant_nbre", desc="number of vacant land units"),
        _n("site_taux_vacance", desc="vacancy rate, art. L.318-8-2 CU", unit="%"),
        _n("site_uf_bati_nbre", desc="number of built land units"),
        _n("site_nb_etab", desc="number of establishments"),
        _n("site_nb_emploi", desc="estimated number of jobs"),
        CnigField(
            "site_geomsurf", "geojson", True, description="perimeter (multi-surface, GeoJSON)"
        ),
        CnigField(
            "site_geompoint", "geopoint", description="centroid (lon, lat)", format="default"
        ),
        _url("site_media", "media (photo, video) of the site"),
        _n("site_surf_comm_dispo", desc="area available for sale", unit="ha"),
        _n("site_surf_projet", desc="area reserved for ongoing projects", unit="ha"),
        *(_yes_no(f"site_voca_{v}", f"at least one {v} activity") for v in _VOCATIONS),
        _yes_no("site_voca_portuaire", "at least one port activity"),
        _yes_no("site_voca_aeroportuaire", "at least one airport activity"),
        *(_yes_no(f"reseau_{n}", f"served by a {n.replace('_', ' ')} network") for n in _NETWORKS),
        _yes_no("reseau_fibre_optique", "served by optical fibre"),
        _yes_no("reseau_fret_ferroviaire", "rail siding (ITE)"),
        _yes_no("reseau_fluvial", "river quay"),
        _yes_no("desserte_tc", "served by public transport"),
        _s("desserte_route_nom", desc="main road access"),
        _s("autoroute_nom", desc="nearest motorway"),
        _n("autoroute_echang_dist", desc="distance to the nearest motorway junction", unit="km"),
        _s("gare_nom", desc="nearest passenger station"),
        _n("gare_dist", desc="road distance to that station", unit="km"),
        _s("gare_fret_nom", desc="nearest freight station"),
        _n("gare_fret_dist", desc="road distance to that freight station", unit="km"),
        _s("aeroport_nom", desc="nearest airport"),
        _n("aeroport_dist", desc="road distance to that airport", unit="km"),
        _s("port_nom", desc="nearest sea or river port"),
        _n("port_dist", desc="road distance to that port", unit="km"),
    ),
)

TERRAIN_ECO = CnigClass(
    name="TERRAIN-ECO",
    schema_name="sites-economiques-terrain-eco",
    primary_key="terr_id",
    geometry_field="terr_geomsurf",
    layer_names=("terrain_eco", "terrains_eco", "terrain_economique", "activity_plots"),
    fields=(
        _s("terr_id", True, desc="plot id"),
        _s("site_id", True, desc="id of the site holding the plot"),
        _s("terr_refcad", desc="cadastral parcel ids joined by '|'", pattern=REFCAD_PATTERN),
        _n("terr_surf_brute", True, "gross area", "ha"),
        _yes_no("terr_utile", "counts in the site's useful area"),
        _d("terr_identif_date", True, "date the plot was identified"),
        _d("terr_actu_date", True, "date of the last update"),
        # Land control and development stage: what an investor weighs (DESIGN: b2b).
        _code("terr_maitrise_fonc", TERR_MAITRISE_FONC, "main land control", BUSINESS),
        _code("terr_stade_amngt", TERR_STADE_AMNGT, "development stage", BUSINESS),
        _code("terr_stade_comm", TERR_STADE_COMM, "commercialisation stage"),
        _code("terr_etat_occup", TERR_ETAT_OCCUP, "occupancy state"),
        _code("terr_usage", TERR_USAGE, "use of the plot"),
        _url("terr_url_cartofriches", "Cartofriches page (brownfields)"),
        CnigField("terr_geomsurf", "geojson", True, description="plot surface (GeoJSON)"),
        _yes_no("terr_cle_en_main", "free of any appeal, ready for business"),
        # The buyer may be a natural person (GDPR): personal, internal and audited.
        _s("terr_acquereur", cls=PERSONAL, desc="buyer"),
        _d("terr_cession_date", desc="date of the sale", cls=INTERNAL),
        # A concluded sale's amount is the parties' deal: internal (DESIGN: "internal: all
        # (buyer, sale amount)"); the asking price per m² is what b2b sees.
        _n("terr_vente_montant", desc="sale amount", unit="EUR", cls=INTERNAL),
        _n("terr_m2_prix", desc="price per square metre", unit="EUR/m2", cls=BUSINESS),
    ),
)

ETABLISSEMENT = CnigClass(
    name="ETABLISSEMENT",
    schema_name="sites-economiques-etablissement",
    primary_key="SIRET",
    geometry_field="etab_geompoint",
    layer_names=("etablissement", "etablissements", "establishments"),
    fields=(
        _s("SIRET", True, desc="SIRET of the establishment"),
        _s("SIREN", True, desc="SIREN of the company"),
        _s("terr_id", True, desc="ids of the plots holding the establishment, joined by '|'"),
        _s("ban-id", desc="address id in the Base adresse nationale"),
        _s("bat-id", desc="building ids (RNB), main building first, joined by '|'"),
        _s("etab_adresse", desc="address"),
        _s("etab_raison_sociale", True, desc="legal name of the company"),
        _s("etab_nat_juridique", True, desc="INSEE legal category (level 3)"),
        _s("etab_nom", True, desc="usual name or acronym"),
        _s("epci_nom", True, desc="EPCI"),
        _s("epci_siren", True, desc="SIREN of the EPCI"),
        _s("comm_nom", True, desc="commune"),
        _s("comm_insee", True, desc="INSEE code of the commune"),
        _yes_no("etab_siege", "head office"),
        _d("etab_creation_date", True, "date the establishment was created"),
        _d("etab_identif_date", True, "date it was identified"),
        _d("etab_actu_date", True, "date of the last update"),
        _yes_no("etab_actif", "in business"),
        _d("etab_fermeture_date", desc="closing date"),
        _s("etab_description", desc="free description"),
        _s("etab_activite_code", True, desc="NAF code of the main activity"),
        _s("etab_activite_libelle", True, desc="label of the main activity"),
        _s("etab_effectif_code", True, desc="INSEE headcount band code"),
        _s("etab_effectif_libelle", True, desc="INSEE headcount band label"),
        _d("etab_effectif_annee", True, "year of the headcount band", fmt="%Y"),
        _s("etab_source_info", True, INTERNAL, desc="source(s) of the information"),
        _code("geocodage_qualite", GEOCODAGE_QUALITE, "quality of the position"),
        CnigField("etab_geompoint", "geojson", True, description="positions (MultiPoint, GeoJSON)"),
        # Business contacts: b2b sees them (DESIGN), the public does not.
        CnigField("etab_contact_mail", "string", False, BUSINESS, "contact e-mail", format="email"),
        _s("etab_contact_tel", cls=BUSINESS, desc="contact telephone"),
    ),
    extensions=(
        # SIRENE's statutDiffusionEtablissement: 'O' diffusible; 'P' partially diffusible, the
        # person objected to the publication of the establishment (art. A123-96 code de
        # commerce). The tier policy shows only 'O' establishments outside the staff.
        CnigField(
            "statutDiffusionEtablissement",
            "string",
            False,
            INTERNAL,
            "SIRENE diffusion status (O diffusible, P partially diffusible)",
            enum=("O", "P", "N"),
        ),
    ),
)

CLASSES: dict[str, CnigClass] = {c.name: c for c in (SITE_ECO, TERRAIN_ECO, ETABLISSEMENT)}


def code_lists(cnig_class: CnigClass) -> dict[str, tuple[str, ...]]:
    """The code list of every field of ``cnig_class`` that has one."""
    return {f.name: f.enum for f in cnig_class.fields if f.enum is not None}


def table_schema(cnig_class: CnigClass) -> dict[str, object]:
    """The frictionless TableSchema of the class, as the CNIG publishes it (fields, key, NA)."""
    return {
        "fields": [field_descriptor(f) for f in cnig_class.fields],
        "primaryKey": cnig_class.primary_key,
        "missingValues": list(MISSING_VALUES),
    }


def field_descriptor(spec: CnigField) -> dict[str, object]:
    """The TableSchema descriptor of one field, with the code list where the CNIG puts it."""
    out: dict[str, object] = {"name": spec.name, "description": spec.description}
    out["type"] = spec.type
    if spec.format is not None:
        out["format"] = spec.format
    constraints: dict[str, object] = {"required": spec.required}
    if spec.pattern is not None:
        constraints["pattern"] = spec.pattern
    if spec.enum is not None:
        if spec.enforced:
            constraints["enum"] = list(spec.enum)
        else:
            out["enum"] = list(spec.enum)
    out["constraints"] = constraints
    return out


_FIELD_TYPES = {"string": "string", "number": "number", "integer": "integer", "date": "date"}


def field_specs(cnig_class: CnigClass) -> tuple[FieldSpec, ...]:
    """The layer's attributes: the stored fields under their CNIG names.

    Only enforced enums (``oui``/``non``) become ``FieldSpec.enum``: conform() rejects values
    outside ``enum``, and the standard does not reject values outside its top-level code lists.
    """
    return tuple(
        FieldSpec(
            name=f.name,
            type=_FIELD_TYPES[f.type],  # type: ignore[arg-type]
            classification=f.classification,
            description=f.description,
            required=f.required,
            enum=f.enum if f.enforced else None,
            unit=f.unit,
        )
        for f in cnig_class.stored_fields
    )
