"""The attribute criteria, each measured on one plot row (the plot's fields joined to its site's).

Each function returns one :class:`Verdict`; it reads only the row, and the row holds only what
the caller's tier sees (``evaluate`` reads it through the gate), so no reason can name a value
the tier may not see. The water criterion is worded from whichever indicators the row carries:
the exact diameter and distance (staff) or the diameter class and distance band (partners).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from atlas.layers.activity_plots import ON_THE_MARKET
from atlas.layers.water_indicators import DISTANCE_BANDS, DN_CLASSES, SEARCH_RADIUS_M
from atlas.selection.criteria import SiteCriteria
from atlas.selection.verdicts import Verdict, at_least, at_most, number, verdict

Row = Mapping[str, Any]

# site_vocadomi values and the CNIG site_voca_* flag saying that vocation is present at all.
VOCATION_FLAGS = {
    "industrielle": "site_voca_industrielle",
    "commerciale": "site_voca_commerciale",
    "tertiaire": "site_voca_tertiaire",
    "artisanale": "site_voca_artisanale",
    "touristique": "site_voca_touristique",
    "portuaire": "site_voca_portuaire",
    "aéroportuaire, aéronautique": "site_voca_aeroportuaire",
}
SITE_FIELDS = (
    "site_id",
    "site_nom",
    "site_vocadomi",
    *VOCATION_FLAGS.values(),
    "autoroute_nom",
    "autoroute_echang_dist",
    "gare_nom",
    "gare_dist",
)
# Partners see classes and bands: a class passes a minimum diameter when its lower edge does,
# a band passes a maximum distance when its upper edge does (water_indicators' edges).
CLASS_LOWER_MM = dict(zip(DN_CLASSES, (0, 100, 200, 300), strict=True))
BAND_UPPER_M = dict(zip(DISTANCE_BANDS, (50.0, 150.0, 500.0, math.inf), strict=True))
_NO_MAIN = (
    f"aucune conduite en service à moins de {SEARCH_RADIUS_M / 1000:g} km",
    f"no water main in service within {SEARCH_RADIUS_M / 1000:g} km",
)


def real(value: Any) -> float | None:
    """A number read from a row; None for empty, NaN or unreadable."""
    if value is None or isinstance(value, bool):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def area(row: Row, c: SiteCriteria) -> Verdict:
    """Gross area (terr_surf_brute, ha) within [min_area_ha, max_area_ha]."""
    ha = real(row.get("terr_surf_brute"))
    if ha is None:
        return verdict("area", False, None, "surface inconnue", "unknown area", 0.0)
    checks = []
    if c.min_area_ha is not None:
        low = number(c.min_area_ha)
        said = (f"inférieure au minimum de {low[0]} ha", f"below the {low[1]} ha minimum")
        checks.append((at_least(ha, c.min_area_ha), ha < c.min_area_ha, said))
    if c.max_area_ha is not None:
        high = number(c.max_area_ha)
        said = (f"supérieure au maximum de {high[0]} ha", f"above the {high[1]} ha maximum")
        checks.append((at_most(ha, c.max_area_ha), ha > c.max_area_ha, said))
    fr, en = number(ha, 2)
    return checked("area", ha, (f"surface {fr} ha", f"area {en} ha"), checks)


Check = tuple[float, bool, tuple[str, str]]
"""One threshold on a measure: its score, whether it fails, what a failure says (FR, EN)."""


def checked(criterion: str, value: Any, said: tuple[str, str], checks: list[Check]) -> Verdict:
    """The verdict of one or more thresholds: fails when one fails, scored by the lowest."""
    failed = [words for _, bad, words in checks if bad]
    return verdict(
        criterion,
        not failed,
        value,
        ", ".join([said[0], *(w[0] for w in failed)]),
        ", ".join([said[1], *(w[1] for w in failed)]),
        min(score for score, _, _ in checks),
    )


def site_vocations(row: Row) -> list[str]:
    """The site's dominant vocation first, then every other vocation its flags say it has."""
    dominant = row.get("site_vocadomi")
    present = [dominant] if dominant else []
    present += [v for v, flag in VOCATION_FLAGS.items() if row.get(flag) == "oui" and v != dominant]
    return present


def vocation(row: Row, c: SiteCriteria) -> Verdict:
    """The plot's site has one of the requested vocations (dominant or present)."""
    assert c.vocations is not None
    present = site_vocations(row)
    value = {"site_vocadomi": row.get("site_vocadomi"), "vocations": present}
    dominant = row.get("site_vocadomi") or "inconnue"
    matched = [v for v in c.vocations if v in present]
    if matched:
        return verdict(
            "vocation",
            True,
            value,
            f"vocation {matched[0]} du site (dominante : {dominant})",
            f"site vocation {matched[0]} (dominant: {dominant})",
        )
    asked = ", ".join(c.vocations)
    others = ", ".join(present) or "aucune"
    return verdict(
        "vocation",
        False,
        value,
        f"le site (dominante : {dominant} ; activités : {others}) n'a aucune des vocations "
        f"demandées ({asked})",
        f"the site (dominant: {dominant}; activities: {others}) has none of the requested "
        f"vocations ({asked})",
    )


