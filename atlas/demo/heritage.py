"""Historic monuments as Mérimée records (POP open-data field names), GeoJSON EPSG:4326.

Each commune keeps its parish church; older villages and towns get châteaux, farms, mills,
wash-houses and crosses near their historic centre. References are synthetic 'PA' + 8 digits
in the ranges Mérimée uses for Essonne (PA000871…) and Seine-et-Marne (PA000868…).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely

from atlas.demo.cadastre import Parcels
from atlas.demo.formats import to_wgs84, write_feature_collection
from atlas.demo.territory import Territory

_SAINTS = (
    "Saint-Spire", "Saint-Germain", "Saint-Pierre", "Saint-Martin", "Saint-Étienne",
    "Saint-Vincent", "Notre-Dame", "Saint-Denis", "Saint-Sulpice", "Saint-Jacques",
    "Saint-Médard", "Saint-Rémi", "Sainte-Geneviève", "Saint-Leu",
)  # fmt: skip
# denomination, title pattern, century choices, distance from the centre (× town radius)
_KINDS = (
    ("château", "Château de {place}", ("17e siècle", "18e siècle", "19e siècle"), 1.2),
    ("ferme", "Ferme de {place}", ("17e siècle", "18e siècle"), 1.8),
    ("moulin", "Moulin de {place}", ("18e siècle", "19e siècle"), 1.4),
    ("lavoir", "Lavoir de {place}", ("19e siècle",), 0.6),
    ("croix monumentale", "Croix de {place}", ("16e siècle", "17e siècle"), 0.9),
    ("maison", "Maison dite de {place}", ("17e siècle", "18e siècle", "20e siècle"), 0.5),
    ("pigeonnier", "Pigeonnier de {place}", ("17e siècle", "18e siècle"), 1.5),
    ("chapelle", "Chapelle {saint}", ("13e siècle", "15e siècle", "16e siècle"), 1.0),
    ("orangerie", "Orangerie de {place}", ("18e siècle",), 1.1),
    ("pont", "Pont de {place}", ("18e siècle", "19e siècle"), 0.8),
)
_PLACES = (
    "Beauvoir", "la Grange", "Chantemerle", "Montauger", "Villededon", "la Tour", "l'Ermitage",
    "Saint-Ange", "Bel-Air", "Champcueil", "la Fontaine", "Mousseau", "Neubourg", "Fromont",
    "Brunoy", "la Roche", "Rougeau", "la Motte", "Varâtre", "Galande", "Ballancourt", "Vaux",
)  # fmt: skip
_TARGET = 80


def monuments(territory: Territory, parcels: Parcels, rng) -> list[tuple[dict, shapely.Point]]:
    """About 80 records: a church per commune, the rest spread by historic weight."""
    records = []
    weights = np.array(
        [np.sqrt(c.population) * (0.5 if c.new_town else 1.0) for c in territory.communes]
    )
    extra = rng.multinomial(_TARGET - len(territory.communes), weights / weights.sum())
    serial = {"91": 0, "77": 0}
    for commune, count in zip(territory.communes, extra, strict=True):
        saint = _SAINTS[int(rng.integers(len(_SAINTS)))]
        kinds: list[tuple[str, str, tuple[str, ...], float]] = [
            ("église", f"Église {saint}", ("12e siècle", "13e siècle", "16e siècle"), 0.2)
        ]
        kinds += [_KINDS[int(i)] for i in rng.integers(len(_KINDS), size=int(count))]
        for deno, pattern, centuries, spread in kinds:
            point = _place(commune, spread, rng)
            title = pattern.format(place=str(rng.choice(_PLACES)), saint=saint)
            serial[commune.code[:2]] += 1
            records.append((_record(commune, deno, title, centuries, serial, rng), point))
    _add_cadastre(records, parcels)
    return records


def _place(commune, spread: float, rng) -> shapely.Point:
    for _ in range(100):
        x, y = rng.normal(commune.centre, commune.urban_radius * spread * 0.5 + 50, 2)
        point = shapely.Point(x, y)
        if commune.geometry.contains(point):
            return point
    return shapely.Point(commune.centre)


def _record(commune, deno, title, centuries, serial, rng) -> dict[str, object]:
    dept = commune.code[:2]
    base = 871_00 if dept == "91" else 868_00
    classe = rng.uniform() < 0.25 or deno == "église" and rng.uniform() < 0.5
    partial = not classe and rng.uniform() < 0.15
    year = int(rng.integers(1840 if classe else 1926, 2015))
    date = f"{year}/{int(rng.integers(1, 13)):02d}/{int(rng.integers(1, 29)):02d}"
    protection = "classé MH" if classe else "inscrit MH partiellement" if partial else "inscrit MH"
    return {
        "Reference": f"PA000{base + serial[dept]:05d}",
        "Titre_editorial_de_la_notice": title,
        "Denomination_de_l_edifice": deno,
        "Commune_forme_index": commune.name,
        "Cog_insee_lors_de_la_protection": commune.code,
        "Departement_format_numerique": dept,
        "Typologie_de_la_protection": protection,
        "Date_et_typologie_de_la_protection": f"{date} : {protection}",
        "Precision_de_la_protection": "façades et toitures" if partial else None,
        "Siecle_de_la_campagne_principale_de_construction": str(rng.choice(centuries)),
    }


def _add_cadastre(records: list[tuple[dict, shapely.Point]], parcels: Parcels) -> None:
    """Mérimée's CADA field: the section and number of the parcel under the monument."""
    tree = shapely.STRtree(parcels.geometries)
    points = [p for _, p in records]
    found = tree.query(points, predicate="within")
    by_point = dict(zip(found[0], found[1], strict=True))
    for index, (attributes, _) in enumerate(records):
        parcel = by_point.get(index)
        if parcel is not None:
            pid = str(parcels.ids[parcel])
            attributes["Cadastre"] = f"{pid[8:10].lstrip('0')} {pid[10:].lstrip('0')}"


def write_monuments(path: Path, records: list[tuple[dict, shapely.Point]]) -> Path:
    """GeoJSON EPSG:4326 with the POP export's names and its 'lat, lon' position text."""
    lonlat = to_wgs84([p for _, p in records])

    def features():
        for (attributes, _), point in zip(records, lonlat, strict=True):
            properties = {**attributes}
            properties["coordonnees_au_format_WGS84"] = f"{point.y:.6f}, {point.x:.6f}"
            yield None, properties, point

    return write_feature_collection(
        path,
        features(),
        digits=6,
        name="liste-des-immeubles-proteges-au-titre-des-monuments-historiques",
    )
