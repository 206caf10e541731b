"""The words of the site-selection and extract pages, in French and English.

Kept beside ``atlas.api.html.MESSAGES`` rather than in it: these pages' templates read them as
``doc.words``, so the shared message table does not grow with one tool's vocabulary.
"""

from __future__ import annotations

from atlas.maps.labels import Lang

WORDS: dict[str, tuple[str, str]] = {
    "selection": ("Sélection de sites", "Site selection"),
    "selection_intro": (
        "Cherchez les terrains qui conviennent à un projet : chaque critère est facultatif, "
        "ceux que vous remplissez s’ajoutent. Les terrains sont classés, ceux qui remplissent "
        "tous les critères en premier.",
        "Find the plots that suit a project: every criterion is optional, those you fill in "
        "add up. Plots are ranked, those meeting every criterion first.",
    ),
    "selection_public": (
        "La sélection de sites est réservée aux partenaires et au personnel de "
        "l’agglomération. Connectez-vous pour l’utiliser.",
        "Site selection is for partners and the agglomeration's staff. Sign in to use it.",
    ),
    "criteria": ("Critères", "Criteria"),
    "search": ("Chercher", "Search"),
    "results": ("Résultat", "Result"),
    "summary": (
        "{passing} terrains remplissent tous les critères sur {evaluated} évalués ; "
        "{returned} affichés.",
        "{passing} plots meet every criterion of {evaluated} evaluated; {returned} shown.",
    ),
    "permalink": ("Lien permanent vers cette recherche", "Permanent link to this search"),
    "download_geojson": ("Télécharger le résultat (GeoJSON)", "Download the result (GeoJSON)"),
    "open_map": ("Voir sur la carte de l’atlas", "Open on the atlas map"),
    "rank": ("Rang", "Rank"),
    "plot": ("Terrain", "Plot"),
    "site": ("Parc d’activités", "Business park"),
    "verdict": ("Verdict", "Verdict"),
    "passes": ("retenu", "selected"),
    "fails": ("écarté", "excluded"),
    "score": ("Score", "Score"),
    "reasons": ("Motifs", "Reasons"),
    "table_caption": (
        "Terrains classés (alternative textuelle de la carte)",
        "Ranked plots (the map's text alternative)",
    ),
    "map_label": ("Carte du résultat", "Map of the result"),
    "extract": ("Extraire les terrains retenus", "Extract the selected plots"),
    "extract_submit": ("Lancer l’extraction", "Start the extract"),
    "format": ("Format", "Format"),
    "crs": ("Système de coordonnées", "Coordinate reference system"),
    "invalid": ("Critères refusés", "Criteria refused"),
    "exports": ("Extractions", "Extracts"),
    "exports_intro": (
        "Choisissez les couches à extraire, le format et le système de coordonnées. "
        "L’extraction est journalisée ; le fichier reste disponible un temps limité.",
        "Choose the layers, the format and the coordinate reference system. Extracts are "
        "audited; the file stays available for a limited time.",
    ),
    "layers": ("Couches", "Layers"),
    "csv_geometry": ("Géométrie en CSV", "Geometry in CSV"),
    "csv_wkt": ("colonne WKT", "WKT column"),
    "csv_xy": ("colonnes x et y", "x and y columns"),
    "commune": (
        "Limiter à une commune (code INSEE, facultatif)",
        "Clip to a municipality (INSEE code, optional)",
    ),
    "job": ("Extraction", "Extract"),
    "status": ("État", "Status"),
    "progress": ("Avancement", "Progress"),
    "download": ("Télécharger l’archive (zip)", "Download the archive (zip)"),
    "refresh": (
        "Cette page se recharge toute seule jusqu’à la fin de l’extraction.",
        "This page reloads itself until the extract is done.",
    ),
    "new_extract": ("Nouvelle extraction", "New extract"),
}


def words(lang: Lang) -> dict[str, str]:
    """Every word of these pages in ``lang``."""
    return {key: pair[lang is Lang.EN] for key, pair in WORDS.items()}
