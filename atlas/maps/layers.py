"""One function per map layer: each reads through the context's gate and adds itself to a map.

Small layers (sites, plots, heritage, services, communes) are embedded as GeoJSON; large ones
(parcels, pipes, roads, water) are our own vector tiles, and relief and flood hazard our own map
tiles, all at the URLs the API serves to the caller's tier.
"""

from __future__ import annotations

import html
import json
from urllib.parse import quote

import folium
from folium import plugins

from atlas.errors import EmptyCollection, UnknownCollection
from atlas.maps.context import MapContext
from atlas.maps.geojson import feature_collection
from atlas.maps.labels import FIELDS, Lang, domain_label, field_label, text

# Hidden from the tier, or not ingested yet: either way the map has no such layer.
ABSENT = (UnknownCollection, EmptyCollection)
SITE = "#1f5f8b"
PLOT = "#d9822b"
HERITAGE = "#8e3b76"
# Vacancy rate classes (%), lowest first, and their colours (ColorBrewer YlOrRd, 5 classes).
VACANCY_BREAKS = (5.0, 10.0, 20.0, 30.0)
VACANCY_COLOURS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
DOMAIN_COLOURS = {
    "A": "#4e79a7", "B": "#f28e2b", "C": "#59a14f", "D": "#e15759",
    "E": "#76b7b2", "F": "#b07aa1", "G": "#9c755f",
}  # fmt: skip
# Pipe materials (StaR-Eau com_materiau codes) by colour; the rest is "other".
MATERIAL_COLOURS = {
    "fonte": "#4d4d4d", "fg": "#4d4d4d", "fd": "#1b7837", "acier": "#2166ac", "pvc": "#d6604d",
    "pehd": "#f4a582", "pe": "#f4a582", "amci": "#762a83", "beton": "#8c6d31",
}  # fmt: skip
OTHER_MATERIAL = "#999999"
# Line width (px) by equivalent diameter: [0, 100), [100, 200), [200, 300), 300 mm and above.
DIAMETER_WIDTHS = ((100, 1.5), (200, 2.5), (300, 4.0))
WIDEST = 6.0


# The portal's sheet of a site or plot (atlas.api.routers.portal), linked from its popup.
SHEETS = {"activity-sites": ("site_id", "/sites/"), "activity-plots": ("terr_id", "/plots/")}
SHEET = "sheet"  # the popup row holding the link; not a field of the data


def _popup(ctx: MapContext, collection_id: str, fields: tuple[str, ...]) -> folium.GeoJsonPopup:
    labels = [field_label(collection_id, f, ctx.lang) for f in fields]
    if collection_id in SHEETS:
        fields, labels = (*fields, SHEET), [*labels, text(SHEET, ctx.lang)]
    return folium.GeoJsonPopup(fields=list(fields), aliases=labels, localize=True)


def _sheet_links(ctx: MapContext, collection_id: str, ids: list[object]) -> list[str]:
    """A link to each feature's sheet, as the HTML folium's popup writes (the id escaped)."""
    suffix = "?lang=en" if ctx.lang is Lang.EN else ""
    word = html.escape(text("open_sheet", ctx.lang))
    prefix = SHEETS[collection_id][1]
    return [
        f'<a href="{html.escape(ctx.url(prefix + quote(str(i), safe="")) + suffix)}"'
        f' target="_top">{word}</a>'
        for i in ids
    ]


def _geojson(
    ctx: MapContext, collection_id: str, simplify: float = 0.0, **kwargs
) -> folium.GeoJson | None:
    """The collection as a GeoJson layer with a labelled popup; None when the tier has none.
    Sites and plots link to their sheet."""
    id_field = SHEETS.get(collection_id, ("",))[0]
    try:
        fields = ctx.shown_fields(collection_id)
        frame = ctx.frame(collection_id, extra=(id_field,) if id_field else ())
    except ABSENT:
        return None
    drawn = frame[[g is not None and not g.is_empty for g in frame.geometry]]
    links = _sheet_links(ctx, collection_id, list(drawn[id_field])) if id_field else []
    if id_field and id_field not in fields:
        drawn = drawn.drop(columns=id_field)  # read for the link only
    data = feature_collection(drawn, simplify)
    # Added after feature_collection, which escapes text: the link is HTML on purpose.
    for feature, link in zip(data["features"], links, strict=bool(id_field)):
        feature["properties"][SHEET] = link
    if not data["features"]:
        return None
    return folium.GeoJson(data, popup=_popup(ctx, collection_id, fields), **kwargs)


