"""What a map reader sees instead of the national standards' field names, in French and English.

The data keeps the CNIG / StaR-Eau / Mérimée / BPE names (exports stay valid against those
standards); a map shows people a label. Only the fields a map shows are here: a map asks the
gate for exactly these, and a field without a label is never put on a map (tested).
"""

from __future__ import annotations

import enum


class Lang(enum.StrEnum):
    """The languages of a map: French first (the agglomeration's), English for investors."""

    FR = "fr"
    EN = "en"


# collection -> field -> (French, English), in the order a popup lists them.
FIELDS: dict[str, dict[str, tuple[str, str]]] = {
    "activity-sites": {
        "site_nom": ("Parc d’activités", "Business park"),
        "site_comm_nom": ("Commune", "Municipality"),
        "site_vocadomi": ("Vocation dominante", "Main use"),
        "site_surf_brute": ("Surface (ha)", "Area (ha)"),
        "site_surf_comm_dispo": ("Surface disponible (ha)", "Available area (ha)"),
        "site_uf_nbre": ("Unités foncières", "Land units"),
        "site_uf_vacant_nbre": ("Unités foncières vacantes", "Vacant land units"),
        "site_taux_vacance": ("Taux de vacance (%)", "Vacancy rate (%)"),
        "eau_dn_classe": ("Conduite d’eau potable la plus proche", "Nearest water main"),
        "eau_distance_bande": ("Distance à la conduite", "Distance to the main"),
        "eau_dn": ("Diamètre de la conduite (mm)", "Main diameter (mm)"),
        "eau_distance_m": ("Distance à la conduite (m)", "Distance to the main (m)"),
    },
    "activity-plots": {
        "terr_id": ("Terrain", "Plot"),
        "terr_refcad": ("Parcelles cadastrales", "Cadastral parcels"),
        "terr_surf_brute": ("Surface (ha)", "Area (ha)"),
        "terr_stade_comm": ("Commercialisation", "Marketing stage"),
        "terr_etat_occup": ("Occupation", "Occupancy"),
        "terr_cle_en_main": ("Prêt à construire", "Ready to build"),
        "terr_m2_prix": ("Prix (€/m²)", "Price (€/m²)"),
        "terr_maitrise_fonc": ("Maîtrise foncière", "Land control"),
        "terr_stade_amngt": ("Aménagement", "Development stage"),
        "eau_dn_classe": ("Conduite d’eau potable la plus proche", "Nearest water main"),
        "eau_distance_bande": ("Distance à la conduite", "Distance to the main"),
        "terr_acquereur": ("Acquéreur", "Buyer"),
        "terr_vente_montant": ("Montant de la vente (€)", "Sale amount (€)"),
    },
    "heritage-monuments": {
        "titre_editorial_de_la_notice": ("Monument", "Monument"),
        "denomination_de_l_edifice": ("Type d’édifice", "Building type"),
        "commune_forme_index": ("Commune", "Municipality"),
        "typologie_de_la_protection": ("Protection", "Protection"),
        "siecle_de_la_campagne_principale_de_construction": ("Siècle", "Century"),
    },
    "heritage-perimeters": {
        "titre_editorial_de_la_notice": ("Monument", "Monument"),
        "type_perimetre": ("Périmètre", "Perimeter"),
    },
    "services": {
        "libelle_typequ": ("Équipement", "Facility"),
        "libelle_domaine": ("Domaine", "Domain"),
    },
    "communes": {
        "nom_officiel": ("Commune", "Municipality"),
        "population": ("Population", "Population"),
    },
    "parcels": {
        "id": ("Parcelle", "Parcel"),
        "contenance": ("Contenance (m²)", "Area (m²)"),
        "proprietaire": ("Propriétaire", "Owner"),
    },
    "water-pipes": {
        "materiau_libelle": ("Matériau", "Material"),
        "diametre_equivalent": ("Diamètre (mm)", "Diameter (mm)"),
        "an_pose_inf": ("Posée après", "Laid after"),
    },
}

# BPE domain letters (INSEE, Base permanente des équipements).
BPE_DOMAINS: dict[str, tuple[str, str]] = {
    "A": ("Services aux particuliers", "Services"),
    "B": ("Commerces", "Shops"),
    "C": ("Enseignement", "Education"),
    "D": ("Santé et action sociale", "Health and social care"),
    "E": ("Transports et déplacements", "Transport"),
    "F": ("Sports, loisirs et culture", "Sport, leisure and culture"),
    "G": ("Tourisme", "Tourism"),
}

# Everything else a map writes. French apostrophes are typographic (’): folium writes some of
# these strings into single-quoted JavaScript (the search box's placeholder).
TEXT: dict[str, tuple[str, str]] = {
    "title": ("Atlas des parcs d’activités", "Business parks atlas"),
    "sites": ("Parcs d’activités", "Business parks"),
    "vacancy": ("Taux de vacance par parc", "Vacancy rate by park"),
    "plots": ("Terrains à vendre", "Plots for sale"),
    "plots_all": ("Terrains", "Plots"),
    "monuments": ("Monuments historiques", "Historic monuments"),
    "perimeters": ("Périmètres de protection", "Heritage perimeters"),
    "services": ("Équipements", "Public facilities"),
    "flood": ("Aléa inondation", "Flood hazard"),
    "communes": ("Communes", "Municipalities"),
    "roads": ("Routes", "Roads"),
    "water": ("Cours et plans d’eau", "Rivers and lakes"),
    "relief": ("Relief", "Relief"),
    "parcels": ("Parcelles cadastrales", "Cadastral parcels"),
    "pipes": ("Réseau d’eau potable", "Drinking-water network"),
    "basemap": ("Fond de plan", "Base map"),
    "legend": ("Légende", "Legend"),
    "search_commune": ("Chercher une commune", "Find a municipality"),
    "search_site": ("Chercher un parc d’activités", "Find a business park"),
    "diameter": ("Diamètre", "Diameter"),
    "material": ("Matériau", "Material"),
    "other": ("autre", "other"),
    "zoom_in": ("visible en zoomant", "zoom in to see"),
    "sheet": ("Fiche", "Sheet"),
    "open_sheet": ("Voir la fiche", "Open the sheet"),
    "layers": ("Couches", "Layers"),
    "search_cancel": ("Effacer", "Clear"),
    "search_not_found": ("Aucun résultat", "Nothing found"),
    "as_table": ("Les parcs d’activités en tableau", "Business parks as a table"),
}


def field_label(collection_id: str, name: str, lang: Lang) -> str:
    """The label of a field on a map; KeyError for a field no map shows."""
    return FIELDS[collection_id][name][lang is Lang.EN]


def text(key: str, lang: Lang) -> str:
    """A map's own words."""
    return TEXT[key][lang is Lang.EN]


def domain_label(letter: str, lang: Lang) -> str:
    """The BPE domain's name (the letter itself when unknown)."""
    pair = BPE_DOMAINS.get(letter)
    return pair[lang is Lang.EN] if pair else letter
