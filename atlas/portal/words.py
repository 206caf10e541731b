"""The portal's words in French and English: figure labels, section titles, coded values, numbers.

Field labels the maps already show come from ``atlas.maps.labels`` (one wording per field across
the atlas); the sheets' other fields and their own words are here. Coded values of the CNIG lists
are translated for English readers; a value without a translation is shown as the source wrote it.
"""

from __future__ import annotations

import datetime as dt
import math

from atlas.maps.labels import FIELDS as MAP_FIELDS

LANGS = ("fr", "en")

# Labels of fields the maps do not show (collection-free: the names are unique to a class).
LABELS: dict[str, tuple[str, str]] = {
    "site_type": ("Type de site", "Kind of site"),
    "site_etat": ("État", "Status"),
    "site_surf_utile": ("Surface utile (ha)", "Usable area (ha)"),
    "site_nb_etab": ("Établissements", "Businesses"),
    "site_nb_emploi": ("Emplois (estimation)", "Jobs (estimate)"),
    "site_creation_date": ("Création", "Created"),
    "plots_on_market": ("Terrains à vendre", "Plots for sale"),
    "price_range": ("Prix des terrains à vendre (€/m²)", "Price of plots for sale (€/m²)"),
    "terr_usage": ("Usage", "Use"),
    "terr_surf_m2": ("Surface (m²)", "Area (m²)"),
    "price_total": ("Prix indicatif (€)", "Indicative price (€)"),
    "autoroute_nom": ("Autoroute", "Motorway"),
    "autoroute_echang_dist": ("Échangeur autoroutier (km)", "Motorway junction (km)"),
    "gare_nom": ("Gare", "Railway station"),
    "gare_dist": ("Distance à la gare (km)", "Distance to the station (km)"),
    "desserte_tc": ("Transports en commun", "Public transport"),
    "desserte_route_nom": ("Desserte routière", "Road access"),
    "reseau_eau_potable": ("Eau potable", "Drinking water"),
    "reseau_assainissement": ("Assainissement", "Sewerage"),
    "reseau_eau_pluviale": ("Eaux pluviales", "Storm drainage"),
    "reseau_gaz": ("Gaz", "Gas"),
    "reseau_electrique": ("Électricité", "Electricity"),
    "reseau_fibre_optique": ("Fibre optique", "Optical fibre"),
    "reseau_fret_ferroviaire": ("Embranchement ferroviaire", "Rail siding"),
    "heritage_perimeters": ("Périmètres de protection du patrimoine", "Heritage perimeters"),
    "heritage_monuments": (
        "Monuments historiques à moins de 500 m",
        "Historic monuments within 500 m",
    ),
    "flood": ("Zones d’aléa (PPR)", "Hazard zones (PPR)"),
    "services_total": ("Équipements à moins de 1 km", "Facilities within 1 km"),
}

