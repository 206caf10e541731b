"""What each tier must never receive, written from DESIGN.md's tier table — not from the code.

The leak matrix compares every response with these lists; they are deliberately spelled out
here rather than computed from ``atlas.policy``, so that a wrong grant or classification in the
code fails the tests instead of moving the oracle along with it.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd

from atlas.policy.tiers import Tier

WATER = ("water-pipes", "water-structures")

HIDDEN_COLLECTIONS: dict[Tier, frozenset[str]] = {
    Tier.PUBLIC: frozenset({"parcels", *WATER}),
    Tier.B2B: frozenset(WATER),
    Tier.INTERNAL: frozenset(),
}

_WATER_FIELDS = frozenset(
    {
        "id_canalisation", "id_aep_canalisation", "materiau", "materiau_libelle",
        "diametre_equivalent", "an_pose_inf", "an_pose_sup", "precision_xy", "mode_circulation",
        "fonction_canalisation", "contenu_canalisation", "etat_service", "id_ouvrage",
        "type_ouvrage", "sous_type", "type_libelle", "nom_usuel", "diametre",
    }
)  # fmt: skip
# Exact values derived from the network, and data of persons: staff only.
_STAFF_ONLY = frozenset(
    {
        "terr_acquereur", "terr_vente_montant", "terr_cession_date", "site_moa_comm",
        "proprietaire", "etab_source_info", "statutDiffusionEtablissement", "NOMRS", "eau_dn",
        "eau_distance_m", "commune", "prefixe", "section", "numero", "arpente",
    }
)  # fmt: skip
_BUSINESS = frozenset(
    {
        "terr_m2_prix", "terr_maitrise_fonc", "terr_stade_amngt", "etab_contact_mail",
        "etab_contact_tel", "eau_dn_classe", "eau_distance_bande",
    }
)  # fmt: skip
HIDDEN_FIELDS: dict[Tier, frozenset[str]] = {
    Tier.PUBLIC: _WATER_FIELDS | _STAFF_ONLY | _BUSINESS,
    Tier.B2B: _WATER_FIELDS | _STAFF_ONLY,
    Tier.INTERNAL: frozenset(),
}
ON_THE_MARKET = ("en vente", "en vente avec contraintes")
# Collections a tier sees at a coarser precision, and that precision in metres (DESIGN: the
# public map places a business within its park, "50 m positions"): points on a 50 m grid.
GENERALISED: dict[Tier, dict[str, float]] = {Tier.PUBLIC: {"establishments": 50.0}}
# Host names a client may write in Host / X-Forwarded-Host: no link may ever carry them.
FORGED_HOSTS = ("forged.example", "forwarded.example")


class Secrets:
    """Values read from the demo's source files that a tier must never see, as text."""

    def __init__(self, sources: dict[str, Path]) -> None:
        plots = pd.read_csv(sources["activity-plots"], sep=";", dtype=str)
        establishments = pd.read_csv(sources["establishments"], sep=";", dtype=str)
        parcels = json.loads(Path(sources["parcels"]).read_text())["features"]
        pipes = gpd.read_file(sources["water-pipes"], layer=_pipe_layer(sources["water-pipes"]))
        self.owners = sorted({f["properties"]["proprietaire"] for f in parcels})
        # A buyer that is a listed business is public under its own name: only the others count.
        listed = establishments.loc[
            establishments["statutDiffusionEtablissement"] == "O", "etab_raison_sociale"
        ]
        self.buyers = sorted(set(plots["terr_acquereur"].dropna()) - set(listed))
        self.contacts = sorted(set(establishments["etab_contact_mail"].dropna()))
        self.off_market_plots = sorted(
            plots.loc[~plots["terr_stade_comm"].isin(ON_THE_MARKET), "terr_id"]
        )
        self.undiffusible = sorted(
            establishments.loc[establishments["statutDiffusionEtablissement"] != "O", "SIRET"]
        )
        self.pipe_ids = sorted(set(pipes["id_aep_canalisation"].dropna().astype(str)))[:200]

    def forbidden_strings(self, tier: Tier) -> list[str]:
        """Values whose appearance anywhere in a response to ``tier`` is a leak."""
        if tier == Tier.INTERNAL:
            return []
        out = [*self.owners, *self.buyers, *self.undiffusible, *self.pipe_ids]
        if tier == Tier.PUBLIC:
            out += [*self.contacts, *self.off_market_plots]
        # Only strings long enough to be unambiguous in a JSON or MVT body.
        return [s for s in out if len(s) >= 8]


def _pipe_layer(path: Path) -> str:
    import pyogrio

    names = [name for name, _ in pyogrio.list_layers(path)]
    return next(n for n in names if "canal" in n.lower())
