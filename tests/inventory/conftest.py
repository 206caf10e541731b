"""A small demo with personal data in it, ingested into each store and served, for the inventory.

The demo generator writes only companies; here some plots get natural-person buyers and some
sites a commercialisation contact, so that the publication rules have something to remove.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from atlas.api.app import create_app
from atlas.policy.gate import Gate, Policy
from atlas.policy.tiers import Principal, Tier
from atlas.settings import Settings
from tests.conftest import STORE_KINDS
from tests.served_demo import Ingested, ingest_once

# The session's demo files (scale 0.1): 20 sites, 61 plots, ~70 establishments.
CNIG_COLLECTIONS = ("activity-sites", "activity-plots", "establishments")
# (land control, buyer): every one a natural person, or not shown to be a legal person.
NATURAL_BUYERS = (
    ("personne physique", "Jean-Pierre Martinez"),
    ("investisseur professionnel", "Mme Sophie Girardot"),
    ("établissement industriel et commercial", "Lucien Beaumarchais"),
    ("investisseur professionnel", "Indivision Lefebvre-Aubriot"),
)
MOA_CONTACTS = (
    "Claire Dubreuil (chargée de commercialisation)",
    "Marc Levasseur",
    "Agence Horizon Immobilier SAS",
)


@dataclass
class Personal:
    """The values the published inventory must not hold, read from the modified sources."""

    natural_buyers: list[str]
    person_sale_plot: str  # a plot held by a natural person, sold, without a buyer's name
    moa_contacts: list[str]
    undiffusible: list[str]  # SIRETs whose SIRENE status is not 'O'
    contacts: list[str]  # establishments' e-mail addresses and telephones
    legal_buyers: list[str] = field(default_factory=list)

    def forbidden(self) -> list[str]:
        """Every value that is a leak in a published file."""
        return [*self.natural_buyers, *self.moa_contacts, *self.undiffusible, *self.contacts]


@dataclass
class Served:
    """The app over the ingested demo, a key per tier, and the sources it was made from."""

    client: TestClient
    settings: Settings
    sources: dict[str, Path]
    personal: Personal
    headers: dict[Tier, dict[str, str]]
    kind: str

    def gate(self, request_id: str = "inventory-tests") -> Gate:
        """An internal caller's gate over the app's store and audit log."""
        state = self.client.app.state  # type: ignore[attr-defined]
        principal = Principal(tier=Tier.INTERNAL, name="inventory tests")
        return Policy(state.store, None, state.audit).gate(principal, request_id)


def _rewrite(path: Path, change) -> None:
    with open(path, encoding="utf-8", newline="") as source:
        rows = list(csv.DictReader(source, delimiter=";"))
    header = list(rows[0])
    change(rows)
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, header, delimiter=";", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _add_people(sources: dict[str, Path]) -> Personal:
    found: dict[str, object] = {}

    def plots(rows: list[dict[str, str]]) -> None:
        sold = sorted((r for r in rows if r["terr_acquereur"]), key=lambda r: r["terr_id"])
        for row, (control, buyer) in zip(sold, NATURAL_BUYERS, strict=False):
            row["terr_maitrise_fonc"], row["terr_acquereur"] = control, buyer
        unnamed = sold[len(NATURAL_BUYERS)]
        unnamed["terr_maitrise_fonc"], unnamed["terr_acquereur"] = "personne physique", ""
        found["person_sale_plot"] = unnamed["terr_id"]
        found["legal_buyers"] = [r["terr_acquereur"] for r in sold[len(NATURAL_BUYERS) + 1 :]]

    def sites(rows: list[dict[str, str]]) -> None:
        for row, contact in zip(rows, MOA_CONTACTS, strict=False):
            row["site_moa_comm"] = contact

    _rewrite(sources["activity-plots"], plots)
    _rewrite(sources["activity-sites"], sites)
    with open(sources["establishments"], encoding="utf-8", newline="") as source:
        establishments = list(csv.DictReader(source, delimiter=";"))
    return Personal(
        natural_buyers=[buyer for _, buyer in NATURAL_BUYERS],
        person_sale_plot=str(found["person_sale_plot"]),
        moa_contacts=list(MOA_CONTACTS),
        undiffusible=[
            r["SIRET"] for r in establishments if r["statutDiffusionEtablissement"] != "O"
        ],
        contacts=sorted(
            {r[name] for r in establishments for name in ("etab_contact_mail", "etab_contact_tel")}
            - {""}
        ),
        legal_buyers=list(found["legal_buyers"]),  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
def inventory_sources(
    demo_sources: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Path], Personal]:
    """The demo's CNIG files, copied once and people added to the copies."""
    directory = tmp_path_factory.mktemp("inventory-demo")
    sources = {k: Path(shutil.copy(demo_sources[k], directory)) for k in CNIG_COLLECTIONS}
    return sources, _add_people(sources)


def _inventory(kind: str, sources: tuple[dict[str, Path], Personal], factory):
    files = [(c, sources[0][c]) for c in CNIG_COLLECTIONS]
    data_dir = factory.mktemp(f"inventory-{kind}") / "data"
    yield from ingest_once(kind, files, data_dir, "inventory tests")


@pytest.fixture(scope="session")
def inventory_embedded(inventory_sources, tmp_path_factory) -> Iterator[Ingested]:
    """The three CNIG layers ingested once into the embedded store."""
    yield from _inventory("embedded", inventory_sources, tmp_path_factory)


@pytest.fixture(scope="session")
def inventory_postgis(inventory_sources, tmp_path_factory) -> Iterator[Ingested]:
    """The three CNIG layers ingested once into PostGIS (schemas of their own)."""
    yield from _inventory("postgis", inventory_sources, tmp_path_factory)


@pytest.fixture(scope="module", params=STORE_KINDS)
def served(
    request: pytest.FixtureRequest, inventory_sources: tuple[dict[str, Path], Personal]
) -> Iterator[Served]:
    """The session's CNIG layers on each store kind, served by an app of this module's own."""
    sources, personal = inventory_sources
    ingested: Ingested = request.getfixturevalue(f"inventory_{request.param}")
    settings = ingested.app_settings()
    with TestClient(create_app(settings)) as client:
        headers = {tier: dict(h) for tier, h in ingested.headers.items()}
        yield Served(client, settings, sources, personal, headers, ingested.kind)