def sites(ctx: MapContext) -> folium.GeoJson | None:
    """Activity sites: name, vacancy and available hectares in the popup (and servicing by tier)."""
    return _geojson(
        ctx,
        "activity-sites",
        simplify=2e-5,
        name=text("sites", ctx.lang),
        style_function=lambda _: {"color": SITE, "weight": 2, "fillOpacity": 0.15},
        tooltip=folium.GeoJsonTooltip(["site_nom"], labels=False),
    )


def vacancy_class(rate: float | None) -> str:
    """The colour of a vacancy rate (grey when unknown)."""
    if rate is None:
        return "#cccccc"
    for colour, limit in zip(VACANCY_COLOURS, VACANCY_BREAKS, strict=False):
        if rate < limit:
            return colour
    return VACANCY_COLOURS[-1]


def vacancy(ctx: MapContext) -> folium.GeoJson | None:
    """The vacancy choropleth by site (staff maps): sites filled by their vacancy rate class."""
    return _geojson(
        ctx,
        "activity-sites",
        simplify=2e-5,
        name=text("vacancy", ctx.lang),
        show=False,
        style_function=lambda f: {
            "color": "#555555",
            "weight": 1,
            "fillOpacity": 0.7,
            "fillColor": vacancy_class(f["properties"].get("site_taux_vacance")),
        },
    )


def plots(ctx: MapContext) -> folium.GeoJson | None:
    """Activity plots: on the market only for the public (the gate's rows), prices from b2b up."""
    restricted = bool(ctx.gate.view("activity-plots").rows)
    return _geojson(
        ctx,
        "activity-plots",
        name=text("plots" if restricted else "plots_all", ctx.lang),
        style_function=lambda _: {"color": PLOT, "weight": 1.5, "fillOpacity": 0.4},
    )


def heritage(ctx: MapContext) -> list[folium.GeoJson]:
    """Protection perimeters (dashed) and historic monuments (points)."""
    perimeters = _geojson(
        ctx,
        "heritage-perimeters",
        simplify=5e-5,
        name=text("perimeters", ctx.lang),
        style_function=lambda _: {
            "color": HERITAGE, "weight": 1, "dashArray": "4 4", "fillOpacity": 0.05,
        },
    )  # fmt: skip
    monuments = _geojson(
        ctx,
        "heritage-monuments",
        name=text("monuments", ctx.lang),
        marker=folium.CircleMarker(radius=6, color=HERITAGE, fill=True, fill_opacity=0.9),
    )
    return [layer for layer in (perimeters, monuments) if layer is not None]


# A marker per row [lat, lon, label, colour]; the label as text, never as HTML.
SERVICE_MARKER = """
function (row) {
    var marker = L.circleMarker(new L.LatLng(row[0], row[1]),
        {radius: 5, color: row[3], fillColor: row[3], fillOpacity: 0.9, weight: 1});
    var label = document.createElement('span');
    label.textContent = row[2];
    marker.bindTooltip(label);
    return marker;
}"""


def services(ctx: MapContext) -> list[folium.FeatureGroup]:
    """Public facilities, one clustered layer per BPE domain."""
    try:
        frame = ctx.frame("services", extra=("domaine",))
    except ABSENT:
        return []
    out = []
    for letter in sorted(frame["domaine"].dropna().unique()):
        rows = frame[frame["domaine"] == letter]
        colour = DOMAIN_COLOURS.get(letter, "#666666")
        data = [
            [round(g.y, 5), round(g.x, 5), str(label or ""), colour]
            for g, label in zip(rows.geometry, rows["libelle_typequ"], strict=True)
            if g is not None and not g.is_empty
        ]
        name = f"{text('services', ctx.lang)} — {domain_label(letter, ctx.lang)}"
        # In a group of its own: FastMarkerCluster adds itself to its parent whatever ``show``
        # says (folium 0.20), so the group is what starts hidden and what the control toggles.
        group = folium.FeatureGroup(name=name, show=False)
        plugins.FastMarkerCluster(data, callback=SERVICE_MARKER, control=False).add_to(group)
        out.append(group)
    return out


def communes(ctx: MapContext) -> folium.GeoJson | None:
    """Commune outlines (the base map's frame, and what the commune search looks in)."""
    return _geojson(
        ctx,
        "communes",
        simplify=1e-4,
        name=text("communes", ctx.lang),
        style_function=lambda _: {"color": "#444444", "weight": 1, "fill": False},
    )