TEXT: dict[str, tuple[str, str]] = {
    "figures": ("Chiffres clés", "Key figures"),
    "access": ("Accès", "Access"),
    "servicing": ("Réseaux et viabilisation", "Utilities and servicing"),
    "constraints": ("Contraintes", "Constraints"),
    "services": ("Équipements à proximité", "Nearby facilities"),
    "plot": ("Terrain", "Plot"),
    "none": ("aucun", "none"),
    "none_f": ("aucune", "none"),
    "yes": ("oui", "yes"),
    "no": ("non", "no"),
    "within": ("à {m} m", "{m} m away"),
    "on_site": ("sur place", "on site"),
    "hazard_class": ("aléa {label}", "{label} hazard"),
    # The portal's pages (atlas/api/templates/portal/).
    "home_title": ("Investir dans nos parcs d’activités", "Invest in our business parks"),
    "home_intro": (
        "Terrains disponibles, parcs d’activités, services et contraintes du territoire : "
        "une fiche par site et par terrain, à jour.",
        "Available plots, business parks, services and constraints of the territory: "
        "an up-to-date sheet for every site and plot.",
    ),
    "search_label": (
        "Chercher une commune, un parc d’activités ou un terrain",
        "Search a municipality, a business park or a plot",
    ),
    "search_placeholder": ("ex. Lisses, Écopôle, 77122…", "e.g. Lisses, Écopôle, 77122…"),
    "search": ("Chercher", "Search"),
    "search_results": ("Résultats pour « {q} »", "Results for “{q}”"),
    "search_nothing": ("Aucun résultat.", "Nothing found."),
    "territory": ("Le territoire en chiffres", "The territory in figures"),
    "n_sites": ("parcs d’activités", "business parks"),
    "area_total": ("hectares de parcs", "hectares of parks"),
    "area_available": ("hectares disponibles", "hectares available"),
    "n_plots": ("terrains à vendre", "plots for sale"),
    "vacancy_rate": ("taux de vacance", "vacancy rate"),
    "open_map": ("Ouvrir la carte interactive", "Open the interactive map"),
    "map_of_sites": ("Carte des parcs d’activités", "Map of the business parks"),
    "directory": ("Parcs d’activités", "Business parks"),
    "directory_intro": (
        "Tous les parcs d’activités du territoire ; cliquez sur un titre de colonne pour trier.",
        "Every business park of the territory; select a column heading to sort.",
    ),
    "col_name": ("Parc d’activités", "Business park"),
    "col_commune": ("Commune", "Municipality"),
    "col_vocation": ("Vocation", "Main use"),
    "col_area": ("Surface (ha)", "Area (ha)"),
    "col_available": ("Disponible (ha)", "Available (ha)"),
    "col_vacancy": ("Vacance (%)", "Vacancy (%)"),
    "col_plots": ("Terrains à vendre", "Plots for sale"),
    "chart_vacancy": ("Taux de vacance par parc (%)", "Vacancy rate by park (%)"),
    "chart_available": ("Surface disponible par parc (ha)", "Available area by park (ha)"),
    "sheet_of": ("Fiche", "Sheet"),
    "verified_on": ("Vérifié le {date}", "Verified on {date}"),
    "not_verified": ("Date de vérification inconnue", "Verification date unknown"),
    "download_pdf": ("Télécharger la fiche (PDF)", "Download the sheet (PDF)"),
    "data_json": ("Données (GeoJSON)", "Data (GeoJSON)"),
    "contact": ("Votre contact", "Your contact"),
    "map": ("Carte", "Map"),
    # The small map's text alternative (RGAA 1.3): what it draws is listed in the sheet's tables.
    "map_in_tables": (
        "Ce que montre la carte (terrains, contraintes, équipements) est détaillé dans les "
        "tableaux de la fiche.",
        "What the map shows (plots, constraints, facilities) is detailed in the sheet's tables.",
    ),
    "site": ("Parc d’activités", "Business park"),
    "sites_found": ("Parcs d’activités", "Business parks"),
    "plots_found": ("Terrains", "Plots"),
}

