"""What a map builder is given: the gate of the map's tier, the language, and where things live."""

from __future__ import annotations

from dataclasses import dataclass, field

from atlas.errors import EmptyCollection, UnknownCollection
from atlas.maps.labels import FIELDS, Lang
from atlas.policy.gate import Gate
from atlas.query.features import FeatureQuery

GRID = "WebMercatorQuad"


@dataclass(frozen=True)
class MapContext:
    """One map being built: read through ``gate`` only, written in ``lang``, URLs under ``base``."""

    gate: Gate
    lang: Lang = Lang.FR
    base: str = ""  # prefix of every URL of the page ("" when served by the API itself)
    basemap_url: str | None = None  # ATLAS_BASEMAP_URL (off by default)
    basemap_attribution: str = ""
    _versions: dict[str, int | None] = field(default_factory=dict, repr=False, compare=False)

    def version(self, collection_id: str) -> int | None:
        """The version the tier sees of a collection; None when hidden, unknown or empty."""
        if collection_id not in self._versions:
            self._versions[collection_id] = self._read_version(collection_id)
        return self._versions[collection_id]

    def _read_version(self, collection_id: str) -> int | None:
        try:
            if collection_id in ("elevation", "slope"):  # rasters: the catalog's version
                return int(self.gate.raster(collection_id)[1]["version"])
            return self.gate.collection(collection_id).version
        except (UnknownCollection, EmptyCollection):
            return None

    def shown_fields(self, collection_id: str) -> tuple[str, ...]:
        """The labelled fields of a collection the tier sees, in label order."""
        visible = set(self.gate.view(collection_id).field_names)
        return tuple(name for name in FIELDS[collection_id] if name in visible)

    def frame(self, collection_id: str, extra: tuple[str, ...] = ()):
        """The tier's features with the shown fields (and ``extra`` ones it sees), EPSG:4326."""
        visible = set(self.gate.view(collection_id).field_names)
        names = self.shown_fields(collection_id) + tuple(n for n in extra if n in visible)
        query = FeatureQuery(properties=tuple(dict.fromkeys(names)))
        frame = self.gate.frame(collection_id, query, action="read")
        return frame.to_crs(4326)

    def url(self, path: str) -> str:
        """An absolute path of the API, under ``base``."""
        return f"{self.base}{path}"

    def vector_tiles(self, collection_id: str, fields: tuple[str, ...]) -> str:
        """The collection's vector tile URL template for this tier, versioned, ``fields`` only."""
        query = f"v={self.version(collection_id)}"
        if fields:
            query += "&properties=" + ",".join(fields)
        return self.url(f"/collections/{collection_id}/tiles/{GRID}/{{z}}/{{x}}/{{y}}?{query}")

    def map_tiles(self, collection_id: str, style: str) -> str:
        """A raster collection's map tile URL template (PNG), versioned."""
        query = f"style={style}&f=png&v={self.version(collection_id)}"
        return self.url(f"/collections/{collection_id}/map/tiles/{GRID}/{{z}}/{{x}}/{{y}}?{query}")

    def versions(self, collection_ids: tuple[str, ...]) -> tuple[tuple[str, int | None], ...]:
        """(collection, version) of each: what a cached map depends on."""
        return tuple((c, self.version(c)) for c in collection_ids)
