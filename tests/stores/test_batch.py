"""``FeatureStore.batch``: versions of several collections switch together or not at all (both stores)."""

from __future__ import annotations

import dataclasses
import threading

import pytest

from atlas.errors import InvalidInput
from atlas.query.features import FeatureQuery
from tests.conftest import STORE_KINDS, _open_store
from tests.stores.fixtures import CONTRACT_LAYER, contract_frame, contract_report

# A second collection beside the contract one (the network beside the plots it serves).
TWIN = dataclasses.replace(CONTRACT_LAYER, collection_id="contract-twin")
LAYERS = {CONTRACT_LAYER.collection_id: CONTRACT_LAYER, TWIN.collection_id: TWIN}
A, B = CONTRACT_LAYER.collection_id, TWIN.collection_id


@pytest.fixture(params=STORE_KINDS)
def store(request, tmp_path):
    """Each store kind, knowing both collections, each with a first version of 60 features."""
    for instance in _open_store(request.param, tmp_path, LAYERS):
        frame = contract_frame()
        for layer in (CONTRACT_LAYER, TWIN):
            instance.write_version(layer, frame, report=contract_report(frame))
        yield instance


def _served(store) -> dict[str, tuple[int, int]]:
    """Collection -> (current version, features a query finds)."""
    return {
        cid: (store.collection(cid).version, store.count(cid, FeatureQuery())) for cid in (A, B)
    }


def _listed(store) -> dict[str, list[int]]:
    return {cid: [v.version for v in store.versions(cid)] for cid in (A, B)}


def test_staged_versions_are_served_together_at_the_end(store):
    small, smaller = contract_frame(n=12, seed=1), contract_frame(n=5, seed=2)
    with store.batch(collections=[B, A]) as batch:
        first = batch.write(CONTRACT_LAYER, small, report=contract_report(small))
        second = batch.write(TWIN, smaller, report=contract_report(smaller))
        # Staged, not served: readers and the version list still see the first versions.
        assert _served(store) == {A: (1, 60), B: (1, 60)}
        assert _listed(store) == {A: [1], B: [1]}
    assert (first.version, first.count, second.version, second.count) == (2, 12, 2, 5)
    assert _served(store) == {A: (2, 12), B: (2, 5)}
    assert _listed(store) == {A: [2, 1], B: [2, 1]}


def test_an_error_in_the_batch_switches_nothing(store):
    small = contract_frame(n=12, seed=1)
    with pytest.raises(RuntimeError, match="derivation failed"):
        with store.batch(collections=[A, B]) as batch:
            batch.write(CONTRACT_LAYER, small, report=contract_report(small))
            raise RuntimeError("derivation failed")
    assert _served(store) == {A: (1, 60), B: (1, 60)}
    assert _listed(store) == {A: [1], B: [1]}
    if store.kind == "embedded":
        assert sorted(p.name for p in (store.root / A).glob("v*")) == ["v1.duckdb", "v1.json"]
    again = store.write_version(CONTRACT_LAYER, small, report=contract_report(small))
    assert again.version == 2 and _served(store)[A] == (2, 12)


def test_a_batch_writes_what_it_named_once(store):
    small = contract_frame(n=3, seed=1)
    with store.batch(collections=[A]) as batch:
        with pytest.raises(ValueError, match="not named"):
            batch.write(TWIN, small, report=contract_report(small))
        batch.write(CONTRACT_LAYER, small, report=contract_report(small))
        with pytest.raises(ValueError, match="twice"):
            batch.write(CONTRACT_LAYER, small, report=contract_report(small))
    assert _served(store) == {A: (2, 3), B: (1, 60)}
    for names in ([], ["../elsewhere"], ["Contract plots"]):
        with pytest.raises(InvalidInput):
            with store.batch(collections=names):
                pass


def test_other_writers_of_a_named_collection_wait_for_the_batch(store):
    small, other = contract_frame(n=12, seed=1), contract_frame(n=4, seed=3)
    done = threading.Event()

    def write_twin() -> None:
        store.write_version(TWIN, other, report=contract_report(other))
        done.set()

    writer = threading.Thread(target=write_twin)
    with store.batch(collections=[A, B]) as batch:
        batch.write(CONTRACT_LAYER, small, report=contract_report(small))
        writer.start()
        # B is only read by this batch, but locked all the same: what it read stays served.
        assert not done.wait(timeout=1.5)
        assert _served(store)[B] == (1, 60)
    writer.join(timeout=60)
    assert done.is_set()
    assert _served(store) == {A: (2, 12), B: (2, 4)}
