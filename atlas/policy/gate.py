"""The one enforcement point: every output reads the data base through a :class:`Gate`.

A gate is bound to one caller (principal and request id). It answers only from the caller's
:class:`TierView` of each collection: collections a tier may not see raise exactly the error an
unknown collection raises; fields it may not see are refused with exactly the message a
nonexistent field gets; the tier's row conditions are ANDed to every query, count, extent and
tile; geometry is exact, generalised or absent as the view says; reads of personal data or of
the sensitive network are written to the audit log before the answer leaves. Routers, tiles,
extracts, maps and search never hold the store itself.

The API hands a gate whole OGC requests (``Gate.items``, ``feature``, ``tile``, ``queryables``,
``tileset``: one call per handler), so that the tier's filter, field checks and CRS handling
happen here, once (``policy.reading``); services ask in storage terms (``Gate.query``,
``frame``, ``count``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import geopandas as gpd

from atlas.audit.record import AuditAction, AuditLog, AuditRecord
from atlas.errors import EmptyCollection, InvalidInput, NotFound, UnknownCollection
from atlas.layers import catalog
from atlas.layers.base import FieldSpec, RasterLayer, VectorLayer
from atlas.policy import generalised
from atlas.policy import tiles as policy_tiles
from atlas.policy.generalised import generalise
from atlas.policy.grants import Operation, granted
from atlas.policy.rasters import RasterReader
from atlas.policy.reading import Paging, area_wkt, items_query
from atlas.policy.rules import TierView, raster_visible, vector_view
from atlas.policy.tiers import Principal
from atlas.query.features import FeatureQuery, query_field_names
from atlas.query.fields import check_fields
from atlas.query.filters import all_of
from atlas.query.grids import TileGrid
from atlas.query.grids import grid as tile_grid
from atlas.query.requests import FeatureRequest, ItemsRequest, TileRequest
from atlas.stores.base import CollectionInfo, Feature, FeaturePage, FeatureStore, MvtTile
from atlas.stores.rasters import RasterCatalog
from atlas.types import TileXYZ


class Policy:
    """Long-lived: the store, rasters and audit log, and the caches keyed by tier and version."""

    def __init__(
        self,
        store: FeatureStore,
        rasters: RasterCatalog | None,
        audit: AuditLog | None,
        *,
        tile_budget: policy_tiles.TileBudget | None = None,
        paging: Paging | None = None,
    ) -> None:
        self.store = store
        self.rasters = rasters
        self.audit = audit
        self.tile_budget = tile_budget or policy_tiles.TileBudget()
        self.paging = paging or Paging()
        self._extents: dict[tuple[str, str, int], tuple[int, tuple | None]] = {}
        self._lock = threading.Lock()

    def gate(self, principal: Principal, request_id: str) -> Gate:
        """A gate for one request."""
        return Gate(self, principal, request_id)

    def seen_extent(
        self, view: TierView, version: int
    ) -> tuple[int, tuple[float, float, float, float] | None]:
        """Count and EPSG:2154 bbox of the rows and geometry a view sees (cached per version).

        Computed on the geometry as the tier gets it (generalised, absent), never the stored one.
        """
        key = (view.collection_id, view.tier.value, version)
        with self._lock:
            if key in self._extents:
                return self._extents[key]
        rows = FeatureQuery(where=view.rows, properties=())
        geometries = self.store.frame(view.collection_id, rows).geometry  # one query: count too
        count = len(geometries)
        bounds = generalised.seen_bounds(geometries, view.geometry, view.tolerance_m)
        with self._lock:
            self._extents[key] = (count, bounds)
        return count, bounds


@dataclass(frozen=True, slots=True)
class Queryables:
    """What a tier may name in a filter, a sortby or properties (Part 3, 6.2)."""

    title: str
    geometry_type: str
    fields: tuple[FieldSpec, ...]


@dataclass(frozen=True, slots=True)
class TileStamp:
    """What a tile cache needs before reading a tile: the collection's current version, and
    whether serving the tile is audited (then it must be read, never served from a cache)."""

    version: int
    audited: bool


@dataclass(frozen=True, slots=True)
class TileSet:
    """A collection's vector tiles as the caller gets them: its metadata, and the lowest zoom."""

    info: CollectionInfo
    min_zoom: int


T = TypeVar("T")


