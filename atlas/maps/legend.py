"""The legend box of a map: what each colour means, in the map's language (HTML, no script)."""

from __future__ import annotations

from html import escape

from atlas.layers.star_eau import COM_MATERIAU
from atlas.maps import layers
from atlas.maps.context import MapContext
from atlas.maps.labels import domain_label, text

BOX = (
    "position:absolute;bottom:56px;left:10px;z-index:1000;background:#fff;padding:6px 10px;"
    "border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.4);font:12px/1.4 sans-serif;"
    "max-height:45vh;overflow:auto"
)


def _swatch(colour: str, label: str, line: bool = False) -> str:
    shape = "height:3px;margin-bottom:4px" if line else "height:12px"
    return (
        f'<div><span style="display:inline-block;width:14px;{shape};background:{colour};'
        f'border:1px solid #555;margin-right:6px"></span>{escape(label)}</div>'
    )


def _vacancy_rows() -> list[str]:
    bounds = ["0", *(f"{b:g}" for b in layers.VACANCY_BREAKS)]
    rows = [
        _swatch(colour, f"{low}–{high} %")
        for colour, low, high in zip(layers.VACANCY_COLOURS, bounds, bounds[1:], strict=False)
    ]
    return [*rows, _swatch(layers.VACANCY_COLOURS[-1], f"≥ {bounds[-1]} %")]


def _pipe_rows(ctx: MapContext) -> list[str]:
    rows = [
        f"<div><b>{escape(text('pipes', ctx.lang))}</b> — {escape(text('material', ctx.lang))}</div>"
    ]
    rows += [
        _swatch(c, COM_MATERIAU.get(code, code), line=True)
        for code, c in layers.MATERIAL_COLOURS.items()
    ]
    rows.append(_swatch(layers.OTHER_MATERIAL, text("other", ctx.lang), line=True))
    limits = [f"< {limit} mm" for limit, _ in layers.DIAMETER_WIDTHS]
    widths = ", ".join(
        f"{label}: {w:g} px" for label, (_, w) in zip(limits, layers.DIAMETER_WIDTHS, strict=True)
    )
    rows.append(
        f"<div>{escape(text('diameter', ctx.lang))}: {escape(widths)}, ≥ 300 mm: {layers.WIDEST:g} px</div>"
    )
    return rows


def legend(ctx: MapContext) -> str:
    """The legend's HTML for the tier of the context's gate."""
    rows = [f"<div><b>{escape(text('legend', ctx.lang))}</b></div>"]
    rows.append(_swatch(layers.SITE, text("sites", ctx.lang)))
    on_market_only = bool(ctx.gate.view("activity-plots").rows)  # the public's plots
    rows.append(_swatch(layers.PLOT, text("plots" if on_market_only else "plots_all", ctx.lang)))
    rows.append(_swatch(layers.HERITAGE, text("monuments", ctx.lang)))
    rows += [_swatch(c, domain_label(d, ctx.lang)) for d, c in layers.DOMAIN_COLOURS.items()]
    if ctx.gate.tier == "internal":
        rows.append(f"<div><b>{escape(text('vacancy', ctx.lang))}</b></div>")
        rows += _vacancy_rows()
        rows += _pipe_rows(ctx)
    # A region the keyboard can reach (tabindex): the box scrolls when the legend is long.
    name = escape(text("legend", ctx.lang))
    return (
        f'<div class="atlas-legend" role="region" aria-label="{name}" tabindex="0" '
        f'style="{BOX}">{"".join(rows)}</div>'
    )
