"""clip.commune reads the communes collection through the gate, and nothing else, on both stores."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from atlas.demo.territory import EPCI_SIREN
from atlas.errors import InvalidInput
from atlas.extracts.clip import resolve_clip
from atlas.extracts.request import Clip
from atlas.layers import get_layer
from atlas.layers.conform import IngestReport
from atlas.policy.gate import Policy
from atlas.policy.tiers import ANONYMOUS

EVRY = shapely.box(655_000, 6_830_000, 660_000, 6_835_000)


def _gate(store):
    return Policy(store, None, None).gate(ANONYMOUS, "test-communes")


def test_without_communes_a_commune_clip_says_so(catalog_store) -> None:
    """No generated fallback: an empty communes collection is a 400 naming the cause."""
    with pytest.raises(InvalidInput, match="no commune boundaries are loaded") as refused:
        resolve_clip(Clip(commune="91228"), _gate(catalog_store))
    assert refused.value.status == 400


def test_a_commune_clip_is_the_stored_polygon(catalog_store) -> None:
    layer = get_layer("communes")
    frame = gpd.GeoDataFrame(
        {
            "code_insee": ["91228", "91174"],
            "nom_officiel": ["Évry-Courcouronnes", "Corbeil-Essonnes"],
            "codes_siren_des_epci": [EPCI_SIREN, EPCI_SIREN],
        },
        geometry=[shapely.MultiPolygon([EVRY]), shapely.MultiPolygon([EVRY.buffer(-1000)])],
        crs=2154,
    )
    for name in ("code_insee_du_departement", "code_insee_de_la_region", "code_siren"):
        frame[name] = None
    frame["population"] = None
    frame["merged_codes"] = None
    info = catalog_store.write_version(layer, frame, report=IngestReport("communes", "test"))
    area = resolve_clip(Clip(commune="91228"), _gate(catalog_store))
    assert area is not None and area.kind == "commune"
    assert area.geometry.equals(shapely.MultiPolygon([EVRY]))
    assert area.described == {
        "commune": "91228",
        "name": "Évry-Courcouronnes",
        "boundaries": f"collection communes, version {info.version}",
    }
    with pytest.raises(InvalidInput, match="no commune '91001' in the communes collection"):
        resolve_clip(Clip(commune="91001"), _gate(catalog_store))