# CNIG code-list values (and oui/non) in English; French is the source's own wording.
VALUES_EN: dict[str, str] = {
    "oui": "yes",
    "non": "no",
    "en vente": "for sale",
    "en vente avec contraintes": "for sale with constraints",
    "non commercialisé": "not marketed",
    "non commercialisable": "not marketable",
    "vendu, commercialisation achevée": "sold",
    "réservé par option de réservation": "reserved (option)",
    "réservé par une délibération de l'EPCI": "reserved by the EPCI",
    "inoccupé": "unoccupied",
    "occupation transitoire": "temporary use",
    "occupé": "occupied",
    "vacant": "vacant",
    "friche": "brownfield",
    "inconnu": "unknown",
    "autre": "other",
    "sans objet": "not applicable",
    "industrielle": "industrial",
    "commerciale": "retail",
    "tertiaire": "offices",
    "artisanale": "craft and trades",
    "touristique": "tourism",
    "portuaire": "port",
    "aéroportuaire, aéronautique": "airport, aeronautics",
    "entrepôts, logistique": "warehousing, logistics",
    "logistique agricole": "agricultural logistics",
    "mixte": "mixed",
    "zone d'activité économique": "business park",
    "site économique historique hors ZAE": "historic business site",
    "établissement économique isolé": "isolated business",
    "zone AU à vocation économique": "area zoned for business",
    "en projet": "planned",
    "création": "being created",
    "existant et actif": "active",
    "projet de déclassement": "to be decommissioned",
    "déclassé": "decommissioned",
    "non aménageable": "not developable",
    "non aménagé, non viabilisé": "undeveloped, unserviced",
    "viabilisation en cours": "servicing under way",
    "viabilisé non aménagé": "serviced, not developed",
    "viabilisé et aménagé": "serviced and developed",
    "voirie ou infrastructure": "roads or infrastructure",
    "parkings, stationnement": "parking",
    "bâti productif": "productive buildings",
    "espace vert": "green space",
    "espace naturel ou forestier": "natural or wooded land",
    "espace agricole": "farmland",
    "dépôt, stockage": "storage",
    "commune": "municipality",
    "aménageur": "developer",
    "structure intercommunale": "inter-municipal body",
    "établissement public foncier": "public land agency",
    "investisseur professionnel": "professional investor",
}
HAZARD_CLASSES = {0: ("nul", "nil"), 1: ("faible", "low"), 2: ("moyen", "moderate"),
                  3: ("fort", "high"), 4: ("très fort", "very high")}  # fmt: skip


def _en(lang: str) -> bool:
    return lang == "en"


def label(name: str, lang: str, collection_id: str = "") -> str:
    """The label of a field: the maps' wording when they show it, else the portal's."""
    pair = MAP_FIELDS.get(collection_id, {}).get(name) or LABELS.get(name)
    # The water indicators are labelled once, on the sites; plots carry the same fields.
    pair = pair or next((f[name] for f in MAP_FIELDS.values() if name in f), None)
    if pair is None:
        raise KeyError(name)  # a field without a label is never put on a sheet
    return pair[_en(lang)]


def text(key: str, lang: str, **values: object) -> str:
    """A sentence of the sheets."""
    return TEXT[key][_en(lang)].format(**values)


def value(raw: str, lang: str) -> str:
    """A coded value in the reader's language."""
    return VALUES_EN.get(raw, raw) if _en(lang) else raw


def hazard(level: int, lang: str) -> str:
    """A hazard class's name."""
    pair = HAZARD_CLASSES.get(level)
    return pair[_en(lang)] if pair else str(level)


def number(x: float, lang: str, digits: int = 1) -> str:
    """A number as its reader writes it: ``1 234,5`` in French, ``1,234.5`` in English."""
    if not math.isfinite(x):
        return "—"
    text_ = f"{round(x, digits):,.{digits}f}"
    if "." in text_:
        text_ = text_.rstrip("0").rstrip(".")  # 118.50 -> 118.5, 5.00 -> 5
    if _en(lang):
        return text_
    # French: narrow no-break space between thousands, decimal comma.
    return text_.replace(",", "\u202f").replace(".", ",")


MONTHS = (
    ("janvier", "January"), ("février", "February"), ("mars", "March"), ("avril", "April"),
    ("mai", "May"), ("juin", "June"), ("juillet", "July"), ("août", "August"),
    ("septembre", "September"), ("octobre", "October"), ("novembre", "November"),
    ("décembre", "December"),
)  # fmt: skip


def date(day: dt.date, lang: str) -> str:
    """A date in words: ``16 septembre 2024`` / ``16 September 2024``."""
    return f"{day.day} {MONTHS[day.month - 1][_en(lang)]} {day.year}"
