"""Public services and shops as INSEE BPE records (CSV ``;``, Lambert-93 coordinates).

Counts follow typical BPE frequencies per 10,000 inhabitants of a Paris-suburb agglomeration,
scaled to ~3,000 records; equipment sits in the towns (gaussian around the centre). RER D
stations are placed at their approximate real positions. About 3 % of positions are
'Mauvaise' (moved by up to 500 m) and 1 % 'Non géolocalisé' (no coordinates: the reader
rejects them, as it must).
"""

from __future__ import annotations

from pathlib import Path

import shapely

from atlas.demo.formats import write_csv
from atlas.demo.territory import Territory, to_l93

HEADER = ("DEPCOM", "DCIRIS", "AN", "TYPEQU", "LAMBERT_X", "LAMBERT_Y", "QUALITE_XY")
_TARGET = 3000
# TYPEQU -> records per 10,000 inhabitants (relative; normalised to the target).
RATES: dict[str, float] = {
    "A101": 0.3, "A104": 0.1, "A203": 2.5, "A206": 0.5, "A301": 4.0, "A302": 0.6, "A304": 1.2,
    "A401": 4.0, "A402": 3.0, "A403": 3.0, "A404": 5.0, "A405": 4.0, "A406": 1.5, "A501": 6.0,
    "A502": 0.5, "A503": 0.8, "A504": 12.0, "A505": 3.0, "A506": 0.8, "A507": 4.0,
    "B101": 0.15, "B102": 0.7, "B103": 0.25, "B201": 1.2, "B202": 1.5, "B203": 3.5, "B204": 1.2,
    "B206": 0.2, "B301": 0.6, "B302": 4.0, "B303": 1.0, "B304": 0.8, "B306": 0.6, "B307": 0.6,
    "B310": 0.8, "B311": 0.6, "B312": 1.0, "B313": 1.2, "B316": 0.6,
    "C101": 2.4, "C104": 2.6, "C201": 0.6, "C301": 0.25, "C302": 0.15, "C601": 0.08,
    "D106": 0.03, "D108": 0.3, "D201": 6.5, "D221": 4.0, "D232": 9.0, "D233": 7.0, "D301": 2.8,
    "D302": 0.6, "D401": 0.6, "E101": 1.2,
    "F101": 0.25, "F103": 0.8, "F111": 2.0, "F112": 1.5, "F113": 1.5, "F121": 0.8, "F303": 0.1,
    "F305": 0.2, "F307": 0.6, "F309": 0.3, "G101": 0.4, "G102": 0.5,
}  # fmt: skip
# Every commune has at least these (a mairie-run school, a bakery where there is a village).
_MINIMUM = {"C101": 1, "C104": 1}
# RER D stations (name for the record only, approximate lon/lat).
STATIONS: tuple[tuple[str, float, float], ...] = (
    ("Grigny-Centre", 2.393, 48.654), ("Ris-Orangis", 2.417, 48.652),
    ("Orangis-Bois de l'Épine", 2.418, 48.639), ("Grand-Bourg", 2.433, 48.633),
    ("Évry-Courcouronnes", 2.429, 48.625), ("Le Bras de Fer", 2.440, 48.612),
    ("Corbeil-Essonnes", 2.480, 48.613), ("Moulin-Galant", 2.468, 48.597),
    ("Le Coudray-Montceaux", 2.488, 48.563), ("Lieusaint-Moissy", 2.570, 48.629),
    ("Savigny-le-Temple-Nandy", 2.583, 48.596), ("Cesson", 2.604, 48.564),
    ("Combs-la-Ville-Quincy", 2.566, 48.672), ("Évry-Val de Seine", 2.448, 48.637),
)  # fmt: skip


def records(territory: Territory, rng, scale: float) -> list[tuple]:
    """BPE rows (DEPCOM, DCIRIS, AN, TYPEQU, x, y, QUALITE_XY)."""
    population = sum(c.population for c in territory.communes)
    factor = _TARGET * scale / (sum(RATES.values()) * population / 10_000)
    rows: list[tuple] = []
    for commune in territory.communes:
        for typequ, rate in RATES.items():
            count = int(rng.poisson(rate * factor * commune.population / 10_000))
            count = max(count, _MINIMUM.get(typequ, 0))
            for _ in range(count):
                x, y = _position(commune, rng)
                rows.append(_row(commune, typequ, x, y, rng))
    for x, y in to_l93(tuple((lon, lat) for _, lon, lat in STATIONS)):
        station = next(
            (c for c in territory.communes if c.geometry.contains(shapely.Point(x, y))), None
        )
        if station is not None:
            rows.append(_row(station, "E108", x, y, rng, quality="Bonne"))
    return rows


def _position(commune, rng) -> tuple[float, float]:
    for _ in range(100):
        x, y = rng.normal(commune.centre, commune.urban_radius * 0.8, 2)
        if commune.geometry.contains(shapely.Point(x, y)):
            return float(x), float(y)
    return commune.centre


def _row(commune, typequ, x, y, rng, quality: str | None = None) -> tuple:
    draw = rng.uniform()
    if quality is None:
        quality = (
            "Non géolocalisé" if draw < 0.01 else "Mauvaise" if draw < 0.04
            else "Acceptable" if draw < 0.2 else "Bonne"
        )  # fmt: skip
    if quality == "Mauvaise":
        x, y = x + rng.uniform(-500, 500), y + rng.uniform(-500, 500)
    iris = _iris(commune, x, y)
    if quality == "Non géolocalisé":
        return (commune.code, iris, 2023, typequ, "", "", quality)
    return (commune.code, iris, 2023, typequ, f"{x:.1f}", f"{y:.1f}", quality)


def _iris(commune, x: float, y: float) -> str:
    """IRIS: communes of 5,000+ inhabitants are cut into ~2,500-inhabitant IRIS; others '0000'."""
    if commune.population < 5000:
        return commune.code + "0000"
    count = commune.population // 2500
    cell = int((x - commune.centre[0]) // 900) * 7 + int((y - commune.centre[1]) // 900)
    number = cell % count
    return f"{commune.code}{1 + number // 99:02d}{1 + number % 99:02d}"


def write_services(path: Path, territory: Territory, rng, scale: float) -> Path:
    """The BPE CSV, sorted as INSEE sorts it (DEPCOM, TYPEQU)."""
    rows = sorted(records(territory, rng, scale), key=lambda r: (r[0], r[3]))
    return write_csv(path, HEADER, rows)
