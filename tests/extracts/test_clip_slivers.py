"""The sliver rule of a clip (atlas.extracts.clip): against shapely, and against a known truth.

A clip keeps the parts of a cut feature of at least 1 m² (polygons) or 1 m (lines) and at least
0.1 % of the feature's own area or length; a feature left with no such part is left out.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from atlas.extracts.clip import MIN_PART, MIN_SHARE, ClipArea, keep_and_cut

X0, Y0 = 650_000.0, 6_850_000.0  # somewhere in Lambert-93


def _box(x: float, y: float, w: float, h: float) -> shapely.Polygon:
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def _area(x: float, y: float, w: float, h: float) -> ClipArea:
    return ClipArea("polygon", _box(x, y, w, h))


def _oracle(geometry: shapely.Geometry, area: shapely.Geometry) -> shapely.Geometry | None:
    """What the rule keeps, computed part by part with shapely alone."""
    if area.covers(geometry):
        return geometry
    dim = shapely.get_dimensions(geometry)
    size = (lambda g: g.area) if dim == 2 else (lambda g: g.length)
    smallest = max(1.0, 0.001 * size(geometry))
    cut = geometry.intersection(area)
    parts = [p for p in shapely.get_parts(cut) if shapely.get_dimensions(p) == dim]
    kept = [p for p in parts if size(p) >= smallest]
    return shapely.union_all(kept) if kept else None


def test_the_rule_is_what_the_module_says() -> None:
    assert MIN_PART == {2: 1.0, 1: 1.0} and MIN_SHARE == 0.001


@pytest.mark.parametrize(
    ("feature", "inside_width", "kept"),
    [
        # A 10 × 10 m shed: 1 m² is the threshold (0.1 % is 0.1 m²).
        (_box(0, 0, 10, 10), 0.099, False),  # 0.99 m² inside
        (_box(0, 0, 10, 10), 0.101, True),  # 1.01 m²
        # A 1 km² field: 0.1 % is 1,000 m².
        (_box(0, 0, 1000, 1000), 0.999, False),  # 999 m² inside
        (_box(0, 0, 1000, 1000), 1.001, True),  # 1,001 m²
    ],
)
def test_polygon_thresholds(feature, inside_width: float, kept: bool) -> None:
    # The area's east edge crosses the feature ``inside_width`` metres from its west edge.
    area = _area(-100, -100, 100 + inside_width, 2000)
    keep, cut = keep_and_cut(np.array([feature], dtype=object), area)
    assert bool(keep[0]) is kept
    expected = _oracle(feature, area.geometry)
    assert (expected is not None) is kept
    if kept:
        assert cut[0].equals(expected)


@pytest.mark.parametrize(
    ("length", "inside", "kept"),
    [(10.0, 0.9, False), (10.0, 1.1, True), (5_000.0, 4.9, False), (5_000.0, 5.1, True)],
)
def test_line_thresholds(length: float, inside: float, kept: bool) -> None:
    line = shapely.LineString([(X0, Y0), (X0 + length, Y0)])
    area = _area(-100, -10, 100 + inside, 20)
    keep, cut = keep_and_cut(np.array([line], dtype=object), area)
    assert bool(keep[0]) is kept
    if kept:
        assert cut[0].equals(_oracle(line, area.geometry))


def test_a_sliver_part_goes_and_the_rest_stays() -> None:
    """A multipolygon with a big part cut and a sliver across the edge keeps only the big part."""
    big, sliver = _box(0, 0, 50, 50), _box(99.5, 0, 1, 1)  # 0.5 m² of it inside
    feature = shapely.MultiPolygon([big, sliver])
    area = _area(-10, -10, 110, 100)
    keep, cut = keep_and_cut(np.array([feature], dtype=object), area)
    assert keep[0] and cut[0].geom_type == "MultiPolygon"
    assert cut[0].equals(shapely.MultiPolygon([big]))


def test_whole_features_stay_whatever_their_size() -> None:
    tiny = _box(5, 5, 0.5, 0.5)  # 0.25 m², wholly inside
    point = shapely.Point(X0 + 1, Y0 + 1)
    keep, cut = keep_and_cut(np.array([tiny, point], dtype=object), _area(0, 0, 10, 10))
    assert keep.tolist() == [True, True] and cut[0] is tiny and cut[1] is point


def _partition(rng: np.random.Generator) -> tuple[dict[str, shapely.Geometry], list[str]]:
    """Parcels tessellating two communes side by side (west A, east B), ids 'A…'/'B…'."""
    communes = {"A": _box(0, 0, 1000, 1000), "B": _box(1000, 0, 1000, 1000)}
    parcels: dict[str, shapely.Geometry] = {}
    for name, commune in communes.items():
        xmin, ymin, xmax, ymax = commune.bounds
        seeds = np.column_stack([rng.uniform(xmin, xmax, 150), rng.uniform(ymin, ymax, 150)])
        cells = shapely.voronoi_polygons(shapely.MultiPoint(seeds), extend_to=commune)
        for k, cell in enumerate(shapely.get_parts(cells)):
            piece = shapely.intersection(cell, commune)
            if piece.area > 0:
                parcels[f"{name}{k:03d}"] = piece
    return parcels, sorted(p for p in parcels if p.startswith("A"))


def _other_source(commune: shapely.Geometry, rng: np.random.Generator) -> shapely.Geometry:
    """The commune as another producer draws it: vertices every 10 m, each off by up to 5 cm."""
    dense = shapely.segmentize(commune, 10.0)
    ring = np.asarray(dense.exterior.coords)
    ring[:-1] += rng.uniform(-0.05, 0.05, ring[:-1].shape)
    ring[-1] = ring[0]
    return shapely.make_valid(shapely.Polygon(ring))


def test_a_commune_clip_holds_its_own_parcels_and_no_neighbours_slivers() -> None:
    """The truth is known by construction: commune A's parcels, nearly whole, and nothing else."""
    rng = np.random.default_rng(9)
    parcels, own = _partition(rng)
    area = ClipArea("commune", _other_source(_box(0, 0, 1000, 1000), rng))
    ids = sorted(parcels)
    geometries = np.array([parcels[i] for i in ids], dtype=object)
    # Without the rule, the neighbours' slivers would be there: the test sees them.
    naive = [i for i, g in zip(ids, geometries, strict=True) if g.intersection(area.geometry).area]
    assert set(naive) - set(own), "the perturbed boundary must cut slivers off neighbours"
    keep, cut = keep_and_cut(geometries, area)
    kept = [i for i, k in zip(ids, keep, strict=True) if k]
    assert kept == own
    for index in np.flatnonzero(keep):
        original = geometries[index]
        assert abs(cut[index].area - original.area) < 0.01 * original.area
        expected = _oracle(original, area.geometry)
        assert expected is not None and cut[index].symmetric_difference(expected).area < 1e-6
