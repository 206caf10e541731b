"""The share card: a 1200 x 630 PNG with the sheet's map, title and key figures, in our colours."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
from PIL import Image

from atlas.policy.tiers import Tier
from atlas.portal.share_card import HEIGHT, MAP_WIDTH, NAVY, WIDTH, key_figures, render_card
from tests.portal.gate_sheets import a_site, gate_of, priced_plot, sheet_of
from tests.served_demo import Served


def decoded(data: bytes) -> np.ndarray:
    """The card's pixels (RGB), checked to be a PNG of the card's size."""
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (1200, 630)
    return np.asarray(image.convert("RGB")).astype(int)


def share(pixels: np.ndarray, colour: tuple[int, int, int], tolerance: int = 12) -> float:
    """The share of pixels within ``tolerance`` of ``colour`` on every channel."""
    return float((np.abs(pixels - np.array(colour)).max(axis=-1) <= tolerance).mean())


def test_a_plot_card(served: Served, tmp_path) -> None:
    """Decodes at 1200 x 630, not blank: navy text panel with white text, the map with the plot
    in its colour on the right."""
    gate = gate_of(served, Tier.PUBLIC)
    sheet = sheet_of(served, Tier.PUBLIC, "plot", priced_plot(served))
    data = render_card(sheet, relief=gate.raster_reader("elevation"))
    (tmp_path / "share-card-plot.png").write_bytes(data)  # a test artifact, to look at
    pixels = decoded(data)
    panel, shown = pixels[:, : WIDTH - MAP_WIDTH], pixels[:, WIDTH - MAP_WIDTH :]
    assert pixels.std() > 20
    assert share(panel, NAVY) > 0.6  # the brand's navy
    assert share(panel, (255, 255, 255), 30) > 0.005  # the title and figures
    # The subject's fill (orange laid over the ground): red well above blue.
    r, b = shown[..., 0], shown[..., 2]
    assert ((r - b > 60) & (r > 180)).mean() > 0.05
    assert share(shown, NAVY, 30) > 0.001  # the subject's outline


def test_key_figures_are_the_sheet_s_own(served: Served) -> None:
    """Two or three figures of the key-figures section, area first for a plot."""
    plot = sheet_of(served, Tier.PUBLIC, "plot", priced_plot(served))
    chosen = key_figures(plot)
    section = next(s for s in plot.sections if s.key == "figures")
    assert 2 <= len(chosen) <= 3 and set(chosen) <= set(section.figures)
    assert chosen[0].key == "terr_surf_brute"
    site = sheet_of(served, Tier.PUBLIC, "site", a_site(served), "en")
    assert {f.key for f in key_figures(site)} <= {f.key for s in site.sections for f in s.figures}


def test_a_card_without_map_or_figures_is_still_a_card(served: Served) -> None:
    """A sheet with no shape and no section: the title on the navy panel, the right side plain."""
    sheet = sheet_of(served, Tier.PUBLIC, "site", a_site(served))
    bare = dataclasses.replace(sheet, shapes=(), sections=())
    pixels = decoded(render_card(bare))
    assert share(pixels[:, WIDTH - MAP_WIDTH :], NAVY) > 0.99
    assert share(pixels[:, : WIDTH - MAP_WIDTH], (255, 255, 255), 30) > 0.002
    assert pixels.shape[:2] == (HEIGHT, WIDTH)
