"""The embedded store's catalog: one file says what is served; older data directories are adopted."""

from __future__ import annotations

import json

from atlas.query.features import FeatureQuery
from atlas.stores.embedded import EmbeddedStore
from atlas.stores.embedded_catalog import CATALOG_FILE
from tests.stores.fixtures import CONTRACT_LAYER, contract_frame, contract_report

CID = CONTRACT_LAYER.collection_id
LAYERS = {CID: CONTRACT_LAYER}


def _write(store: EmbeddedStore, n: int) -> int:
    frame = contract_frame(n=n)
    return store.write_version(CONTRACT_LAYER, frame, report=contract_report(frame)).version


def test_the_catalog_names_what_is_served(tmp_path):
    store = EmbeddedStore(tmp_path, layers=LAYERS)
    for n in (10, 20, 30, 40):
        _write(store, n)
    catalog = json.loads((store.root / CATALOG_FILE).read_text())
    assert catalog == {"collections": {CID: {"current": 4, "served": [2, 3, 4]}}}
    assert [v.version for v in store.versions(CID)] == [4, 3, 2]
    files = sorted(p.name for p in (store.root / CID).glob("v*"))
    assert files == [f"v{n}.{ext}" for n in (2, 3, 4) for ext in ("duckdb", "json")]
    store.close()


def test_a_data_dir_with_per_collection_pointers_is_adopted(tmp_path):
    store = EmbeddedStore(tmp_path, layers=LAYERS)
    for n in (10, 20, 30):
        _write(store, n)
    store.close()
    # The layout before the catalog: a CURRENT pointer per collection. Here v3 was written
    # but its pointer never moved (a killed ingest): v2 is served, v3 is an orphan.
    (store.root / CATALOG_FILE).unlink()
    (store.root / CID / "CURRENT").write_text(json.dumps({"version": 2}))

    reopened = EmbeddedStore(tmp_path, layers=LAYERS)
    assert reopened.collection(CID).version == 2
    assert reopened.count(CID, FeatureQuery()) == 20
    assert [v.version for v in reopened.versions(CID)] == [2, 1]
    assert not (reopened.root / CID / "CURRENT").exists()
    assert _write(reopened, 5) == 4
    assert [v.version for v in reopened.versions(CID)] == [4, 2, 1]
    assert not (reopened.root / CID / "v3.duckdb").exists()  # the orphan went at the switch
    reopened.close()
