"""A sheet's share card: the 1200 × 630 PNG that OpenGraph and Twitter cards show for a link.

The sheet's title, subtitle and two or three key figures on the agglomeration's navy, its static
map on the right. The card shows what a sheet shows the public: the API builds its sheet through
a public gate whoever asks (``atlas.api.routers.portal_files``), since a shared link's image is
fetched by anyone's crawler and cached by social networks.
"""

from __future__ import annotations

from PIL import Image, ImageDraw

from atlas.errors import InvalidInput
from atlas.policy.rasters import RasterReader
from atlas.portal.fonts import Font, font, shown
from atlas.portal.sheet import Figure, Sheet
from atlas.portal.static_map import draw_map, encode_png

WIDTH, HEIGHT = 1200, 630  # OpenGraph's recommended size (1.91:1), Twitter's large card
MAP_WIDTH = 630
PAD = 48
NAVY = (18, 59, 92)  # the agglomeration's colours (atlas.css)
GOLD = (255, 209, 102)
WHITE = (255, 255, 255)
PALE = (200, 216, 230)
# The figures a card shows first, by national field name; the section's first ones otherwise.
PREFERRED = (
    "terr_surf_brute", "terr_stade_comm", "terr_etat_occup",
    "site_surf_comm_dispo", "plots_on_market", "site_taux_vacance", "site_surf_brute",
)  # fmt: skip
KIND = {
    "site": ("Atlas · Parc d’activités", "Atlas · Business park"),
    "plot": ("Atlas · Terrain disponible", "Atlas · Plot for sale"),
}


def key_figures(sheet: Sheet, count: int = 3) -> list[Figure]:
    """Up to ``count`` figures of the sheet's key-figures section, the preferred ones first."""
    section = next((s for s in sheet.sections if s.key == "figures"), None)
    if section is None:
        section = next((s for s in sheet.sections if s.figures), None)
    if section is None:
        return []
    ranked = sorted(
        section.figures,
        key=lambda f: PREFERRED.index(f.key) if f.key in PREFERRED else len(PREFERRED),
    )
    return ranked[:count]


def render_card(sheet: Sheet, *, relief: RasterReader | None = None) -> bytes:
    """The card as PNG bytes, 1200 × 630."""
    card = Image.new("RGB", (WIDTH, HEIGHT), NAVY)
    try:
        shown = draw_map(sheet, width=MAP_WIDTH, height=HEIGHT, relief=relief, north_arrow=False)
        card.paste(shown, (WIDTH - MAP_WIDTH, 0))
    except InvalidInput:
        pass  # a sheet without a shape: the card is its text alone
    _text(card, sheet)
    return encode_png(card)


def wrap(text: str, face: Font, width: int, draw: ImageDraw.ImageDraw) -> list[str]:
    """``text`` as ``face`` draws it, in lines no wider than ``width`` pixels (a word longer than
    that stays whole)."""
    lines: list[str] = []
    for word in shown(text, face).split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=face) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _fitted(
    text: str, sizes: tuple[int, ...], width: int, lines: int, draw: ImageDraw.ImageDraw
) -> tuple[Font, list[str]]:
    """The largest of ``sizes`` that sets ``text`` in at most ``lines`` lines."""
    for size in sizes:
        face = font(size, bold=True)
        wrapped = wrap(text, face, width, draw)
        if len(wrapped) <= lines and all(draw.textlength(w, font=face) <= width for w in wrapped):
            return face, wrapped
    face = font(sizes[-1], bold=True)
    wrapped = wrap(text, face, width, draw)[:lines]
    return face, wrapped


def _text(card: Image.Image, sheet: Sheet) -> None:
    draw = ImageDraw.Draw(card)
    width = WIDTH - MAP_WIDTH - 2 * PAD
    lang_index = sheet.lang == "en"
    draw.rectangle((0, 0, WIDTH - MAP_WIDTH, 8), fill=GOLD)
    y = PAD
    kind_face = font(24, bold=True)
    draw.text((PAD, y), shown(KIND[sheet.kind][lang_index], kind_face), fill=GOLD, font=kind_face)
    y += 46
    face, lines = _fitted(sheet.title, (50, 44, 38, 32, 28), width, 3, draw)
    for line in lines:
        draw.text((PAD, y), line, fill=WHITE, font=face)
        y += _line_height(draw, face)
    if sheet.subtitle:
        y += 6
        for line in wrap(sheet.subtitle, font(24), width, draw)[:2]:
            draw.text((PAD, y), line, fill=PALE, font=font(24))
            y += 30
    _figures(draw, key_figures(sheet), y + 24, width)


def _line_height(draw: ImageDraw.ImageDraw, face: Font) -> int:
    """A line's advance: the height of accented capitals and descenders, and a fifth more."""
    return round((draw.textbbox((0, 0), "ÉÀgy", font=face)[3]) * 1.2)


def _figures(draw: ImageDraw.ImageDraw, figures: list[Figure], top: int, width: int) -> None:
    """The key figures in a row at the bottom: value large, label under it."""
    if not figures:
        return
    column = width // len(figures)
    y = max(top, HEIGHT - PAD - 96)
    for i, figure in enumerate(figures):
        x = PAD + i * column
        value_face, value_lines = _fitted(figure.value, (40, 34, 28, 22), column - 16, 1, draw)
        draw.text((x, y), value_lines[0] if value_lines else "", fill=WHITE, font=value_face)
        label_face = _label_face(figure.label, column - 16, draw)
        for j, line in enumerate(wrap(figure.label, label_face, column - 16, draw)[:2]):
            draw.text((x, y + 50 + 22 * j), line, fill=PALE, font=label_face)


def _label_face(label: str, width: int, draw: ImageDraw.ImageDraw) -> Font:
    """The largest label size (18 to 13 px) at which the label's longest word fits ``width``."""
    words = label.split() or [""]  # as drawn by DejaVu: folding to ASCII only narrows them
    for size in (18, 16, 14):
        face = font(size)
        if max(draw.textlength(w, font=face) for w in words) <= width:
            return face
    return font(13)
