"""An oracle over the sources of the served demo (``tests/served_demo.py``: both stores)."""

from __future__ import annotations

import pytest

from atlas.stores.rasters import RasterCatalog
from tests.selection.oracle import Oracle
from tests.served_demo import Served


@pytest.fixture(scope="module")
def oracle(served: Served) -> Oracle:
    """Expected values computed from the demo files and the served slope COG."""
    slope_cog, _ = RasterCatalog(served.settings.store.data_dir).current("slope")
    return Oracle(served.sources, slope_cog)