def usage(row: Row, c: SiteCriteria) -> Verdict:
    """The plot's use (terr_usage) is one of the requested ones."""
    assert c.usages is not None
    use = row.get("terr_usage")
    if not use:
        return verdict("usage", False, None, "usage non renseigné", "use not given")
    if use in c.usages:
        return verdict("usage", True, use, f"usage « {use} »", f"use '{use}'")
    return verdict(
        "usage",
        False,
        use,
        f"usage « {use} » hors des usages demandés",
        f"use '{use}' not among the requested uses",
    )


def on_market(row: Row, c: SiteCriteria) -> Verdict:
    """On the market (terr_stade_comm in ON_THE_MARKET), or not, as asked."""
    stage = row.get("terr_stade_comm")
    selling = stage in ON_THE_MARKET
    fr, en = f"stade de commercialisation « {stage or 'inconnu'} »", f"commercial stage '{stage}'"
    if selling == c.on_market:
        return verdict("on_market", True, stage, fr, en)
    if c.on_market:
        return verdict("on_market", False, stage, f"{fr}, pas en vente", f"{en}, not on the market")
    return verdict("on_market", False, stage, f"{fr}, en vente", f"{en}, on the market")


def water(row: Row, c: SiteCriteria) -> Verdict:
    """The nearest main in service: exact values for staff, class and band for partners."""
    if "eau_dn" in row:
        return _water_exact(row, c)
    return _water_band(row, c)


def _water_exact(row: Row, c: SiteCriteria) -> Verdict:
    dn, metres = real(row.get("eau_dn")), real(row.get("eau_distance_m"))
    value = {"eau_dn": None if dn is None else int(dn), "eau_distance_m": metres}
    if dn is None or metres is None:
        return verdict("water", False, value, *_NO_MAIN, 0.0)
    fr = f"réseau DN {dn:.0f} à {metres:.0f} m"
    en = f"water main DN {dn:.0f} at {metres:.0f} m"
    return _water_verdict(value, fr, en, dn, metres, c)


def _water_band(row: Row, c: SiteCriteria) -> Verdict:
    dn_class, band = row.get("eau_dn_classe"), row.get("eau_distance_bande")
    value = {"eau_dn_classe": dn_class, "eau_distance_bande": band}
    if dn_class not in CLASS_LOWER_MM or band not in BAND_UPPER_M:
        return verdict("water", False, value, *_NO_MAIN, 0.0)
    fr, en = f"réseau {dn_class} à {band}", f"water main {dn_class} at {band}"
    lower, upper = CLASS_LOWER_MM[dn_class], BAND_UPPER_M[band]
    return _water_verdict(value, fr, en, lower, upper, c, ("classe inférieure à", "class below"))


def _water_verdict(
    value: dict[str, Any],
    fr: str,
    en: str,
    dn: float,
    metres: float,
    c: SiteCriteria,
    below: tuple[str, str] = ("diamètre inférieur à", "diameter below"),
) -> Verdict:
    checks = []
    if c.water_min_dn is not None:
        said = (f"{below[0]} DN {c.water_min_dn}", f"{below[1]} DN {c.water_min_dn}")
        checks.append((at_least(dn, c.water_min_dn), dn < c.water_min_dn, said))
    if c.water_max_distance_m is not None:
        limit = number(c.water_max_distance_m)
        said = (f"au-delà de {limit[0]} m", f"beyond {limit[1]} m")
        checks.append(
            (at_most(metres, c.water_max_distance_m), metres > c.water_max_distance_m, said)
        )
    return checked("water", value, (fr, en), checks)


def motorway(row: Row, c: SiteCriteria) -> Verdict:
    """The site's motorway interchange (autoroute_echang_dist, km) within max_motorway_km."""
    assert c.max_motorway_km is not None
    name = row.get("autoroute_nom")
    label = f" ({name})" if name else ""
    return _road(
        "motorway",
        real(row.get("autoroute_echang_dist")),
        c.max_motorway_km,
        (f"échangeur autoroutier{label} à", f"motorway interchange{label}"),
        (
            "distance à un échangeur autoroutier inconnue",
            "distance to a motorway interchange unknown",
        ),
    )


def station(row: Row, c: SiteCriteria) -> Verdict:
    """The site's passenger station (gare_dist, km) within max_station_km."""
    assert c.max_station_km is not None
    name = row.get("gare_nom")
    return _road(
        "station",
        real(row.get("gare_dist")),
        c.max_station_km,
        (f"gare{f' {name}' if name else ''} à", f"{f'{name} ' if name else ''}station"),
        ("distance à une gare inconnue", "distance to a station unknown"),
    )


def _road(
    criterion: str,
    km: float | None,
    limit: float,
    words: tuple[str, str],
    unknown: tuple[str, str],
) -> Verdict:
    if km is None:
        return verdict(criterion, False, None, *unknown, 0.0)
    fr, en = number(km, 1)
    limit_fr, limit_en = number(limit)
    said = (f"au-delà de {limit_fr} km", f"beyond {limit_en} km")
    return checked(
        criterion,
        km,
        (f"{words[0]} {fr} km", f"{words[1]} {en} km away"),
        [(at_most(km, limit), km > limit, said)],
    )
