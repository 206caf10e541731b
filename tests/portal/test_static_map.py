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
from atlas.portal.sheet import Role, Shape
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


def test_flood_zones_are_hatched_and_services_dotted(served: Served) -> None:
    """A flood zone around the plot: inside it and off the plot, stripes of two colours; a
    service at the plot's corner: a green dot."""
    sheet = sheet_of(served, Tier.PUBLIC, "plot", priced_plot(served))
    subject = next(s.geometry for s in sheet.shapes if s.role == Role.SUBJECT)
    zone = subject.buffer((subject.bounds[2] - subject.bounds[0]) * 0.2)
    corner = shapely.Point(subject.bounds[0], subject.bounds[1])
    drawn = dataclasses.replace(
        sheet,
        shapes=(
            Shape(zone, Role.FLOOD),
            Shape(subject, Role.SUBJECT),
            Shape(corner, Role.SERVICE),
        ),
    )
    pixels = _image(render_map(drawn, width=WIDTH, height=HEIGHT, north_arrow=False))
    frame = frame_for(drawn, WIDTH, HEIGHT)
    ring = (
        frame.pixels(to_mercator(zone))
        .buffer(-3)
        .difference(frame.pixels(to_mercator(subject)).buffer(3))
    )
    rows, cols = np.mgrid[0:HEIGHT, 0:WIDTH]
    inside = shapely.contains_xy(ring, cols + 0.5, rows + 0.5)
    blues = pixels[inside]
    assert len(blues) > 500
    assert (blues[:, 2] > blues[:, 0]).mean() > 0.9  # the hazard's blue over the ground
    dark = blues.sum(axis=1) < np.median(blues.sum(axis=1)) - 40  # the hatching's stripes
    assert 0.1 < dark.mean() < 0.6
    dot = frame.pixels(to_mercator(corner))
    r, g, b = pixels[int(dot.y), int(dot.x)]
    assert g > r and g > b, (r, g, b)