def flood(ctx: MapContext) -> folium.TileLayer | None:
    """Flood hazard classes, our own map tiles."""
    if ctx.version("flood-hazard") is None:
        return None
    return folium.TileLayer(
        tiles=ctx.map_tiles("flood-hazard", "classes"),
        name=text("flood", ctx.lang),
        attr="PPR",
        overlay=True,
        show=False,
        opacity=0.6,
        max_zoom=19,
    )


def relief(ctx: MapContext) -> folium.TileLayer | None:
    """The hillshade of our elevation model: the default base layer."""
    if ctx.version("elevation") is None:
        return None
    return folium.TileLayer(
        tiles=ctx.map_tiles("elevation", "hillshade"),
        name=text("relief", ctx.lang),
        attr="Atlas",
        overlay=False,
        max_zoom=19,
    )


def production_basemap(ctx: MapContext) -> folium.TileLayer | None:
    """The tile server ATLAS_BASEMAP_URL names (Plan IGN…), when an operator set one."""
    if not ctx.basemap_url:
        return None
    return folium.TileLayer(
        tiles=ctx.basemap_url,
        name=text("basemap", ctx.lang),
        attr=ctx.basemap_attribution or "—",
        overlay=False,
        max_zoom=19,
    )


def _vector_grid(
    ctx: MapContext,
    collection_id: str,
    name: str,
    style: str,
    fields: tuple[str, ...] = (),
    show: bool = False,
) -> plugins.VectorGridProtobuf | None:
    """A layer of our vector tiles, from the collection's min zoom, interactive when it has
    fields (a click shows them, labelled)."""
    if ctx.version(collection_id) is None:
        return None
    min_zoom = ctx.gate.tile_min_zoom(collection_id)
    interactive = "true" if fields else "false"
    options = (
        f"{{vectorTileLayerStyles: {{'{collection_id}': {style}}}, minZoom: {min_zoom},"
        f" maxNativeZoom: 16, interactive: {interactive}, attribution: 'Atlas'}}"
    )
    layer = plugins.VectorGridProtobuf(
        ctx.vector_tiles(collection_id, fields), name=name, options=options, show=show
    )
    labelled = [f for f in fields if f in FIELDS[collection_id]]  # styling-only fields unlabelled
    layer.atlas_labels = {f: field_label(collection_id, f, ctx.lang) for f in labelled}  # type: ignore[attr-defined]
    return layer


def roads(ctx: MapContext) -> plugins.VectorGridProtobuf | None:
    """Roads of the base map (OpenStreetMap, ingested)."""
    style = "{color: '#ffffff', weight: 2, opacity: 0.9}"
    return _vector_grid(ctx, "roads", text("roads", ctx.lang), style, show=True)


def water(ctx: MapContext) -> list[plugins.VectorGridProtobuf]:
    """Rivers and lakes of the base map."""
    out = []
    for collection_id, style in (
        ("water-bodies", "{fill: true, fillColor: '#a6cee3', fillOpacity: 0.8, weight: 0}"),
        ("waterways", "{color: '#4a90c2', weight: 1.5}"),
    ):
        layer = _vector_grid(ctx, collection_id, text("water", ctx.lang), style, show=True)
        if layer is not None:
            out.append(layer)
    return out


def parcels(ctx: MapContext) -> plugins.VectorGridProtobuf | None:
    """Cadastral parcels from vector tiles; owners only in the tiles of a tier that sees them."""
    try:
        fields = ctx.shown_fields("parcels")
    except ABSENT:
        return None
    style = "{color: '#7f7f7f', weight: 0.6, fill: true, fillOpacity: 0.02}"
    return _vector_grid(ctx, "parcels", text("parcels", ctx.lang), style, fields)


def pipe_style() -> str:
    """The JavaScript style function of pipes: colour by material, width by diameter."""
    widths = " ".join(f"if (d < {limit}) return {w};" for limit, w in DIAMETER_WIDTHS)
    return (
        f"function (p) {{ var colours = {json.dumps(MATERIAL_COLOURS)}; var d = p.diametre_equivalent || 0;"
        f" function width() {{ {widths} return {WIDEST}; }}"
        f" return {{color: colours[p.materiau] || '{OTHER_MATERIAL}', weight: width(), opacity: 0.9}}; }}"
    )


def pipes(ctx: MapContext) -> plugins.VectorGridProtobuf | None:
    """The drinking-water network by diameter and material (staff only: others have no view)."""
    try:
        fields = ctx.shown_fields("water-pipes")
    except ABSENT:
        return None
    styled = tuple(dict.fromkeys(("materiau", "diametre_equivalent", *fields)))
    return _vector_grid(ctx, "water-pipes", text("pipes", ctx.lang), pipe_style(), styled)
