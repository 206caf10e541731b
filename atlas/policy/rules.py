"""The tier policy as data: what each tier is given of each collection.

A :class:`TierView` is computed from what a layer declares — the classification of its geometry
and fields (``atlas.layers.base.CLASSIFICATION_TIERS``) narrowed by its ``grants`` — and from
nothing else. Default deny: a collection, a field or a row that a tier is not given is absent
from its view, and everything that answers a request reads through that view (``gate.Gate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from atlas.layers import catalog
from atlas.layers.base import (
    AUDITED,
    CLASSIFICATION_TIERS,
    Classification,
    FieldSpec,
    Layer,
    RasterLayer,
    TierGrant,
    VectorLayer,
)
from atlas.policy.tiers import Tier
from atlas.query.filters import Comparison

GeometryTreatment = Literal["exact", "generalised", "absent"]


@dataclass(frozen=True, slots=True)
class TierView:
    """What one tier sees of one vector collection."""

    collection_id: str
    tier: Tier
    fields: tuple[FieldSpec, ...]  # visible fields, schema order
    rows: tuple[Comparison, ...]  # ANDed to every query, tile and extract
    geometry: GeometryTreatment
    tolerance_m: float
    audited_fields: frozenset[str]  # visible personal or sensitive fields: reading them is audited
    audited_geometry: bool  # the geometry itself is sensitive (the exact water network)

    @property
    def field_names(self) -> tuple[str, ...]:
        """Visible field names in schema order."""
        return tuple(f.name for f in self.fields)

    @property
    def restricted_rows(self) -> bool:
        """True when the tier sees only some rows (counts and extents must be recomputed)."""
        return bool(self.rows)

    def audited(self, properties: tuple[str, ...] | None, with_geometry: bool = True) -> bool:
        """Whether returning ``properties`` (None: all visible) must be written to the audit log."""
        if self.audited_geometry and with_geometry:
            return True
        names = self.field_names if properties is None else properties
        return any(name in self.audited_fields for name in names)


def admits(classification: Classification, tier: Tier) -> bool:
    """Whether data of ``classification`` may reach ``tier`` at all."""
    return tier.value in CLASSIFICATION_TIERS[classification]


@cache
def vector_view(collection_id: str, tier: Tier) -> TierView | None:
    """The tier's view of a vector collection; None when the tier may not see it (or it is unknown)."""
    layer = catalog().get(collection_id)
    if not isinstance(layer, VectorLayer):
        return None
    grant = layer.grants.get(tier.value, TierGrant())
    if not grant.visible or not admits(layer.geometry_classification, tier):
        return None
    fields = tuple(
        spec
        for spec in layer.fields
        if admits(spec.classification, tier)
        and (grant.fields is None or spec.name in grant.fields or spec.name == layer.id_field)
    )
    if layer.id_field not in {f.name for f in fields}:
        return None  # features a tier cannot name cannot be served to it
    return TierView(
        collection_id=collection_id,
        tier=tier,
        fields=fields,
        rows=tuple(Comparison(name, op, _value(value)) for name, op, value in grant.rows),  # type: ignore[arg-type]
        geometry=grant.geometry,
        tolerance_m=grant.tolerance_m,
        audited_fields=frozenset(f.name for f in fields if f.classification in AUDITED),
        audited_geometry=layer.geometry_classification in AUDITED and grant.geometry != "absent",
    )


def raster_visible(collection_id: str, tier: Tier) -> bool:
    """Whether the tier may see a raster collection."""
    layer = catalog().get(collection_id)
    return isinstance(layer, RasterLayer) and admits(layer.classification, tier)


def visible(layer: Layer, tier: Tier) -> bool:
    """Whether the tier may see the collection at all."""
    if isinstance(layer, RasterLayer):
        return raster_visible(layer.collection_id, tier)
    return vector_view(layer.collection_id, tier) is not None


def visible_ids(tier: Tier) -> list[str]:
    """Every collection id the tier may see, in catalog order."""
    return [cid for cid, layer in catalog().items() if visible(layer, tier)]


def _value(value: object) -> object:
    # Grants are written with tuples; Comparison wants a list for "in".
    return list(value) if isinstance(value, tuple) else value
