"""A sheet's small map as a PNG (Pillow), drawn on the server from the sheet's own shapes.

The shapes come in CRS84 (``Sheet.shapes``, what the caller's gate let through); they are drawn
in Web Mercator, north up, the view fitted to the subject with a margin, styled by role (never by
collection). The background is our own relief — a hillshade of the ``elevation`` raster read
through a reader the caller's gate handed out — or a plain light ground when there is none.
A scale bar, a north arrow and the sources' attribution are drawn on top. Nothing is fetched.
"""

from __future__ import annotations

import dataclasses
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import shapely
from affine import Affine
from PIL import Image, ImageDraw, ImageFilter
from rasterio.transform import from_bounds
from rasterio.warp import Resampling, reproject
from shapely.geometry.base import BaseGeometry

from atlas.errors import InvalidInput
from atlas.policy.rasters import RasterReader
from atlas.portal.fonts import font, shown
from atlas.portal.sheet import Role, Sheet
from atlas.query.crs import CRS84_CODE, transform_geometry, transformer
from atlas.tiles.render import hillshade
from atlas.types import STORAGE_CRS

MERCATOR = "EPSG:3857"
SUPERSAMPLE = 2  # shapes are drawn at twice the size and scaled down: smooth edges
MARGIN = 0.25  # of the subject's extent on each side: its surroundings show
MIN_SPAN_M = 400.0  # a small plot still shows its street block
GROUND = (244, 241, 234)  # the HTML maps' background (atlas.css .map)
# At most what a map's relief may read: 2,000 x 2,000 DEM pixels; beyond it, the plain ground.
RELIEF_MAX_PIXELS = 4_000_000
RELIEF_EXAGGERATION = 5.0
FLAT_SHADE = 1 + 254 * math.sin(math.radians(45.0))  # atlas.tiles.render.hillshade's sun
Rgba = tuple[int, int, int, int]


@dataclass(frozen=True)
class Style:
    """How one role is drawn: outline, fill (None: not filled), line width and dot radius (px)."""

    outline: Rgba
    fill: Rgba | None
    width: float
    radius: float = 0.0
    hatch: bool = False


# The maps' colours (atlas.maps.layers: site blue, plot orange, heritage purple); the subject in
# the agglomeration's navy, strongest of all.
STYLES: dict[Role, Style] = {
    Role.COMMUNE: Style((110, 110, 110, 200), None, 1.0),
    Role.FLOOD: Style((43, 108, 176, 200), (66, 146, 198, 70), 1.0, hatch=True),
    Role.HERITAGE: Style((142, 59, 118, 230), (142, 59, 118, 45), 1.5),
    Role.SITE: Style((31, 95, 139, 255), (31, 95, 139, 30), 2.0),
    Role.PLOT: Style((217, 130, 43, 255), (217, 130, 43, 70), 1.5),
    Role.SERVICE: Style((255, 255, 255, 255), (89, 161, 79, 255), 1.0, radius=4.0),
    Role.SUBJECT: Style((18, 59, 92, 255), (217, 130, 43, 120), 3.5),
}
DRAW_ORDER = (
    Role.COMMUNE, Role.FLOOD, Role.HERITAGE, Role.SITE, Role.PLOT, Role.SERVICE, Role.SUBJECT
)  # fmt: skip
# Who published what a role draws (the demo is generated in their formats); the relief is the
# IGN's LiDAR HD.
SOURCES: dict[Role, str] = {
    Role.COMMUNE: "IGN",
    Role.FLOOD: "PPR",
    Role.HERITAGE: "Mérimée",
    Role.SERVICE: "INSEE BPE",
}
DATA_WORD = {"fr": "données", "en": "data"}


