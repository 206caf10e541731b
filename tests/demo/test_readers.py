"""The generated files go through the real readers and conform() without surprise."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlas.layers import get_layer
from atlas.layers.base import ReadOptions, VectorLayer
from atlas.layers.conform import conform

VECTOR = (
    "communes", "parcels", "activity-sites", "activity-plots", "establishments", "water-pipes",
    "water-structures", "heritage-monuments", "services", "flood-hazard", "roads", "waterways",
    "water-bodies",
)  # fmt: skip


@pytest.mark.parametrize("collection_id", VECTOR)
def test_read_and_conform(small_demo: dict[str, Path], collection_id: str) -> None:
    layer = get_layer(collection_id)
    assert isinstance(layer, VectorLayer)
    result = layer.reader(small_demo[collection_id], ReadOptions())
    frame, report = conform(result, layer, source=small_demo[collection_id].name)
    assert report.repaired == []
    if collection_id == "services":
        # the intended rejections: ~1 % of BPE rows 'Non géolocalisé', no coordinates
        assert all("Non géolocalisé" in r.reason for r in report.rejected)
        assert len(report.rejected) <= 0.03 * report.rows_read
    else:
        assert report.rejected == []
    assert report.kept > 0 and frame.crs.to_epsg() == 2154
