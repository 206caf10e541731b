"""The sheet as PDF, read back with pypdf: every figure, accents and € intact, the tier's own."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import pypdf
import pytest

from atlas.policy.tiers import Tier
from atlas.portal import words
from atlas.portal.pdf import filename, pdf_text, render_pdf
from atlas.portal.sheet import Sheet
from tests.portal.gate_sheets import a_site, feature, gate_of, priced_plot, sheet_of
from tests.served_demo import Served

URL = "https://atlas.example.org/plots/x"


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page."""
    assert data.startswith(b"%PDF-")
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def squeezed(text: str) -> str:
    """Text without any whitespace: a table cell's value wraps where reportlab chose."""
    return "".join(text.split())


def shown(value: str) -> str:
    """What the PDF shows of a sheet's text (WinAnsi stand-ins), squeezed."""
    return squeezed(pdf_text(value).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))


def assert_whole_sheet(sheet: Sheet, text: str) -> None:
    """Title, subtitle, every figure's label and value, contact and verified date are there."""
    flat = squeezed(text)
    expected = [sheet.title, sheet.subtitle, sheet.contact.name, sheet.contact.email]
    expected += [part for s in sheet.sections if s.figures for part in (s.title,)]
    expected += [part for s in sheet.sections for f in s.figures for part in (f.label, f.value)]
    missing = [e for e in expected if e and shown(e) not in flat]
    assert not missing, missing


def test_a_b2b_plot_pdf_has_every_figure_and_the_price(served: Served) -> None:
    """Read back: the sheet's every figure, the price the gate gave b2b, accents and € intact."""
    terr_id = priced_plot(served)
    sheet = sheet_of(served, Tier.B2B, "plot", terr_id)
    pages = pdf_pages(render_pdf(sheet, url=URL, generated=dt.date(2026, 3, 9)))
    text = "\n".join(pages)
    assert_whole_sheet(sheet, text)
    raw = feature(served, Tier.B2B, "activity-plots", terr_id).properties
    assert squeezed(words.number(float(raw["terr_m2_prix"]), "fr", 2)) in squeezed(text)
    assert terr_id in text
    # French as written: accented labels and the euro sign come back as they went in.
    accented = [
        f.label for s in sheet.sections for f in s.figures if "€" in f.label or "é" in f.label
    ]
    assert any("€" in a for a in accented) and any("é" in a for a in accented)
    for label in accented:
        assert squeezed(label) in squeezed(text), label
    assert "Généré le 9 mars 2026" in text and URL in text
    assert all(f"page {n} / {len(pages)}" in p for n, p in enumerate(pages, start=1))
    if sheet.verified_on is not None:
        assert "Vérifié le" in text


def test_the_public_plot_pdf_has_no_price(served: Served) -> None:
    """The same plot through the public gate: no price figure, no price value, no b2b field."""
    terr_id = priced_plot(served)
    b2b = sheet_of(served, Tier.B2B, "plot", terr_id)
    public = sheet_of(served, Tier.PUBLIC, "plot", terr_id)
    text = squeezed("\n".join(pdf_pages(render_pdf(public, url=URL))))
    assert_whole_sheet(public, text)
    for key in ("terr_m2_prix", "price_total", "terr_maitrise_fonc", "eau_dn_classe"):
        hidden = b2b.figure(key)
        assert hidden is not None and public.figure(key) is None, key
        assert squeezed(hidden.label) not in text, key
    assert squeezed(b2b.figure("price_total").value) not in text


def test_an_english_site_pdf(served: Served) -> None:
    """A site's sheet in English: its figures, the English words of the PDF itself."""
    sheet = sheet_of(served, Tier.PUBLIC, "site", a_site(served), "en")
    pages = pdf_pages(render_pdf(sheet, url=URL, generated=dt.date(2026, 3, 9)))
    text = "\n".join(pages)
    assert_whole_sheet(sheet, text)
    assert "Generated on 9 March 2026" in text and "Business park sheet" in text
    assert f"page 1 of {len(pages)}" in text
    raw = feature(served, Tier.PUBLIC, "activity-sites", sheet.id).properties
    assert raw["site_nom"] in text


def test_a_sheet_without_shapes_still_prints(served: Served) -> None:
    """No shape to draw: the PDF has no map, and all the rest."""
    gate = gate_of(served, Tier.PUBLIC)
    assert gate.tier == Tier.PUBLIC
    sheet = dataclasses.replace(
        sheet_of(served, Tier.PUBLIC, "site", a_site(served)), shapes=(), verified_on=None
    )
    data = render_pdf(sheet, url=URL)
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert not any(page.images for page in reader.pages)
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert_whole_sheet(sheet, text)
    assert "Date de vérification inconnue" in text


def test_the_map_is_in_the_pdf(served: Served) -> None:
    """The static map is embedded as an image on the first page."""
    sheet = sheet_of(served, Tier.PUBLIC, "plot", priced_plot(served))
    reader = pypdf.PdfReader(io.BytesIO(render_pdf(sheet, url=URL)))
    images = reader.pages[0].images
    assert len(images) == 1 and images[0].image.size == (1400, 800)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1\u202f234,5 €", "1\u00a0234,5 €"),
        ("≥ 5 ha", "&gt;= 5 ha"),
        ("Zone <b> & « co »", "Zone &lt;b&gt; &amp; « co »"),
        ("œuvre – Ça", "œuvre – Ça"),
        ("漢", "?"),
    ],
)
def test_text_is_written_in_winansi(text: str, expected: str) -> None:
    assert pdf_text(text) == expected


def test_file_names_are_readable_ascii(served: Served) -> None:
    sheet = sheet_of(served, Tier.PUBLIC, "plot", priced_plot(served))
    assert filename(sheet) == f"fiche-terrain-{sheet.id}.pdf"
    odd = dataclasses.replace(sheet, id='é/../"x"', lang="en")
    assert filename(odd) == "plot-sheet-x.pdf"
    assert filename(dataclasses.replace(sheet, id="../..")) == "fiche-terrain-plot.pdf"
