"""Operations granted by name (atlas.policy.grants): the inventory is the staff's."""

from __future__ import annotations

import pytest

from atlas.errors import UnknownCollection
from atlas.policy.gate import Policy
from atlas.policy.grants import GRANTS, Operation, granted, granted_tiers
from atlas.policy.tiers import Principal, Tier
from atlas.settings import StoreSettings
from atlas.stores import open_store


def test_the_inventory_is_granted_to_the_staff_only():
    assert granted_tiers(Operation.INVENTORY_EXPORT) == (Tier.INTERNAL,)
    assert [t for t in Tier if granted(Operation.INVENTORY_EXPORT, t)] == [Tier.INTERNAL]
    assert set(GRANTS) == set(Operation)  # every operation is granted explicitly


@pytest.mark.parametrize("tier", [Tier.PUBLIC, Tier.B2B])
def test_the_gate_refuses_an_inventory_read_to_other_tiers(tmp_path, tier):
    store = open_store(StoreSettings(data_dir=tmp_path))
    try:
        gate = Policy(store, None, audit=None).gate(Principal(tier), "r")
        assert not gate.granted(Operation.INVENTORY_EXPORT)
        with pytest.raises(UnknownCollection):
            gate.frame("activity-sites", action="inventory")
    finally:
        store.close()
