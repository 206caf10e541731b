"""The static map of a sheet: the subject placed inside the image, true scale, our own relief."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
import shapely
from PIL import Image
from pyproj import Geod

from atlas.errors import InvalidInput
from atlas.policy.tiers import Tier
from atlas.portal.sheet import Role
from atlas.portal.static_map import frame_for, render_map, to_mercator
from atlas.query.crs import transformer
from tests.portal.gate_sheets import a_site, gate_of, priced_plot, sheet_of
from tests.served_demo import Served

WIDTH, HEIGHT = 640, 400


def _image(data: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (WIDTH, HEIGHT)
    return np.asarray(image.convert("RGB")).astype(int)


def _subject_pixels(sheet) -> shapely.Polygon:
    frame = frame_for(sheet, WIDTH, HEIGHT)
    subject = next(s.geometry for s in sheet.shapes if s.role == Role.SUBJECT)
    return frame.pixels(to_mercator(subject))


def test_the_plot_is_inside_the_image_in_its_colour(served: Served) -> None:
    """The subject's pixels lie inside the image with room around it, filled in the plot colour."""
    sheet = sheet_of(served, Tier.PUBLIC, "plot", priced_plot(served))
    pixels = _image(render_map(sheet, width=WIDTH, height=HEIGHT))
    outline = _subject_pixels(sheet)
    minx, miny, maxx, maxy = outline.bounds
    assert 0 < minx < maxx < WIDTH and 0 < miny < maxy < HEIGHT
    inside = outline.buffer(-4)  # away from the outline's stroke
    point = inside.representative_point() if not inside.is_empty else outline.centroid
    r, g, b = pixels[int(point.y), int(point.x)]
    assert r > g > b and r - b > 60, (r, g, b)  # the subject's orange over the ground
    assert pixels.std() > 10, "not a blank image"
    # The corners are the ground, far from the subject's orange.
    r, g, b = pixels[5, 5]
    assert abs(r - b) < 40


def test_a_site_fills_the_view_with_a_margin(served: Served) -> None:
    """A site's sheet frames the whole site: its bounds span most of one dimension."""
    outline = _subject_pixels(sheet_of(served, Tier.PUBLIC, "site", a_site(served)))
    minx, miny, maxx, maxy = outline.bounds
    assert 0 <= minx and maxx <= WIDTH and 0 <= miny and maxy <= HEIGHT
    assert max((maxx - minx) / WIDTH, (maxy - miny) / HEIGHT) > 0.5


def test_the_scale_is_true_on_the_ground(served: Served) -> None:
    """Ground metres per pixel against pyproj's geodesic distance across the view's centre."""
    frame = frame_for(sheet_of(served, Tier.PUBLIC, "plot", priced_plot(served)), WIDTH, HEIGHT)
    minx, miny, maxx, maxy = frame.bounds
    back = transformer("EPSG:3857", "OGC:CRS84")
    y = (miny + maxy) / 2
    (lon0, lon1), (lat0, lat1) = back.transform([minx, maxx], [y, y])
    distance = Geod(ellps="WGS84").inv(lon0, lat0, lon1, lat1)[2]
    assert frame.ground_per_pixel == pytest.approx(distance / WIDTH, rel=0.005)


def test_our_relief_shades_the_ground(served: Served, tmp_path) -> None:
    """With the elevation reader the gate hands out, the ground varies (hillshade) and the
    credit names IGN; without it, the ground is plain."""
    gate = gate_of(served, Tier.PUBLIC)
    sheet = sheet_of(served, Tier.PUBLIC, "plot", priced_plot(served))
    sheet = dataclasses.replace(
        sheet, shapes=tuple(s for s in sheet.shapes if s.role == Role.SUBJECT)
    )
    plain = _image(render_map(sheet, width=WIDTH, height=HEIGHT, north_arrow=False))
    shaded = _image(
        render_map(
            sheet,
            width=WIDTH,
            height=HEIGHT,
            relief=gate.raster_reader("elevation"),
            north_arrow=False,
        )
    )
    band = slice(40, 120)  # above the scale bar and credit, mostly ground
    assert plain[band, :200].std(axis=(0, 1)).max() < 0.5
    assert shaded[band, :200].std(axis=(0, 1)).max() > 1.0
    assert not np.array_equal(plain, shaded)
    # A test artifact, as the browser tests' screenshots: the full sheet map over the relief.
    (tmp_path / "static-map.png").write_bytes(
        render_map(
            sheet_of(served, Tier.PUBLIC, "plot", priced_plot(served)),
            relief=gate.raster_reader("elevation"),
        )
    )


def test_a_sheet_without_shapes_is_refused_in_one_line(served: Served) -> None:
    sheet = dataclasses.replace(
        sheet_of(served, Tier.PUBLIC, "plot", priced_plot(served)), shapes=()
    )
    with pytest.raises(InvalidInput, match="no shape"):
        render_map(sheet)