@dataclass(frozen=True)
class Frame:
    """The view: a Web Mercator box and the image size it is drawn at."""

    bounds: tuple[float, float, float, float]
    width: int
    height: int

    @property
    def units_per_pixel(self) -> float:
        """Web Mercator metres per pixel (the same on both axes: the box has the image's ratio)."""
        return (self.bounds[2] - self.bounds[0]) / self.width

    @property
    def ground_per_pixel(self) -> float:
        """Ground metres per pixel at the view's centre (Web Mercator is 1/cos(lat) too large)."""
        y = (self.bounds[1] + self.bounds[3]) / 2
        lat = math.degrees(2 * math.atan(math.exp(y / 6378137.0)) - math.pi / 2)
        return self.units_per_pixel * math.cos(math.radians(lat))

    def scaled(self, factor: int) -> Frame:
        """The same view drawn ``factor`` times larger."""
        return dataclasses.replace(self, width=self.width * factor, height=self.height * factor)

    def pixels(self, geometry: BaseGeometry) -> BaseGeometry:
        """A Web Mercator geometry in this frame's pixels (y down)."""
        minx, _, _, maxy = self.bounds
        scale = self.units_per_pixel
        return shapely.transform(
            geometry, lambda xy: np.column_stack([(xy[:, 0] - minx), (maxy - xy[:, 1])]) / scale
        )


def to_mercator(geometry: BaseGeometry) -> BaseGeometry:
    """A CRS84 geometry in Web Mercator."""
    return transform_geometry(geometry, transformer(CRS84_CODE, MERCATOR))


def frame_for(sheet: Sheet, width: int, height: int, *, margin: float = MARGIN) -> Frame:
    """The view of the sheet's subject (every shape when it has none), with a margin, at the
    image's aspect ratio; InvalidInput when the sheet has nothing to draw."""
    subjects = [s.geometry for s in sheet.shapes if s.role == Role.SUBJECT] or [
        s.geometry for s in sheet.shapes
    ]
    subjects = [g for g in subjects if g is not None and not g.is_empty]
    if not subjects:
        raise InvalidInput(f"{sheet.kind} '{sheet.id[:80]}' has no shape to draw on a map")
    minx, miny, maxx, maxy = to_mercator(shapely.union_all(subjects)).bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    probe = Frame((cx - 0.5, cy - 0.5, cx + 0.5, cy + 0.5), 1, 1)
    stretch = probe.units_per_pixel / probe.ground_per_pixel  # 1/cos(lat)
    span_x = max((maxx - minx) * (1 + 2 * margin), MIN_SPAN_M * stretch)
    span_y = max((maxy - miny) * (1 + 2 * margin), MIN_SPAN_M * stretch)
    per_pixel = max(span_x / width, span_y / height)
    half_w, half_h = per_pixel * width / 2, per_pixel * height / 2
    return Frame((cx - half_w, cy - half_h, cx + half_w, cy + half_h), width, height)


def render_map(
    sheet: Sheet,
    *,
    width: int = 800,
    height: int = 500,
    relief: RasterReader | None = None,
    north_arrow: bool = True,
) -> bytes:
    """The sheet's map as PNG bytes: shapes by role over the relief (or a plain ground), a scale
    bar, a north arrow and the attribution."""
    return encode_png(
        draw_map(sheet, width=width, height=height, relief=relief, north_arrow=north_arrow)
    )


