"""Sheets over the served demo (both stores), built by the portal from a gate of one tier."""

from __future__ import annotations

from atlas.policy.gate import Gate
from atlas.policy.tiers import Principal, Tier
from atlas.portal.sheet import Sheet
from atlas.portal.sheets import plot_sheet, site_sheet
from atlas.query.features import FeatureQuery
from atlas.query.filters import Comparison
from atlas.query.requests import FeatureRequest
from tests.served_demo import Served

__all__ = ["a_site", "feature", "gate_of", "plot_sheet", "priced_plot", "sheet_of", "site_sheet"]


def gate_of(served: Served, tier: Tier) -> Gate:
    """A gate of ``tier`` over the served demo."""
    return served.client.app.state.policy.gate(Principal(tier=tier, name="portal tests"), "portal")


def priced_plot(served: Served) -> str:
    """A plot on the market (the public sees it) with a price (b2b sees it), first by id."""
    gate = gate_of(served, Tier.B2B)
    public = {
        f.id for f in gate_of(served, Tier.PUBLIC).query("activity-plots", _ids(500)).features
    }
    priced = (Comparison("terr_m2_prix", "is not null"),)
    page = gate.query(
        "activity-plots", FeatureQuery(where=priced, properties=("terr_m2_prix",), limit=500)
    )
    ids = sorted(f.id for f in page.features if f.id in public)
    assert ids, "the demo has plots on the market with a price"
    return ids[0]


def a_site(served: Served) -> str:
    """A site with plots on the market, first by id."""
    gate = gate_of(served, Tier.PUBLIC)
    page = gate.query("activity-plots", FeatureQuery(properties=("site_id",), limit=500))
    return sorted({f.properties["site_id"] for f in page.features})[0]


def sheet_of(served: Served, tier: Tier, kind: str, ident: str, lang: str = "fr") -> Sheet:
    """The sheet of a site or plot as ``tier`` gets it."""
    build = site_sheet if kind == "site" else plot_sheet
    return build(gate_of(served, tier), ident, lang)


def feature(served: Served, tier: Tier, collection_id: str, ident: str):
    """The gate's own answer for one feature (what a sheet is checked against)."""
    return gate_of(served, tier).feature(collection_id, FeatureRequest(ident))


def _ids(limit: int) -> FeatureQuery:
    return FeatureQuery(properties=(), limit=limit)