class Gate:
    """What one caller may read, and nothing else."""

    def __init__(self, policy: Policy, principal: Principal, request_id: str) -> None:
        self._policy = policy
        self._store = policy.store
        self.principal = principal
        self.tier = principal.tier
        self.request_id = request_id

    # -- collections ----------------------------------------------------------------------

    def view(self, collection_id: str) -> TierView:
        """The caller's view of a vector collection; UnknownCollection when it may not see it."""
        view = vector_view(collection_id, self.tier)
        if view is None:
            raise UnknownCollection(collection_id)
        return view

    def collections(self) -> list[CollectionInfo]:
        """The vector collections the caller may see and that hold data, as the caller sees them."""
        out = []
        for info in self._store.collections():
            view = vector_view(info.id, self.tier)
            if view is not None:
                out.append(self._as_seen(info, view))
        return out

    def collection(self, collection_id: str) -> CollectionInfo:
        """One vector collection as the caller sees it; unknown, hidden and empty look the same."""
        view = self.view(collection_id)
        try:
            info = self._store.collection(collection_id)
        except EmptyCollection:
            raise UnknownCollection(collection_id) from None
        return self._as_seen(info, view)

    def rasters(self) -> list[tuple[RasterLayer, dict[str, Any]]]:
        """The raster collections the caller may see that hold a version, with their metadata."""
        catalog_ = self._policy.rasters
        if catalog_ is None:
            return []
        out = []
        for collection_id in catalog_.available():
            layer = catalog().get(collection_id)
            if isinstance(layer, RasterLayer) and raster_visible(collection_id, self.tier):
                out.append((layer, catalog_.current(collection_id)[1]))
        return out

    def raster(self, collection_id: str) -> tuple[RasterLayer, dict[str, Any]]:
        """One raster collection; UnknownCollection when hidden, unknown or not loaded."""
        for layer, meta in self.rasters():
            if layer.collection_id == collection_id:
                return layer, meta
        raise UnknownCollection(collection_id)

    def raster_reader(self, collection_id: str) -> RasterReader:
        """A reader of a raster the caller may see, bound to its current version;
        UnknownCollection otherwise."""
        self.raster(collection_id)
        assert self._policy.rasters is not None  # raster() found it in the catalog
        path, meta = self._policy.rasters.current(collection_id)
        return RasterReader(collection_id, int(meta["version"]), path)

    def queryables(self, collection_id: str) -> Queryables:
        """The fields the caller may filter, sort and select on; unknown, hidden and empty
        collections alike are a 404."""
        view = self.view(collection_id)
        self._served(view)
        layer = catalog()[collection_id]
        assert isinstance(layer, VectorLayer)  # vector_view found a vector layer
        return Queryables(layer.title, layer.geometry_type, view.fields)

    def tileset(self, collection_id: str) -> TileSet:
        """The collection as the caller sees it, and the zoom its tiles start at (TileJSON)."""
        return TileSet(self.collection(collection_id), self.tile_min_zoom(collection_id))

    def granted(self, operation: Operation) -> bool:
        """Whether the caller's tier may call ``operation`` (``policy.grants``)."""
        return granted(operation, self.tier)

    @property
    def page_cap(self) -> int:
        """The largest page of features the caller may ask for."""
        return self._policy.paging.cap(self.tier)

    # -- OGC requests ---------------------------------------------------------------------

    def items(self, collection_id: str, request: ItemsRequest) -> FeaturePage:
        """A page of features as the caller may see them (OGC API Features Parts 1-3)."""
        view = self.view(collection_id)
        query = self._checked(view, lambda: self._items_query(view, request))
        return self._page(view, query, area_wkt(query))

    def _items_query(self, view: TierView, request: ItemsRequest) -> FeatureQuery:
        limit = self._policy.paging.limit(self.tier, request.limit)
        return self._restrict(view, items_query(view, request, limit=limit))

    def feature(self, collection_id: str, request: FeatureRequest) -> Feature:
        """One feature; a row the caller may not see is NotFound, exactly like a missing one."""
        view = self.view(collection_id)
        query = self._restrict(view, FeatureQuery(ids=(request.feature_id,), limit=1))
        page = self._page(view, query, None)
        if not page.features:
            raise NotFound(f"feature '{request.feature_id[:80]}' not found in '{collection_id}'")
        return page.features[0]

    # -- features -------------------------------------------------------------------------

    def query(
        self, collection_id: str, query: FeatureQuery, *, area: str | None = None
    ) -> FeaturePage:
        """One page of features as the caller may see them."""
        view = self.view(collection_id)
        return self._page(view, self._restrict(view, query), area)

    def _page(self, view: TierView, store_query: FeatureQuery, area: str | None) -> FeaturePage:
        """A restricted query's page, treated and audited; an empty collection is unknown."""
        try:
            if view.geometry == "generalised" and generalised.has_spatial_criteria(store_query):
                page = self._generalised_page(view, store_query)
            else:
                page = self._store.query(view.collection_id, store_query)
                page.features = [self._treat(view, f) for f in page.features]
        except EmptyCollection:
            raise UnknownCollection(view.collection_id) from None
        self._audit_read(view, store_query.properties, len(page.features), "read", area)
        return page

    def _generalised_page(self, view: TierView, query: FeatureQuery) -> FeaturePage:
        """Spatial criteria decided on the generalised geometry the tier sees."""
        candidates = self._store.query(
            view.collection_id, generalised.candidate_query(query, view.tolerance_m)
        )
        kept = [
            f
            for f in (self._treat(view, c) for c in candidates.features)
            if generalised.matches(f.geometry, query)
        ]
        return FeaturePage(
            features=kept[query.offset : query.offset + query.limit],
            number_matched=len(kept),
            limit=query.limit,
            offset=query.offset,
        )

    def count(self, collection_id: str, query: FeatureQuery | None = None) -> int:
        """How many features ``query`` gives the caller (paging ignored); a count only: no field
        or geometry leaves, so nothing is audited (extract estimates)."""
        view = self.view(collection_id)
        counted = self._restrict(view, dataclasses.replace(query or FeatureQuery(), properties=()))
        if view.geometry == "generalised" and generalised.has_spatial_criteria(counted):
            return self._generalised_page(view, counted).number_matched
        return self._store.count(collection_id, counted)

    def frame(
        self,
        collection_id: str,
        query: FeatureQuery | None = None,
        *,
        action: AuditAction = "extract",
        area: str | None = None,
    ) -> gpd.GeoDataFrame:
        """Every matching feature as the caller sees it (extracts, maps, the inventory).

        An extract or an inventory is audited whatever its fields: it hands a whole collection
        over for use outside the atlas.
        """
        view = self.view(collection_id)
        if action == "inventory" and not self.granted(Operation.INVENTORY_EXPORT):
            raise UnknownCollection(collection_id)  # the API never lets it come this far
        base = query or FeatureQuery()
        restricted = self._restrict(view, base)
        by_location = view.geometry == "generalised" and generalised.has_spatial_criteria(base)
        fetch = generalised.candidate_query(restricted, view.tolerance_m) if by_location else None
        frame = self._store.frame(collection_id, fetch or restricted)
        if view.geometry != "exact":
            treated = [
                None if g is None or view.geometry == "absent" else generalise(g, view.tolerance_m)
                for g in frame.geometry
            ]
            frame = frame.set_geometry(gpd.GeoSeries(treated, index=frame.index, crs=frame.crs))
        if by_location:
            frame = frame[[generalised.matches(g, restricted) for g in frame.geometry]]
        if action in ("extract", "inventory") or view.audited(base.properties):
            self._record(
                action, collection_id, len(frame), area, self._detail(view, base.properties)
            )
        return frame

    def tile_min_zoom(self, collection_id: str) -> int:
        """The lowest zoom the collection's tiles are served at (the layer declares it)."""
        self.view(collection_id)
        layer = catalog()[collection_id]
        return layer.min_zoom if isinstance(layer, VectorLayer) else 0

    def tile_stamp(self, collection_id: str, request: TileRequest) -> TileStamp:
        """The checks of :meth:`tile` (collection, fields, minzoom) and the current version the
        tile would be read from: a cache keys on it, so an ingest is seen on the next request."""
        view = self._tile_view(collection_id, request)
        try:
            version = self._store.collection(collection_id).version
        except EmptyCollection:
            raise UnknownCollection(collection_id) from None
        return TileStamp(version, view.audited(request.properties))

    def _tile_view(self, collection_id: str, request: TileRequest) -> TierView:
        view = self.view(collection_id)
        properties = request.properties
        self._checked(view, lambda: check_fields(view.fields, properties))
        min_zoom = self.tile_min_zoom(collection_id)
        if request.tile.z < min_zoom:
            self._served(view)  # an empty collection is unknown, whatever the zoom
            raise NotFound(f"'{collection_id}' has tiles from zoom {min_zoom} (TileJSON minzoom)")
        return view

    def tile(self, collection_id: str, request: TileRequest) -> MvtTile:
        """An MVT of what the caller sees of the collection in z/x/y of the request's grid,
        within the tile budget (its share of it for one layer of a multi-layer tile)."""
        view = self._tile_view(collection_id, request)
        grid = tile_grid(request.grid)
        try:
            mvt = self._tile(view, request, grid)
        except EmptyCollection:
            raise UnknownCollection(collection_id) from None
        if view.audited(request.properties):
            self._record(
                "tile",
                collection_id,
                mvt.features,
                policy_tiles.tile_area_wkt(request.tile, grid),
                self._detail(view, request.properties),
            )
        return mvt

    def _tile(self, view: TierView, request: TileRequest, grid: TileGrid) -> MvtTile:
        collection_id = view.collection_id
        tile, properties = request.tile, request.properties
        if view.geometry == "absent":
            self._served(view)  # nothing is read: say 404 for an empty collection all the same
            return MvtTile(b"", 0, 0)
        if view.geometry == "exact":
            # The tier's rows as the store's SQL filter: ST_AsMVT never sees the others.
            rows = all_of(*view.rows)

            def render(limit: int) -> MvtTile:
                return self._store.tile(
                    collection_id, tile, properties=properties, filter=rows, limit=limit, grid=grid
                )
        else:
            # Generalised geometry: encoded from the gate's own query, so the exact geometry
            # never reaches the tile encoder.
            frame = self._tile_frame(view, tile, properties, grid)

            def render(limit: int) -> MvtTile:
                return policy_tiles.encode(
                    collection_id, frame, tile, properties, limit=limit, grid=grid
                )

        budget = policy_tiles.shared(self._policy.tile_budget, request.layers)
        return policy_tiles.within_budget(render, budget)

    # -- helpers --------------------------------------------------------------------------

    def _served(self, view: TierView) -> None:
        """UnknownCollection when the collection holds no version (the 404 of an unknown one)."""
        try:
            self._store.collection(view.collection_id)
        except EmptyCollection:
            raise UnknownCollection(view.collection_id) from None

    def _checked(self, view: TierView, check: Callable[[], T]) -> T:
        """``check()``; when it refuses the request, an empty collection is still a 404 first
        (unknown, hidden and empty collections answer alike whatever the parameters), a check
        that costs a store round trip only on the way to a 400."""
        try:
            return check()
        except InvalidInput:
            self._served(view)
            raise

    def _as_seen(self, info: CollectionInfo, view: TierView) -> CollectionInfo:
        seen = dataclasses.replace(info, fields=view.fields)
        if view.geometry == "exact" and not view.restricted_rows:
            return seen  # the stored count and extent are what the tier sees
        if view.geometry == "absent" and not view.restricted_rows:
            return dataclasses.replace(seen, bbox=None)
        count, bbox = self._policy.seen_extent(view, info.version)
        return dataclasses.replace(seen, count=count, bbox=bbox)

    def _restrict(self, view: TierView, query: FeatureQuery) -> FeatureQuery:
        """The store query: names checked against the view, its rows ANDed, its fields only."""
        check_fields(view.fields, query_field_names(query))
        if view.geometry != "exact":
            generalised.refuse_spatial_filter(query.filter)
        properties = query.properties if query.properties is not None else view.field_names
        return dataclasses.replace(query, where=(*query.where, *view.rows), properties=properties)

    def _treat(self, view: TierView, feature: Feature) -> Feature:
        if view.geometry == "exact" or feature.geometry is None:
            return feature
        if view.geometry == "absent":
            return Feature(id=feature.id, properties=feature.properties, geometry=None)
        return Feature(
            id=feature.id,
            properties=feature.properties,
            geometry=generalise(feature.geometry, view.tolerance_m),
        )

    def _tile_frame(
        self, view: TierView, tile: TileXYZ, properties: tuple[str, ...], grid: TileGrid
    ) -> gpd.GeoDataFrame:
        bbox = policy_tiles.tile_bbox_2154(tile, grid, margin=max(view.tolerance_m, 0.0))
        page = self._store.query(
            view.collection_id,
            FeatureQuery(bbox=bbox, where=view.rows, properties=properties, limit=1_000_000),
        )
        features = [self._treat(view, f) for f in page.features]
        return gpd.GeoDataFrame(
            [{"id": f.id, **f.properties} for f in features],
            columns=["id", *properties],
            geometry=[f.geometry for f in features],
            crs="EPSG:2154",
        )

    def _audit_read(
        self,
        view: TierView,
        properties: tuple[str, ...] | None,
        count: int,
        action: AuditAction,
        area: str | None,
    ) -> None:
        if view.audited(properties):
            self._record(action, view.collection_id, count, area, self._detail(view, properties))

    @staticmethod
    def _detail(view: TierView, properties: tuple[str, ...] | None) -> str:
        names = view.field_names if properties is None else properties
        read = sorted(n for n in names if n in view.audited_fields)
        parts = (["geometry"] if view.audited_geometry else []) + read
        return "fields: " + ", ".join(parts) if parts else ""

    def audit_session(self, action: AuditAction, detail: str) -> None:
        """Record a browser sign-in, refused sign-in or sign-out of this gate's principal
        (``atlas.api.routers.signin``; ``detail`` never holds a key or a token)."""
        self._record(action, "session", 0, None, detail)

    def _record(
        self, action: AuditAction, collection_id: str, count: int, area: str | None, detail: str
    ) -> None:
        audit = self._policy.audit
        if audit is None:
            # Refuse rather than serve an unaudited read of personal or sensitive data.
            raise RuntimeError("no audit log is configured: audited data cannot be served")
        audit.append(
            AuditRecord(
                at=dt.datetime.now(dt.UTC),
                who=self.principal.who,
                tier=self.tier.value,
                action=action,
                collection_id=collection_id,
                feature_count=count,
                request_id=self.request_id,
                area=area,
                detail=detail,
            )
        )