def draw_map(
    sheet: Sheet,
    *,
    width: int,
    height: int,
    relief: RasterReader | None = None,
    north_arrow: bool = True,
) -> Image.Image:
    """The sheet's map as an RGB image (the share card pastes it)."""
    frame = frame_for(sheet, width, height)
    big = frame.scaled(SUPERSAMPLE)
    # The relief is smooth (blurred over a DEM cell): warped at half the final size, then enlarged.
    coarse = dataclasses.replace(frame, width=max(1, width // 2), height=max(1, height // 2))
    shaded = relief_ground(relief, coarse) if relief is not None else None
    image = Image.new("RGBA", (big.width, big.height), (*GROUND, 255))
    if shaded is not None:
        image = shaded.resize(image.size, Image.Resampling.BILINEAR).convert("RGBA")
    for role in DRAW_ORDER:
        geometries = [big.pixels(to_mercator(s.geometry)) for s in sheet.shapes if s.role == role]
        if geometries:
            image = _draw_role(image, geometries, STYLES[role])
    image = image.reduce(SUPERSAMPLE).convert("RGB")  # a box filter: 5x faster than Lanczos
    _scale_bar(image, frame)
    if north_arrow:
        _north_arrow(image)
    _attribution(image, attribution(sheet, relief=shaded is not None))
    return image


def encode_png(image: Image.Image) -> bytes:
    """PNG bytes of an image."""
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=6)  # optimize=True: 4x the time, 5 % smaller
    return out.getvalue()


def attribution(sheet: Sheet, *, relief: bool) -> str:
    """The credit line: the atlas, then who published the data the map shows."""
    roles = {s.role for s in sheet.shapes}
    sources = ["agglomération"]
    if relief:
        sources.append("IGN")
    sources += [name for role, name in SOURCES.items() if role in roles and name not in sources]
    return f"Atlas — {DATA_WORD.get(sheet.lang, 'données')} : {', '.join(sources)}"


# -- drawing --------------------------------------------------------------------------------


def _parts(geometry: BaseGeometry) -> Iterable[BaseGeometry]:
    if hasattr(geometry, "geoms"):
        for part in geometry.geoms:
            yield from _parts(part)
    elif not geometry.is_empty:
        yield geometry


def _draw_role(image: Image.Image, geometries: list[BaseGeometry], style: Style) -> Image.Image:
    """Fill (through a mask, so that holes stay holes), hatch, then outlines and dots."""
    scale = SUPERSAMPLE
    parts = [p for g in geometries for p in _parts(g)]
    polygons = [p for p in parts if p.geom_type == "Polygon"]
    if style.fill is not None and polygons:
        mask = Image.new("L", image.size, 0)
        mask_draw = ImageDraw.Draw(mask)
        for polygon in polygons:
            mask_draw.polygon(_ring(polygon.exterior), fill=255)
            for hole in polygon.interiors:
                mask_draw.polygon(_ring(hole), fill=0)
        image = _paint(image, mask, style.fill)
        if style.hatch:
            image = _paint(image, _hatched(mask, 10 * scale), style.outline)
    draw = ImageDraw.Draw(image)
    width = max(1, round(style.width * scale))
    for part in parts:
        if part.geom_type == "Point":
            r = style.radius * scale
            box = (part.x - r, part.y - r, part.x + r, part.y + r)
            draw.ellipse(box, fill=style.fill, outline=style.outline, width=width)
        elif part.geom_type == "Polygon":
            for ring in (part.exterior, *part.interiors):
                draw.line(_ring(ring), fill=style.outline, width=width, joint="curve")
        else:  # lines
            draw.line(_ring(part), fill=style.outline, width=width, joint="curve")
    return image


def _ring(line: BaseGeometry) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in shapely.get_coordinates(line)]


