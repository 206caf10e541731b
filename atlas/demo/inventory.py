"""The CNIG Sites économiques exchange files: SITE-ECO, TERRAIN-ECO and ETABLISSEMENT CSVs.

Header = the CNIG field names (TableSchemas v2023), ``;`` separator, UTF-8, dates %Y-%m-%d,
site_creation_date %Y, booleans 'oui'/'non', geometries as GeoJSON text in EPSG:2154 like the
CNIG example (points of sites as 'lon, lat').
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from atlas.demo import business
from atlas.demo.cadastre import Parcels
from atlas.demo.formats import geometry_text, to_wgs84, write_csv
from atlas.demo.parks import SITES, STALE_SITES, Plot
from atlas.demo.territory import EPCI_NAME, EPCI_SIREN, Territory

SITE_FIELDS = (
    "site_id", "pole_id", "site_nom", "site_type", "site_vocadomi", "site_etat", "site_surf_brute",
    "site_surf_utile", "site_creation_date", "site_identif_date", "site_actu_date",
    "source_producteur", "site_description", "site_quali_territoire", "site_evol_urba", "site_url",
    "site_epci_nom", "site_epci_siren", "site_comm_nom", "site_comm_insee", "site_moa_type",
    "site_moa_nom", "site_moa_amngt", "site_moa_comm", "site_uf_nbre", "site_uf_vacant_nbre",
    "site_taux_vacance", "site_uf_bati_nbre", "site_nb_etab", "site_nb_emploi", "site_geomsurf",
    "site_geompoint", "site_media", "site_surf_comm_dispo", "site_surf_projet",
    "site_voca_industrielle", "site_voca_commerciale", "site_voca_tertiaire",
    "site_voca_artisanale", "site_voca_touristique", "site_voca_portuaire",
    "site_voca_aeroportuaire", "reseau_eau_pluviale", "reseau_eau_potable",
    "reseau_assainissement", "reseau_gaz", "reseau_electrique", "reseau_fibre_optique",
    "reseau_fret_ferroviaire", "reseau_fluvial", "desserte_tc", "desserte_route_nom",
    "autoroute_nom", "autoroute_echang_dist", "gare_nom", "gare_dist", "gare_fret_nom",
    "gare_fret_dist", "aeroport_nom", "aeroport_dist", "port_nom", "port_dist",
)  # fmt: skip
PLOT_FIELDS = (
    "terr_id", "site_id", "terr_refcad", "terr_surf_brute", "terr_utile", "terr_identif_date",
    "terr_actu_date", "terr_maitrise_fonc", "terr_stade_amngt", "terr_stade_comm",
    "terr_etat_occup", "terr_usage", "terr_url_cartofriches", "terr_geomsurf", "terr_cle_en_main",
    "terr_acquereur", "terr_cession_date", "terr_vente_montant", "terr_m2_prix",
)  # fmt: skip
ESTABLISHMENT_FIELDS = (
    "SIRET", "SIREN", "terr_id", "ban-id", "bat-id", "etab_adresse", "etab_raison_sociale",
    "etab_nat_juridique", "etab_nom", "epci_nom", "epci_siren", "comm_nom", "comm_insee",
    "etab_siege", "etab_creation_date", "etab_identif_date", "etab_actu_date", "etab_actif",
    "etab_fermeture_date", "etab_description", "etab_activite_code", "etab_activite_libelle",
    "etab_effectif_code", "etab_effectif_libelle", "etab_effectif_annee", "etab_source_info",
    "geocodage_qualite", "etab_geompoint", "etab_contact_mail", "etab_contact_tel",
    "statutDiffusionEtablissement",  # SIRENE extension, read by the tier policy
)  # fmt: skip

_SURVEY = dt.date(2024, 9, 16)  # date of the demo inventory (terr_actu_date, site_actu_date)
_VOCA_FLAGS = {
    "site_voca_industrielle": ("industrielle", "mixte", "aéroportuaire, aéronautique"),
    "site_voca_commerciale": ("commerciale",),
    "site_voca_tertiaire": ("tertiaire", "mixte"),
    "site_voca_artisanale": ("artisanale", "mixte"),
    "site_voca_aeroportuaire": ("aéroportuaire, aéronautique",),
}
# Two economic poles: Centre Essonne (Évry side) and Sénart (Seine-et-Marne side).
_POLES = {
    "91": ("Centre Essonne", "91228_POLE-ECO_00001"),
    "77": ("Sénart", "77251_POLE-ECO_00002"),
}


@dataclass
class Establishment:
    """One ETABLISSEMENT row and the plot it stands on."""

    plot: int
    row: dict[str, object]
    employees: int


def site_id(number: int) -> str:
    """CNIG id of a park: INSEE code of its commune, object type, serial."""
    return f"{SITES[number].commune}_SITE-ECO_{number + 1:05d}"


def plot_ids(plots: list[Plot]) -> list[str]:
    """CNIG ids of the plots, numbered per commune of their park."""
    return [f"{SITES[p.site].commune}_TERRAIN-ECO_{i + 1:05d}" for i, p in enumerate(plots)]


def make_establishments(
    territory: Territory, plots: list[Plot], parcels: Parcels, rng
) -> list[Establishment]:
    """1–3 establishments on each used plot, a point inside the plot."""
    used: set[str] = set()
    out: list[Establishment] = []
    for index, plot in enumerate(plots):
        state = plot.attributes["terr_etat_occup"]
        if state not in ("occupé", "occupation transitoire"):
            continue
        count = int(rng.choice([1, 2, 3], p=[0.7, 0.2, 0.1]))
        for _ in range(count):
            point = _point_inside(plot.geometry, rng)
            commune = territory.commune(str(parcels.communes[plot.parcels[0]]))
            row, employees = _establishment_row(SITES[plot.site].vocation, commune, rng, used)
            row["etab_geompoint"] = geometry_text(shapely.MultiPoint([point]))
            if state == "occupation transitoire":
                row["etab_actif"] = "non"
                row["etab_fermeture_date"] = "2024-06-30"
            out.append(Establishment(plot=index, row=row, employees=employees))
    return out


def _point_inside(geometry: shapely.Geometry, rng) -> shapely.Point:
    xmin, ymin, xmax, ymax = geometry.bounds
    inner = geometry.buffer(-5) if geometry.area > 2000 else geometry
    for _ in range(200):
        point = shapely.Point(rng.uniform(xmin, xmax), rng.uniform(ymin, ymax))
        if inner.contains(point):
            return point
    return shapely.point_on_surface(geometry)


def _establishment_row(vocation: str, commune, rng, used: set[str]) -> tuple[dict, int]:
    siren, siret = business.siren_siret(rng, used)
    raison, name, form = business.company_name(vocation, rng)
    code, label = business.NAF[vocation][int(rng.integers(len(business.NAF[vocation])))]
    band, band_label, employees = business.headcount(rng, vocation)
    created = dt.date(1975, 1, 1) + dt.timedelta(days=int(rng.integers(0, 365 * 48)))
    slug = _slug(name)
    street = business.STREETS[int(rng.integers(len(business.STREETS)))]
    row = {
        "SIRET": siret,
        "SIREN": siren,
        "etab_adresse": f"{int(rng.integers(1, 80))} {street}; {commune.postcode} {commune.name}",
        "etab_raison_sociale": raison,
        "etab_nat_juridique": form,
        "etab_nom": name,
        "epci_nom": EPCI_NAME,
        "epci_siren": EPCI_SIREN,
        "comm_nom": commune.name,
        "comm_insee": commune.code,
        "etab_siege": "oui" if rng.uniform() < 0.4 else "non",
        "etab_creation_date": created.isoformat(),
        "etab_identif_date": max(created, dt.date(2018, 3, 1)).isoformat(),
        "etab_actu_date": _SURVEY.isoformat(),
        "etab_actif": "oui",
        "etab_description": f"{label} ({name})",
        "etab_activite_code": code,
        "etab_activite_libelle": label,
        "etab_effectif_code": band,
        "etab_effectif_libelle": band_label,
        "etab_effectif_annee": "2022",
        "etab_source_info": "INSEE, répertoire SIRENE; CA Grand Paris Sud",
        "geocodage_qualite": str(
            rng.choice(
                [
                    "localisation au bâtiment",
                    "localisation à la plaque adresse",
                    "localisation à la parcelle",
                ],
                p=[0.6, 0.3, 0.1],
            )
        ),
        "etab_contact_mail": f"contact@{slug}.fr",
        "etab_contact_tel": "01 60 "
        + " ".join(f"{int(rng.integers(0, 100)):02d}" for _ in range(3)),
        # About one in ten has objected to publication (SIRENE 'P'); taken from the SIRET
        # rather than the generator, so the rest of the territory stays the same.
        "statutDiffusionEtablissement": "P" if int(siret[-4:-1]) % 10 == 3 else "O",
    }
    return row, employees


def _slug(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return "-".join(folded.split())


def write_plots(path: Path, plots: list[Plot], parcels: Parcels) -> Path:
    """The TERRAIN-ECO CSV: terr_refcad lists the parcels of each plot, '|'-joined."""
    ids = plot_ids(plots)
    rows = []
    for plot, terr_id in zip(plots, ids, strict=True):
        attrs = plot.attributes
        refcad = "|".join(sorted(str(parcels.ids[i]) for i in plot.parcels))
        values = {
            "terr_id": terr_id,
            "site_id": site_id(plot.site),
            "terr_refcad": refcad,
            "terr_surf_brute": round(plot.geometry.area / 10_000, 2),
            "terr_utile": "oui",
            "terr_identif_date": "2022-05-10",
            "terr_actu_date": _SURVEY.isoformat(),
            "terr_geomsurf": geometry_text(plot.geometry),
            **attrs,
        }
        rows.append([values.get(name) for name in PLOT_FIELDS])
    return write_csv(path, PLOT_FIELDS, rows)


def write_establishments(
    path: Path, establishments: list[Establishment], plots: list[Plot]
) -> Path:
    """The ETABLISSEMENT CSV."""
    ids = plot_ids(plots)
    rows = []
    for item in establishments:
        values = {**item.row, "terr_id": ids[item.plot]}
        rows.append([values.get(name) for name in ESTABLISHMENT_FIELDS])
    return write_csv(path, ESTABLISHMENT_FIELDS, rows)


def write_sites(
    path: Path, territory: Territory, plots: list[Plot], establishments: list[Establishment], rng
) -> Path:
    """The SITE-ECO CSV, its counts and vacancy computed from the plots (two stale, on purpose)."""
    rows = []
    for number in range(len(SITES)):
        members = [p for p in plots if p.site == number]
        if not members:
            continue
        values = _site_values(number, territory, members, establishments, plots, rng)
        rows.append([values.get(name) for name in SITE_FIELDS])
    return write_csv(path, SITE_FIELDS, rows)


def _site_values(number, territory, members, establishments, plots, rng) -> dict[str, object]:
    spec = SITES[number]
    states = [p.attributes["terr_etat_occup"] for p in members]
    vacant = sum(s in business.VACANT_STATES for s in states)
    geometry = shapely.union_all([p.geometry for p in members])
    point = to_wgs84([shapely.point_on_surface(geometry)])[0]
    indexes = {id(p) for p in members}
    etabs = [e for e in establishments if id(plots[e.plot]) in indexes]
    on_sale = [p for p in members if str(p.attributes["terr_stade_comm"]).startswith("en vente")]
    rate = int(round(100.0 * vacant / len(members)))  # CNIG declares whole percents
    commune = territory.commune(spec.commune)
    values: dict[str, object] = {
        "site_id": site_id(number),
        "pole_id": _POLES[spec.commune[:2]][1],
        "site_nom": spec.name,
        "site_type": "zone d'activité économique",
        "site_vocadomi": spec.vocation,
        "site_etat": spec.state,
        "site_surf_brute": round(geometry.area / 10_000, 1),
        "site_surf_utile": round(sum(p.geometry.area for p in members) / 10_000, 1),
        "site_creation_date": str(spec.created),
        "site_identif_date": "2022-05-10",
        "site_actu_date": _SURVEY.isoformat(),
        "source_producteur": EPCI_NAME,
        "site_description": f"{spec.name}, pôle {_POLES[spec.commune[:2]][0]}",
        "site_evol_urba": "extension urbaine"
        if spec.state == "création"
        else "renouvellement urbain",
        "site_epci_nom": EPCI_NAME,
        "site_epci_siren": EPCI_SIREN,
        "site_comm_nom": commune.name,
        "site_comm_insee": commune.code,
        "site_moa_type": "epci",
        "site_moa_nom": EPCI_NAME,
        "site_uf_nbre": len(members),
        "site_uf_vacant_nbre": vacant,
        "site_taux_vacance": rate,
        "site_uf_bati_nbre": sum(s != "inoccupé" for s in states),
        "site_nb_etab": len(etabs),
        "site_nb_emploi": sum(e.employees for e in etabs),
        "site_geomsurf": geometry_text(geometry),
        "site_geompoint": f"{point.x:.4f}, {point.y:.4f}",
        "site_surf_comm_dispo": round(sum(p.geometry.area for p in on_sale) / 10_000, 1),
        "site_surf_projet": round(geometry.area / 10_000, 1) if spec.state == "création" else 0,
        "site_voca_touristique": "non",
        "site_voca_portuaire": "non",
        "reseau_eau_potable": "oui",
        "reseau_assainissement": "oui",
        "reseau_eau_pluviale": "oui",
        "reseau_electrique": "oui",
        "reseau_gaz": "oui" if rng.uniform() < 0.8 else "non",
        "reseau_fibre_optique": "oui" if rng.uniform() < 0.9 else "non",
        "reseau_fret_ferroviaire": "non",
        "reseau_fluvial": "non",
        "desserte_tc": "oui" if spec.state != "création" else "non",
        **_access(spec.commune, rng),
    }
    for flag, vocations in _VOCA_FLAGS.items():
        values[flag] = "oui" if spec.vocation in vocations else "non"
    if spec.name in STALE_SITES:  # an old survey never updated: both figures are stale
        values["site_taux_vacance"] = STALE_SITES[spec.name]
        values["site_uf_vacant_nbre"] = int(round(STALE_SITES[spec.name] * len(members) / 100))
    return values


def _access(code: str, rng) -> dict[str, object]:
    """Road, rail and air access (A6 in Essonne, A5/N104 in Sénart; Orly airport)."""
    essonne = code.startswith("91")
    return {
        "desserte_route_nom": "N104" if not essonne else "N7",
        "autoroute_nom": "A6" if essonne else "A5",
        "autoroute_echang_dist": round(float(rng.uniform(0.5, 6.0)), 1),
        "gare_nom": "Évry-Courcouronnes" if essonne else "Lieusaint-Moissy",
        "gare_dist": round(float(rng.uniform(0.5, 5.0)), 1),
        "aeroport_nom": "Paris-Orly",
        "aeroport_dist": round(float(rng.uniform(15, 30)), 0),
        "port_nom": "Port de Corbeil-Essonnes" if essonne else "Port de Melun",
        "port_dist": round(float(rng.uniform(2, 15)), 1),
    }


def employees_total(establishments: list[Establishment]) -> int:
    """All jobs in the parks (for the report)."""
    return int(np.sum([e.employees for e in establishments]))
