"""A site's and a plot's sheet, built from what the caller's gate returns and nothing else.

Each part asks the gate for the fields it shows, among those the tier sees (``reading.seen``):
a public sheet has no price because the public gate has none to give, not because a template
leaves it out. Values are formatted and translated here, once, for every renderer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from atlas.layers.activity_plots import ON_THE_MARKET
from atlas.policy.gate import Gate
from atlas.portal import words
from atlas.portal.reading import crs84, frame, one, present, seen
from atlas.portal.sheet import Contact, Figure, Role, Section, Shape, Sheet
from atlas.portal.surroundings import constraints, services
from atlas.query.features import FeatureQuery
from atlas.query.filters import Comparison
from atlas.settings import ContactSettings

SITES, PLOTS = "activity-sites", "activity-plots"
SITE_FIGURES = (
    "site_vocadomi", "site_type", "site_etat", "site_surf_brute", "site_surf_utile",
    "site_surf_comm_dispo", "site_uf_nbre", "site_uf_vacant_nbre", "site_taux_vacance",
    "site_nb_etab", "site_nb_emploi",
)  # fmt: skip
ACCESS = (
    "desserte_route_nom", "autoroute_nom", "autoroute_echang_dist", "gare_nom", "gare_dist",
    "desserte_tc",
)  # fmt: skip
NETWORKS = (
    "reseau_eau_potable", "reseau_assainissement", "reseau_eau_pluviale", "reseau_gaz",
    "reseau_electrique", "reseau_fibre_optique", "reseau_fret_ferroviaire",
)  # fmt: skip
# The water-servicing indicators, as each tier gets them (classes for b2b, exact for the staff).
WATER = ("eau_dn_classe", "eau_distance_bande", "eau_dn", "eau_distance_m")
PLOT_FIGURES = (
    "terr_surf_brute", "terr_stade_comm", "terr_etat_occup", "terr_usage", "terr_cle_en_main",
    "terr_refcad", "terr_maitrise_fonc", "terr_stade_amngt", "terr_m2_prix",
)  # fmt: skip
SITE_HEAD = ("site_id", "site_nom", "site_comm_nom", "site_actu_date")
PLOT_HEAD = ("terr_id", "site_id", "terr_actu_date")
COUNTS = {"site_uf_nbre", "site_uf_vacant_nbre", "site_nb_etab", "site_nb_emploi"}
PRICE = "terr_m2_prix"
M2_PER_HA = 10_000


def contact_of(settings: ContactSettings) -> Contact:
    """The sheets' contact from ATLAS_CONTACT_* (never the CNIG site_moa_comm: personal data)."""
    return Contact(settings.name, settings.role, settings.email, settings.phone)


# Without settings (a renderer's test): the defaults, read without the environment.
DEFAULT_CONTACT = contact_of(ContactSettings.model_construct())


def formatted(name: str, raw: Any, lang: str) -> str:
    """A field's value as a reader reads it."""
    if isinstance(raw, dt.datetime | dt.date):
        return words.date(raw if not isinstance(raw, dt.datetime) else raw.date(), lang)
    if isinstance(raw, bool):
        return words.text("yes" if raw else "no", lang)
    if isinstance(raw, int | float):
        return words.number(float(raw), lang, 0 if name in COUNTS else 2)
    if name == "terr_refcad":
        return ", ".join(str(raw).split("|"))
    return words.value(str(raw), lang)


def figures(
    collection_id: str, properties: dict[str, Any], names: tuple[str, ...], lang: str
) -> tuple[Figure, ...]:
    """A labelled figure per field of ``names`` that has a value."""
    return tuple(
        Figure(words.label(n, lang, collection_id), formatted(n, properties[n], lang), key=n)
        for n in names
        if present(properties.get(n))
    )


