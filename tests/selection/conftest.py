"""The served demo (both stores, a key per tier) of the policy tests, and an oracle over its sources."""

from __future__ import annotations

import pytest

from atlas.stores.rasters import RasterCatalog
from tests.policy.conftest import Served, demo_sources, served  # noqa: F401 - fixtures
from tests.selection.oracle import Oracle


@pytest.fixture(scope="module")
def oracle(served: Served) -> Oracle:  # noqa: F811 - the fixture imported above
    """Expected values computed from the demo files and the served slope COG."""
    slope_cog, _ = RasterCatalog(served.settings.store.data_dir).current("slope")
    return Oracle(served.sources, slope_cog)
