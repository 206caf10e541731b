"""The criteria measured against other layers: heritage perimeters and hazard zones.

A plot is "inside" a perimeter or zone when they share at least ``MIN_OVERLAP_M2``: below that
the overlap is the centimetre rounding of the source coordinates (a plot drawn along a zone's
edge), not land under the rule. The share of the plot's area inside is reported with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely

from atlas.layers.flood_hazard import CLASS_LABELS
from atlas.layers.heritage_perimeters import PDA, split_references
from atlas.selection.measures import real
from atlas.selection.verdicts import Verdict, number, verdict

MIN_OVERLAP_M2 = 1.0
CLASS_LABELS_EN = {0: "nil", 1: "low", 2: "moderate", 3: "high", 4: "very high"}


def overlaps(plots: gpd.GeoSeries, zones: gpd.GeoSeries) -> list[list[tuple[int, float]]]:
    """For each plot (in order): (position of a zone, % of the plot's area inside it)."""
    out: list[list[tuple[int, float]]] = [[] for _ in range(len(plots))]
    if plots.empty or zones.empty:
        return out
    plot_geoms, zone_geoms = np.asarray(plots.values), np.asarray(zones.values)
    tree = shapely.STRtree(zone_geoms)
    plot_at, zone_at = tree.query(plot_geoms, predicate="intersects")
    shared = shapely.area(shapely.intersection(plot_geoms[plot_at], zone_geoms[zone_at]))
    totals = shapely.area(plot_geoms)
    for p, z, a in zip(plot_at, zone_at, shared, strict=True):
        if a >= MIN_OVERLAP_M2:
            out[int(p)].append((int(z), min(100.0, 100.0 * float(a) / float(totals[p]))))
    for hits in out:
        hits.sort(key=lambda hit: -hit[1])
    return out


def heritage(plots: gpd.GeoDataFrame, perimeters: gpd.GeoDataFrame) -> list[Verdict]:
    """Outside every heritage perimeter; a failure names each monument and the share inside."""
    rows = perimeters.to_dict("records")
    out = []
    for hits in overlaps(plots.geometry, perimeters.geometry):
        if not hits:
            out.append(
                verdict(
                    "heritage",
                    True,
                    [],
                    "hors de tout périmètre de protection du patrimoine (abords, PDA)",
                    "outside every heritage perimeter (abords, PDA)",
                )
            )
            continue
        texts = [_perimeter_text(rows[z], share) for z, share in hits]
        value = [
            {
                "reference": rows[z]["reference"],
                "type_perimetre": rows[z]["type_perimetre"],
                "share_pct": round(share, 1),
            }
            for z, share in hits
        ]
        out.append(
            verdict(
                "heritage",
                False,
                value,
                " ; ".join(t[0] for t in texts),
                "; ".join(t[1] for t in texts),
            )
        )
    return out


def _perimeter_text(row: dict, share: float) -> tuple[str, str]:
    refs = split_references(row.get("reference")) or [str(row.get("reference"))]
    plural = len(refs) > 1
    names = ", ".join(refs)
    share_fr, share_en = number(round(share, 1))
    details_fr = [row.get("titre_editorial_de_la_notice") or ""]
    details_en = list(details_fr)
    if row.get("type_perimetre") == PDA:
        fr = f"dans le périmètre délimité des abords (PDA) du{'s' if plural else ''} monument{'s' if plural else ''} {names}"
        en = f"inside the delimited abords perimeter (PDA) of monument{'s' if plural else ''} {names}"
    else:
        fr = f"dans les abords du monument {names}"
        en = f"inside the abords of monument {names}"
        if row.get("indicatif"):
            details_fr.append("périmètre indicatif de 500 m")
            details_en.append("indicative 500 m perimeter")
    details_fr.append(f"{share_fr} % de la parcelle")
    details_en.append(f"{share_en} % of the plot")
    fr += " (" + ", ".join(d for d in details_fr if d) + ")"
    en += " (" + ", ".join(d for d in details_en if d) + ")"
    return fr, en


def flood(
    plots: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, excluded: Sequence[int]
) -> list[Verdict]:
    """No overlap with a hazard zone of an excluded class (an unknown class is not 'none')."""
    classes = [_hazard_class(v) for v in zones["classe_alea"]]
    ids = list(zones["id_zone"])
    out = []
    for hits in overlaps(plots.geometry, zones.geometry):
        share: dict[int | None, float] = {}
        zone_ids: dict[int | None, list[str]] = {}
        for z, pct in hits:
            share[classes[z]] = min(100.0, share.get(classes[z], 0.0) + pct)
            zone_ids.setdefault(classes[z], []).append(str(ids[z]))
        value = [
            {"classe_alea": k, "share_pct": round(v, 1), "id_zone": zone_ids[k]}
            for k, v in share.items()
        ]
        bad = {k: v for k, v in share.items() if k is None or k in excluded}
        out.append(_flood_verdict(value, share, bad))
    return out


def _hazard_class(value: object) -> int | None:
    number_ = real(value)
    return None if number_ is None else int(number_)


def _flood_verdict(
    value: list[dict], share: dict[int | None, float], bad: dict[int | None, float]
) -> Verdict:
    if bad:
        texts = [_class_text(k, v) for k, v in sorted(bad.items(), key=lambda kv: -kv[1])]
        return verdict(
            "flood", False, value, " ; ".join(t[0] for t in texts), "; ".join(t[1] for t in texts)
        )
    if share:
        kept = sorted(share, key=lambda k: -1 if k is None else k)
        fr = ", ".join(f"{CLASS_LABELS[k]} (classe {k})" for k in kept if k is not None)
        en = ", ".join(f"{CLASS_LABELS_EN[k]} (class {k})" for k in kept if k is not None)
        return verdict(
            "flood",
            True,
            value,
            f"en zone d'aléa admise seulement : {fr}",
            f"only in allowed hazard zones: {en}",
        )
    return verdict(
        "flood", True, value, "hors des zones d'aléa des PPR", "outside every PPR hazard zone"
    )


def _class_text(klass: int | None, share: float) -> tuple[str, str]:
    share_fr, share_en = number(round(share, 1))
    if klass is None:
        return (
            f"en zone d'aléa de classe inconnue sur {share_fr} % de la parcelle",
            f"in a hazard zone of unknown class over {share_en} % of the plot",
        )
    return (
        f"en zone d'aléa {CLASS_LABELS[klass]} (classe {klass}) sur {share_fr} % de la parcelle",
        f"in a {CLASS_LABELS_EN[klass]} hazard zone (class {klass}) over {share_en} % of the plot",
    )
