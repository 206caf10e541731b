"""A sheet as an A4 PDF (reportlab), rendered on the server from the sheet alone.

Title and subtitle, the static map (``static_map``), every section's figures as a table, the
contact, the date the facts were verified, and on every page the sheet's URL, the day it was
generated and "page n / N". The text is set in the PDF's standard Helvetica, which every reader
has (nothing to embed, no system font): its WinAnsi encoding holds French (é è à ç œ « ») and €;
the few characters outside it that French typography uses (the narrow no-break space of
``1 234``) are written as their nearest WinAnsi equivalent (``pdf_text``).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from atlas.errors import InvalidInput
from atlas.policy.rasters import RasterReader
from atlas.portal.sheet import Section, Sheet
from atlas.portal.static_map import render_map

# Binary streams: reportlab's default ASCII85 wrapping (for 7-bit channels) is done in pure
# Python, a quarter of a sheet's rendering time, and makes the PDF a quarter larger.
rl_config.useA85 = 0
NAVY = colors.HexColor("#123b5c")  # the agglomeration's colour (atlas.css's bar)
RULE = colors.HexColor("#dde3ea")
LABEL_BG = colors.HexColor("#f6f8fa")
MUTED = colors.HexColor("#5b6675")
MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN
MAP_PX = (1400, 800)  # drawn at 174 x 99 mm: about 200 dpi
# Words of the PDF only (the sheet itself is already translated): French, English.
WORDS: dict[str, tuple[str, str]] = {
    "kind_site": ("Fiche parc d’activités", "Business park sheet"),
    "kind_plot": ("Fiche terrain", "Plot sheet"),
    "contact": ("Votre contact", "Your contact"),
    "verified": ("Vérifié le {date}", "Verified on {date}"),
    "not_verified": ("Date de vérification inconnue", "Verification date unknown"),
    "generated": ("Généré le {date}", "Generated on {date}"),
    "page": ("page {n} / {total}", "page {n} of {total}"),
    "filename_site": ("fiche-parc", "business-park-sheet"),
    "filename_plot": ("fiche-terrain", "plot-sheet"),
}
MONTHS = (
    ("janvier", "January"), ("février", "February"), ("mars", "March"), ("avril", "April"),
    ("mai", "May"), ("juin", "June"), ("juillet", "July"), ("août", "August"),
    ("septembre", "September"), ("octobre", "October"), ("novembre", "November"),
    ("décembre", "December"),
)  # fmt: skip
# Characters French text holds that WinAnsi (cp1252) lacks, and what stands for them.
_NEAREST = str.maketrans(
    {
        "\u202f": "\u00a0",  # narrow no-break space (1 234) -> no-break space
        "\u2009": " ",  # thin space
        "\u2007": "\u00a0",  # figure space
        "\u2212": "-",  # minus sign
        "\u2264": "<=",
        "\u2265": ">=",
        "\u2248": "~",
    }
)


def word(key: str, lang: str, **values: object) -> str:
    """One of the PDF's own words in ``lang``."""
    return WORDS[key][lang == "en"].format(**values)


def day(value: dt.date, lang: str) -> str:
    """A date in words: ``16 septembre 2024`` / ``16 September 2024``."""
    return f"{value.day} {MONTHS[value.month - 1][lang == 'en']} {value.year}"


def pdf_text(text: str) -> str:
    """``text`` in what Helvetica's WinAnsi encoding can show (a stand-in for anything else),
    escaped for reportlab's paragraph markup."""
    near = text.translate(_NEAREST)
    shown = near.encode("cp1252", errors="replace").decode("cp1252")
    return escape(shown)