def _paint(image: Image.Image, mask: Image.Image, colour: Rgba) -> Image.Image:
    """``colour`` laid over ``image`` where ``mask`` is set, at the colour's opacity."""
    alpha = mask.point(lambda v: v * colour[3] // 255)
    layer = Image.new("RGBA", image.size, colour)
    layer.putalpha(alpha)
    return Image.alpha_composite(image, layer)


def _hatched(mask: Image.Image, step: int) -> Image.Image:
    """``mask`` kept on diagonal stripes every ``step`` pixels (the hazard's hatching)."""
    w, h = mask.size
    rows, cols = np.ogrid[0:h, 0:w]
    stripes = ((rows + cols) % step < max(2, step // 5)).astype("uint8") * 255
    return Image.fromarray(np.minimum(np.asarray(mask), stripes), mode="L")


def _scale_bar(image: Image.Image, frame: Frame) -> None:
    """A bar of a round length (1, 2 or 5 × 10^n m) about a fifth of the width, bottom left."""
    target = frame.ground_per_pixel * image.width / 5
    power = 10 ** math.floor(math.log10(target))
    length_m = max(m * power for m in (1, 2, 5) if m * power <= target)
    pixels = round(length_m / frame.ground_per_pixel)
    label = f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m:g} m"
    draw = ImageDraw.Draw(image, "RGBA")
    text_font = font(12)
    x0, y0 = 10, image.height - 26
    draw.rectangle((x0 - 5, y0 - 16, x0 + pixels + 6, y0 + 9), fill=(255, 255, 255, 200))
    draw.rectangle((x0, y0, x0 + pixels, y0 + 4), fill=(29, 38, 51, 255))
    draw.rectangle((x0 + pixels // 2, y0, x0 + pixels, y0 + 4), fill=(255, 255, 255, 255))
    draw.rectangle((x0, y0, x0 + pixels, y0 + 4), outline=(29, 38, 51, 255))
    draw.text((x0, y0 - 15), label, fill=(29, 38, 51, 255), font=text_font)


def _north_arrow(image: Image.Image) -> None:
    """A small arrow and N, top right (the map is north up)."""
    draw = ImageDraw.Draw(image, "RGBA")
    x, y = image.width - 22, 12
    draw.polygon([(x, y), (x + 8, y + 22), (x, y + 17), (x - 8, y + 22)], fill=(29, 38, 51, 230))
    draw.text((x, y + 25), "N", fill=(29, 38, 51, 255), font=font(12, bold=True), anchor="mt")


def _attribution(image: Image.Image, text: str) -> None:
    draw = ImageDraw.Draw(image, "RGBA")
    text_font = font(11)
    text = shown(text, text_font)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=text_font)
    x, y = image.width - (right - left) - 6, image.height - (bottom - top) - 6
    draw.rectangle((x - 4, y - 3, image.width, image.height), fill=(255, 255, 255, 190))
    draw.text((x - left, y - top), text, fill=(60, 70, 82, 255), font=text_font)


# -- relief ---------------------------------------------------------------------------------


def relief_ground(relief: RasterReader, frame: Frame) -> Image.Image | None:
    """The plain ground shaded by our hillshade of the view; None off the raster or when the
    view would read more DEM pixels than a small map deserves."""
    bounds = transformer(MERCATOR, STORAGE_CRS).transform_bounds(*frame.bounds, densify_pts=21)
    bounded = dataclasses.replace(relief, max_pixels=min(relief.max_pixels, RELIEF_MAX_PIXELS))
    try:
        window = bounded.read(bounds)
    except InvalidInput:
        return None
    if window is None or min(window.values.shape) < 3:
        return None
    res_x, res_y = window.transform.a, -window.transform.e
    # Heights exaggerated: an activity park's few metres of relief would not show at 1:5,000.
    shade, valid = hillshade(
        window.values, window.valid, res_x / RELIEF_EXAGGERATION, res_y / RELIEF_EXAGGERATION
    )
    if not valid.any():
        return None
    warped = np.zeros((frame.height, frame.width), dtype="uint8")
    reproject(
        source=shade,
        destination=warped,
        src_transform=window.transform @ Affine.translation(1, 1),  # inner pixels
        src_crs=STORAGE_CRS,
        src_nodata=0,
        dst_transform=from_bounds(*frame.bounds, frame.width, frame.height),
        dst_crs=MERCATOR,
        dst_nodata=0,
        resampling=Resampling.bilinear,
    )
    # A DEM cell spans many pixels of a small map: blurred over about a cell, its shade reads as
    # relief, not as tiles. Off the DEM, the flat shade: the plain ground.
    flat = np.where(warped > 0, warped, round(FLAT_SHADE)).astype("uint8")
    radius = 0.6 * res_x / frame.ground_per_pixel
    smooth = np.asarray(Image.fromarray(flat, mode="L").filter(ImageFilter.GaussianBlur(radius)))
    # Flat ground (shade FLAT_SHADE under a 45° sun) keeps the ground's colour; slopes facing the
    # light lighten it, the others darken it.
    factor = 1 + (smooth.astype("float64") - FLAT_SHADE) / 255.0
    rgb = (np.array(GROUND, dtype="float64")[None, None, :] * factor[..., None]).clip(0, 255)
    return Image.fromarray(rgb.astype("uint8"), mode="RGB")
