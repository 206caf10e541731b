"""Fixtures of the store tests: the contract layer's frame, and a store holding it (the ``store``
fixture, one per kind, comes from tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.stores.fixtures import CONTRACT_LAYER, contract_frame, contract_report


@pytest.fixture
def frame():
    return contract_frame()


@pytest.fixture
def loaded(store, frame):
    store.write_version(CONTRACT_LAYER, frame, report=contract_report(frame))
    return store
