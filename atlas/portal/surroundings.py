"""What lies on or around a site or a plot: heritage and flood constraints, nearby public services.

Each part is read through the caller's gate with a spatial criterion on the subject's geometry
(Lambert-93, metres); a collection the tier does not have, or that is not loaded, is left out
of the sheet rather than shown as "none" (unknown is not "no constraint").
"""

from __future__ import annotations

from collections import Counter

import geopandas as gpd
from shapely.geometry.base import BaseGeometry

from atlas.maps.labels import Lang, domain_label
from atlas.policy.gate import Gate
from atlas.portal import words
from atlas.portal.reading import crs84, frame, present
from atlas.portal.sheet import Figure, Role, Section, Shape

MONUMENT_RADIUS_M = 500.0  # the abords of a historic monument (code du patrimoine L.621-30)
SERVICE_RADIUS_M = 1_000.0  # "nearby": a walk of about a quarter of an hour
CLOSEST = 3  # services named per domain
FLOOD_MARGIN_M = 200.0  # hazard zones drawn this far around the subject, not whole
TITLE = "titre_editorial_de_la_notice"


def constraints(gate: Gate, subject: BaseGeometry, lang: str) -> tuple[Section, list[Shape]]:
    """Heritage perimeters over the subject, monuments within 500 m, hazard zones over it."""
    figures: list[Figure] = []
    shapes: list[Shape] = []
    for part in (_perimeters, _monuments, _flood):
        found = part(gate, subject, lang)
        if found is not None:
            figures.append(found[0])
            shapes += found[1]
    return Section(words.text("constraints", lang), tuple(figures), key="constraints"), shapes


def _names(values: list[str], lang: str) -> str:
    kept = sorted(dict.fromkeys(v for v in values if v))
    return ", ".join(kept) if kept else words.text("none", lang)


def _perimeters(gate: Gate, subject: BaseGeometry, lang: str) -> tuple[Figure, list[Shape]] | None:
    found = frame(gate, "heritage-perimeters", ("perimetre_id", TITLE), intersects=subject)
    if found is None:
        return None
    titles = [str(t) if present(t) else "" for t in found.get(TITLE, [])]
    figure = Figure(words.label("heritage_perimeters", lang), _names(titles, lang), key="heritage")
    shapes = [
        Shape(crs84(g.intersection(subject.buffer(FLOOD_MARGIN_M))), Role.HERITAGE, t)
        for g, t in zip(found.geometry, titles, strict=True)
        if g is not None
    ]
    return figure, shapes


def _monuments(gate: Gate, subject: BaseGeometry, lang: str) -> tuple[Figure, list[Shape]] | None:
    found = frame(
        gate, "heritage-monuments", ("reference", TITLE),
        within_distance=(subject, MONUMENT_RADIUS_M),
    )  # fmt: skip
    if found is None:
        return None
    rows = _by_distance(found, subject)
    named = [f"{row[TITLE]} ({_away(d, lang)})" if present(row[TITLE]) else "" for row, d in rows]
    figure = Figure(words.label("heritage_monuments", lang), _names(named, lang), key="monuments")
    shapes = [
        Shape(crs84(row["geometry"]), Role.HERITAGE, str(row[TITLE] or "")) for row, _ in rows
    ]
    return figure, shapes


def _flood(gate: Gate, subject: BaseGeometry, lang: str) -> tuple[Figure, list[Shape]] | None:
    found = frame(
        gate, "flood-hazard", ("id_zone", "classe_alea", "nomrisque", "inondation"),
        intersects=subject,
    )  # fmt: skip
    if found is None:
        return None
    hazards: dict[str, int] = {}
    shapes = []
    for row in found.to_dict("records"):
        level = int(row["classe_alea"]) if present(row.get("classe_alea")) else -1
        described = _hazard_words(row, level, lang)
        hazards[described] = level
        clipped = row["geometry"].intersection(subject.buffer(FLOOD_MARGIN_M))
        if not clipped.is_empty:
            shapes.append(Shape(crs84(clipped), Role.FLOOD, described))
    ordered = sorted(hazards, key=lambda h: (-hazards[h], h))
    value = ", ".join(ordered) if ordered else words.text("none_f", lang)
    return Figure(words.label("flood", lang), value, key="flood-hazard"), shapes


def _hazard_words(row: dict, level: int, lang: str) -> str:
    risk = str(row["nomrisque"]) if present(row.get("nomrisque")) else ""
    flood = bool(row.get("inondation")) if present(row.get("inondation")) else False
    if level < 0:
        return risk or "?"
    name = words.text("hazard_class", lang, label=words.hazard(level, lang))
    if lang == "en":
        return f"{name} (flood)" if flood else name
    return f"{name} ({risk})" if risk else name


def _away(metres: float, lang: str) -> str:
    if metres < 1:
        return words.text("on_site", lang)
    return words.text("within", lang, m=int(round(metres)))


def _by_distance(found: gpd.GeoDataFrame, subject: BaseGeometry) -> list[tuple[dict, float]]:
    rows = [r for r in found.to_dict("records") if r["geometry"] is not None]
    return sorted(((r, subject.distance(r["geometry"])) for r in rows), key=lambda rd: rd[1])


def services(gate: Gate, subject: BaseGeometry, lang: str) -> tuple[Section, list[Shape]]:
    """Public services within 1 km: how many per BPE domain, and the closest few of each."""
    found = frame(
        gate, "services", ("id", "libelle_typequ", "domaine"),
        within_distance=(subject, SERVICE_RADIUS_M),
    )  # fmt: skip
    title = words.text("services", lang)
    if found is None:
        return Section(title, (), key="services"), []
    rows = _by_distance(found, subject)
    counts = Counter(str(r["domaine"]) for r, _ in rows if present(r["domaine"]))
    figures = [Figure(words.label("services_total", lang), str(len(rows)), key="services")]
    for letter in sorted(counts):
        closest = [
            f"{r['libelle_typequ']} ({_away(d, lang)})"
            for r, d in rows
            if r["domaine"] == letter and present(r["libelle_typequ"])
        ][:CLOSEST]
        value = f"{counts[letter]} — " + ", ".join(closest) if closest else str(counts[letter])
        figures.append(Figure(domain_label(letter, Lang(lang)), value, key=f"services-{letter}"))
    shapes = [
        Shape(crs84(r["geometry"]), Role.SERVICE, str(r["libelle_typequ"] or "")) for r, _ in rows
    ]
    return Section(title, tuple(figures), key="services"), shapes
