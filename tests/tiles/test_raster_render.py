"""Rendering on synthetic arrays: hillshade geometry, class bounds, colours and transparency."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile

from atlas.tiles import render
from atlas.tiles.colormaps import FLOOD_CLASSES, SLOPE_CLASSES
from atlas.tiles.render import ImageFormat


def _plane(dzdx: float, dzdy: float, size: int = 6) -> np.ndarray:
    """Heights of a plane rising ``dzdx`` to the east and ``dzdy`` to the north (1 m pixels)."""
    cols, rows = np.meshgrid(np.arange(size), np.arange(size))
    return cols * dzdx - rows * dzdy  # row 0 is north


def _lambert(dzdx: float, dzdy: float) -> float:
    """The expected shade: 1 + 254·cos(angle between the normal and the default sun)."""
    az, alt = math.radians(315), math.radians(45)
    sun = np.array([math.sin(az) * math.cos(alt), math.cos(az) * math.cos(alt), math.sin(alt)])
    normal = np.array([-dzdx, -dzdy, 1.0]) / math.sqrt(1 + dzdx**2 + dzdy**2)
    return max(1.0, 1 + 254 * float(sun @ normal))


@pytest.mark.parametrize(("dzdx", "dzdy"), [(0, 0), (1, 0), (-1, 0), (0, 1), (0.5, -0.5), (-1, 1)])
def test_hillshade_of_a_plane_is_lamberts_cosine(dzdx, dzdy):
    values = _plane(dzdx, dzdy).astype("float64")
    shade, valid = render.hillshade(values, np.ones_like(values, dtype=bool), 1.0, 1.0)
    assert shade.shape == (4, 4) and valid.all()
    assert np.abs(shade.astype(float) - _lambert(dzdx, dzdy)).max() <= 1


def test_a_slope_facing_the_sun_is_lighter_than_one_facing_away():
    # Rising to the south-east, the ground faces north-west, where the default sun is.
    lit, _ = render.hillshade(_plane(1, -1), np.ones((6, 6), bool), 1.0, 1.0)
    dark, _ = render.hillshade(_plane(-1, 1), np.ones((6, 6), bool), 1.0, 1.0)
    assert lit.min() > 200 > 20 > dark.max()


def test_ground_resolution_flattens_the_shade():
    steep, _ = render.hillshade(_plane(1, 0), np.ones((6, 6), bool), 1.0, 1.0)
    gentle, _ = render.hillshade(_plane(1, 0), np.ones((6, 6), bool), 10.0, 10.0)
    flat, _ = render.hillshade(_plane(0, 0), np.ones((6, 6), bool), 1.0, 1.0)
    assert abs(int(gentle[0, 0]) - int(flat[0, 0])) < abs(int(steep[0, 0]) - int(flat[0, 0]))


def test_a_nodata_neighbour_leaves_a_pixel_unshaded():
    valid = np.ones((6, 6), bool)
    valid[2, 2] = False
    shade, full = render.hillshade(_plane(0, 0), valid, 1.0, 1.0)
    assert not full[0:3, 0:3].any() and full[3:, 3:].all()
    assert (shade[~full] == 0).all()


def test_classes_are_half_open_at_their_bounds():
    values = np.array([0.0, 1.999, 2.0, 4.9, 5.0, 10.0, 14.99, 15.0, 400.0])
    assert render.classify(values, SLOPE_CLASSES).tolist() == [0, 0, 1, 1, 2, 3, 3, 4, 4]


def _decode(data: bytes) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with MemoryFile(data) as memory, memory.open() as image:
            return image.read()


@pytest.mark.parametrize("image_format", list(ImageFormat))
def test_classes_decode_to_their_colours_and_nodata_to_transparent(image_format):
    codes = np.tile(np.arange(5), (5, 1))
    valid = np.ones((5, 5), bool)
    valid[0] = False
    data = render.encode(render.paint(codes, valid, FLOOD_CLASSES), valid, image_format, exact=True)
    pixels = _decode(data)
    assert pixels.shape == (4, 5, 5)
    assert (pixels[3][0] == 0).all() and (pixels[3][1:] == 255).all()
    for item in FLOOD_CLASSES:
        assert (pixels[:3, 1:, item.code] == np.array(item.color)[:, None]).all()


def test_media_types():
    assert ImageFormat.PNG.media_type == "image/png"
    assert ImageFormat.WEBP.media_type == "image/webp"
