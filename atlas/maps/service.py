"""A tier's map page, built once per (tier, language, data versions) and kept (``MapCache``).

The key holds the version of every collection a map reads, as the map's gate sees them: an
ingest gives a new key, so the next request builds the new map and no purge is needed. The
build itself reads through the gate it is given (the requested tier's), never a store.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from atlas.maps.build import build_map
from atlas.maps.context import MapContext
from atlas.maps.page import MapPage, render

# Every collection a map may read (through the gate; hidden ones have no version).
MAP_COLLECTIONS = (
    "activity-sites", "activity-plots", "heritage-monuments", "heritage-perimeters", "services",
    "communes", "roads", "waterways", "water-bodies", "flood-hazard", "elevation", "parcels",
    "water-pipes",
)  # fmt: skip

Key = tuple


def page_key(ctx: MapContext) -> Key:
    """What a built page depends on: tier, language, base URLs and the versions it reads."""
    return (
        ctx.gate.tier.value,
        ctx.lang.value,
        ctx.base,
        ctx.basemap_url,
        ctx.versions(MAP_COLLECTIONS),
    )


def build_page(ctx: MapContext) -> MapPage:
    """Build and render the map of the context's tier."""
    return render(build_map(ctx), ctx.lang, ctx.basemap_url)


class MapCache:
    """Rendered pages by :func:`page_key`, the least recently used dropped beyond ``entries``."""

    def __init__(self, entries: int = 12, build: Callable[[MapContext], MapPage] = build_page):
        self.entries = entries
        self._build = build
        self._pages: OrderedDict[Key, MapPage] = OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0  # how many pages were built (the cache's tests read it)

    def page(self, ctx: MapContext) -> MapPage:
        """The page of ``ctx``, built when absent (two threads may both build it: same result)."""
        key = page_key(ctx)
        with self._lock:
            if key in self._pages:
                self._pages.move_to_end(key)
                return self._pages[key]
        page = self._build(ctx)
        with self._lock:
            self.builds += 1
            if self.entries:
                self._pages[key] = page
                while len(self._pages) > self.entries:
                    self._pages.popitem(last=False)
        return page