def filename(sheet: Sheet) -> str:
    """A readable ASCII file name: ``fiche-terrain-91228_TERRAIN-ECO_00001.pdf``."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", sheet.id[:80]).strip("_") or sheet.kind
    return f"{word('filename_' + sheet.kind, sheet.lang)}-{safe}.pdf"


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName="Helvetica", fontSize=9.5, leading=12.5)
    return {
        "body": base,
        "kind": ParagraphStyle("kind", base, fontSize=9, textColor=MUTED, spaceAfter=2),
        "title": ParagraphStyle(
            "title", base, fontName="Helvetica-Bold", fontSize=19, leading=23, textColor=NAVY
        ),
        "subtitle": ParagraphStyle("subtitle", base, fontSize=11.5, leading=15, textColor=MUTED),
        "heading": ParagraphStyle(
            "heading",
            base,
            fontName="Helvetica-Bold",
            fontSize=12,
            leading=15,
            textColor=NAVY,
            spaceBefore=8,
            spaceAfter=4,
        ),
        "label": ParagraphStyle("label", base, fontName="Helvetica-Bold", alignment=TA_LEFT),
        "note": ParagraphStyle("note", base, fontSize=9, textColor=MUTED),
    }


def _table(section: Section, styles: dict[str, ParagraphStyle]) -> Flowable:
    rows = [
        [
            Paragraph(pdf_text(f.label), styles["label"]),
            Paragraph(pdf_text(f.value), styles["body"]),
        ]
        for f in section.figures
    ]
    table = Table(rows, colWidths=[WIDTH * 0.42, WIDTH * 0.58], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, RULE),
                ("BACKGROUND", (0, 0), (0, -1), LABEL_BG),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _map(sheet: Sheet, relief: RasterReader | None) -> list[Flowable]:
    """The static map at the text's width; nothing when the sheet has no shape to draw."""
    try:
        png = render_map(sheet, width=MAP_PX[0], height=MAP_PX[1], relief=relief)
    except InvalidInput:
        return []
    height = WIDTH * MAP_PX[1] / MAP_PX[0]
    return [Image(io.BytesIO(png), width=WIDTH, height=height), Spacer(1, 4 * mm)]


def story(sheet: Sheet, relief: RasterReader | None = None) -> list[Flowable]:
    """The flowables of the sheet, in reading order."""
    styles = _styles()
    lang = sheet.lang
    out: list[Flowable] = [
        Paragraph(pdf_text(word(f"kind_{sheet.kind}", lang)), styles["kind"]),
        Paragraph(pdf_text(sheet.title), styles["title"]),
    ]
    if sheet.subtitle:
        out.append(Paragraph(pdf_text(sheet.subtitle), styles["subtitle"]))
    out += [Spacer(1, 4 * mm), *_map(sheet, relief)]
    for section in sheet.sections:
        if section.figures:
            heading = Paragraph(pdf_text(section.title), styles["heading"])
            out.append(KeepTogether([heading, _table(section, styles)]))
    out.append(KeepTogether(_contact(sheet, styles)))
    return out


def _contact(sheet: Sheet, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    lang, c = sheet.lang, sheet.contact
    lines = [f"<b>{pdf_text(c.name)}</b>", pdf_text(c.role), pdf_text(c.email)]
    if c.phone:
        lines.append(pdf_text(c.phone))
    verified = (
        word("verified", lang, date=day(sheet.verified_on, lang))
        if sheet.verified_on is not None
        else word("not_verified", lang)
    )
    return [
        Paragraph(pdf_text(word("contact", lang)), styles["heading"]),
        Paragraph("<br/>".join(line for line in lines if line), styles["body"]),
        Spacer(1, 3 * mm),
        Paragraph(pdf_text(verified), styles["note"]),
    ]


def _numbered(footer_left: str, lang: str) -> type[Canvas]:
    """A canvas class that writes the footer once the page count is known (two passes)."""

    class Numbered(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for n, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._footer(n, total)
                super().showPage()
            super().save()

        def _footer(self, n: int, total: int) -> None:
            self.saveState()
            self.setStrokeColor(RULE)
            self.line(MARGIN, 14 * mm, A4[0] - MARGIN, 14 * mm)
            self.setFont("Helvetica", 8)
            self.setFillColor(MUTED)
            self.drawString(MARGIN, 10 * mm, pdf_text_plain(footer_left))
            self.drawRightString(
                A4[0] - MARGIN, 10 * mm, pdf_text_plain(word("page", lang, n=n, total=total))
            )
            self.restoreState()

    return Numbered


def pdf_text_plain(text: str) -> str:
    """``text`` in WinAnsi, unescaped (for the canvas, which takes no markup)."""
    return text.translate(_NEAREST).encode("cp1252", errors="replace").decode("cp1252")


def render_pdf(
    sheet: Sheet,
    *,
    url: str,
    relief: RasterReader | None = None,
    generated: dt.date | None = None,
) -> bytes:
    """The sheet as PDF bytes; ``url`` is the sheet's page, printed on every page."""
    lang = sheet.lang
    when = generated or dt.datetime.now(dt.UTC).date()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=22 * mm,
        title=pdf_text_plain(sheet.title),
        author="Atlas",
        subject=pdf_text_plain(word(f"kind_{sheet.kind}", lang)),
        lang=lang,
        invariant=True,  # no random document id: the same sheet the same day gives the same bytes
    )
    footer = f"{url}  ·  {word('generated', lang, date=day(when, lang))}"
    doc.build(story(sheet, relief), canvasmaker=_numbered(footer, lang))
    return out.getvalue()
