"""Fonts: DejaVu draws every character of a French sheet; without it, Pillow's own font and text
folded to ASCII, so that a card is still readable."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from atlas.portal import fonts
from atlas.portal.fonts import font, full, shown
from atlas.portal.share_card import render_card
from atlas.portal.sheet import Contact, Figure, Section, Sheet
from tests.helpers import in_ci

FRENCH = "Écopôle à Évry — 1\u202f234 € œuvre ç"
NOTDEF = "\ue000"  # a private-use character: no font here has it, its glyph is the missing one


def _ink(text: str, face) -> np.ndarray:
    image = Image.new("L", (80, 60), 0)
    ImageDraw.Draw(image).text((5, 5), text, fill=255, font=face)
    return np.asarray(image)


def _dejavu():
    if not (fonts.DEJAVU / fonts.FILES[False]).is_file():
        if in_ci():
            pytest.fail("fonts-dejavu-core is not installed (.ci/run installs it)")
        pytest.skip("fonts-dejavu-core is not installed")
    return font(30)


def test_dejavu_has_every_glyph_of_french() -> None:
    """Each letter of a French sheet is drawn with its own glyph, not the missing-glyph box."""
    face = _dejavu()
    assert full(face) and shown(FRENCH, face) == FRENCH
    missing = _ink(NOTDEF, face)
    for char in "éèàçÉôœ€’«»":
        assert not np.array_equal(_ink(char, face), missing), char


def test_without_dejavu_text_is_folded_to_ascii(tmp_path) -> None:
    """Pillow's own font (ASCII glyphs) gets ASCII text: no box where an accent was."""
    face = font(30, directory=tmp_path)  # no font file there
    assert not full(face)
    assert shown(FRENCH, face) == "Ecopole a Evry - 1 234 EUR oeuvre c"
    missing = _ink(NOTDEF, face)
    for char in shown("éÉç€", face):
        assert not np.array_equal(_ink(char, face), missing), char


def test_a_card_without_dejavu(monkeypatch, tmp_path) -> None:
    """The card renders with the fallback font, its text drawn."""
    monkeypatch.setattr(fonts, "DEJAVU", tmp_path)
    font.cache_clear()
    try:
        sheet = Sheet(
            kind="site",
            id="s1",
            lang="fr",
            title="Écopôle de Sénart",
            subtitle="Combs-la-Ville",
            sections=(
                Section(
                    "Chiffres clés",
                    (Figure("Surface (ha)", "118,5", "site_surf_brute"),),
                    "figures",
                ),
            ),
            contact=Contact("A", "B", "c@example.org"),
            verified_on=None,
        )
        pixels = np.asarray(Image.open(io.BytesIO(render_card(sheet))).convert("RGB"))
    finally:
        font.cache_clear()
    assert pixels.shape == (630, 1200, 3)
    assert (pixels[:, :570].min(axis=-1) > 200).mean() > 0.002  # white text on the navy panel