def _day(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def _on_market(site_id: str) -> tuple[Comparison, ...]:
    return (
        Comparison("site_id", "=", site_id),
        Comparison("terr_stade_comm", "in", list(ON_THE_MARKET)),
    )


def site_sheet(gate: Gate, site_id: str, lang: str, *, contact: Contact = DEFAULT_CONTACT) -> Sheet:
    """The sheet of an activity site; NotFound when the caller has no such site."""
    names = (*SITE_HEAD, *SITE_FIGURES, *ACCESS, *NETWORKS, *WATER)
    site = one(gate, SITES, site_id, names)
    props = site.properties
    plots = frame(
        gate,
        PLOTS,
        ("terr_id", "terr_surf_brute", "terr_stade_comm", PRICE),
        where=_on_market(site_id),
    )
    key = (*figures(SITES, props, SITE_FIGURES, lang), *_market(plots, lang))
    sections = [
        Section(words.text("figures", lang), key, key="figures"),
        Section(words.text("access", lang), figures(SITES, props, ACCESS, lang), key="access"),
        Section(
            words.text("servicing", lang),
            figures(SITES, props, (*NETWORKS, *WATER), lang),
            key="servicing",
        ),
    ]
    shapes = [Shape(crs84(site.geometry), Role.SUBJECT, str(props.get("site_nom") or site_id))]
    if plots is not None:
        shapes += [
            Shape(crs84(g), Role.PLOT, str(i))
            for g, i in zip(plots.geometry, plots["terr_id"], strict=True)
        ]
    sections, shapes = _around(gate, site.geometry, lang, sections, shapes)
    if plots is not None and len(plots):
        sections.insert(1, _plot_list(plots, lang))
    return Sheet(
        kind="site",
        id=site.id,
        lang=lang,
        title=str(props.get("site_nom") or site.id),
        subtitle=str(props.get("site_comm_nom") or ""),
        sections=tuple(sections),
        contact=contact,
        verified_on=_day(props.get("site_actu_date")),
        shapes=tuple(shapes),
        path=f"/sites/{quote(site.id, safe='')}",
    )


def _market(plots: Any, lang: str) -> tuple[Figure, ...]:
    """How many plots of the site are for sale, and their price range where the tier sees it."""
    if plots is None:
        return ()
    out = [Figure(words.label("plots_on_market", lang), str(len(plots)), key="plots_on_market")]
    if PRICE in plots and plots[PRICE].notna().any():
        low, high = float(plots[PRICE].min()), float(plots[PRICE].max())
        span = words.number(low, lang, 0) + (
            "" if low == high else f" – {words.number(high, lang, 0)}"
        )
        out.append(Figure(words.label("price_range", lang), span, key=PRICE))
    return tuple(out)


def _plot_list(plots: Any, lang: str) -> Section:
    """The site's plots for sale, each linking to its sheet."""
    rows = sorted(plots.to_dict("records"), key=lambda r: str(r["terr_id"]))
    listed = tuple(
        Figure(
            f"{words.text('plot', lang)} {r['terr_id']}",
            f"{words.number(float(r['terr_surf_brute']), lang, 2)} ha"
            if present(r.get("terr_surf_brute"))
            else "",
            key="terr_id",
            href=f"/plots/{quote(str(r['terr_id']), safe='')}",
        )
        for r in rows
    )
    return Section(words.label("plots_on_market", lang), listed, key="plots")


def _around(
    gate: Gate, geometry: Any, lang: str, sections: list[Section], shapes: list[Shape]
) -> tuple[list[Section], list[Shape]]:
    """The constraints and nearby-services sections and their shapes, appended."""
    limits, limit_shapes = constraints(gate, geometry, lang)
    nearby, nearby_shapes = services(gate, geometry, lang)
    return [*sections, limits, nearby], [*shapes, *limit_shapes, *nearby_shapes]


def plot_sheet(gate: Gate, terr_id: str, lang: str, *, contact: Contact = DEFAULT_CONTACT) -> Sheet:
    """The sheet of an activity plot; NotFound when the caller has no such plot (the public has
    the plots on the market only)."""
    plot = one(gate, PLOTS, terr_id, (*PLOT_HEAD, *PLOT_FIGURES, *WATER))
    props = plot.properties
    site_id = str(props.get("site_id") or "")
    site_names = ("site_nom", "site_comm_nom", *ACCESS, *NETWORKS)
    site = _site_of(gate, site_id, site_names)
    site_props = site.properties if site is not None else {}
    key = (*figures(PLOTS, props, PLOT_FIGURES, lang), *_price(props, lang))
    servicing = (*figures(PLOTS, props, WATER, lang), *figures(SITES, site_props, NETWORKS, lang))
    sections = [
        Section(words.text("figures", lang), key, key="figures"),
        Section(words.text("access", lang), figures(SITES, site_props, ACCESS, lang), key="access"),
        Section(words.text("servicing", lang), servicing, key="servicing"),
    ]
    shapes = [Shape(crs84(plot.geometry), Role.SUBJECT, plot.id)]
    if site is not None and site.geometry is not None:
        shapes.append(Shape(crs84(site.geometry), Role.SITE, str(site_props.get("site_nom") or "")))
    sections, shapes = _around(gate, plot.geometry, lang, sections, shapes)
    where = ", ".join(
        str(site_props[n]) for n in ("site_nom", "site_comm_nom") if present(site_props.get(n))
    )
    return Sheet(
        kind="plot",
        id=plot.id,
        lang=lang,
        title=f"{words.text('plot', lang)} {plot.id}",
        subtitle=where,
        sections=tuple(sections),
        contact=contact,
        verified_on=_day(props.get("terr_actu_date")),
        shapes=tuple(shapes),
        path=f"/plots/{quote(plot.id, safe='')}",
    )


def _site_of(gate: Gate, site_id: str, names: tuple[str, ...]) -> Any:
    """The plot's site, or None when the caller has none (a plot is shown all the same)."""
    if not site_id or not seen(gate, SITES, names):
        return None
    page = gate.query(
        SITES, FeatureQuery(ids=(site_id,), properties=seen(gate, SITES, names), limit=1)
    )
    return page.features[0] if page.features else None


def _price(props: dict[str, Any], lang: str) -> tuple[Figure, ...]:
    """The plot's indicative price (price per m² × area), where the tier sees the price."""
    price: Any = props.get(PRICE)
    area: Any = props.get("terr_surf_brute")
    if not (present(price) and present(area)):
        return ()
    total = float(price) * float(area) * M2_PER_HA
    return (
        Figure(words.label("price_total", lang), words.number(total, lang, 0), key="price_total"),
    )
