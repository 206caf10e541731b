"""Operations beyond reading collections, and the tiers granted each: the policy as data.

Reading a collection is decided per layer (``policy.rules``); an operation that is not a read of
one collection — the legal ZAE inventory, which hands every plot's buyer and every business over
at once — is granted here, by name. Default deny: an operation not listed, or a tier not named,
is refused (the API answers it like an unknown path and leaves it out of the tier's OpenAPI
document).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

from atlas.policy.tiers import Tier


class Operation(enum.StrEnum):
    """Operations granted by name."""

    INVENTORY_EXPORT = "inventory-export"


GRANTS: Mapping[Operation, frozenset[Tier]] = MappingProxyType(
    {
        # Art. L.318-8-2 CU: the inventory is the staff's to draw up; its internal mode holds
        # personal data (owners, buyers), its publication mode is published by the staff.
        Operation.INVENTORY_EXPORT: frozenset({Tier.INTERNAL}),
    }
)


def granted(operation: Operation, tier: Tier) -> bool:
    """Whether ``tier`` may call ``operation``."""
    return tier in GRANTS.get(operation, frozenset())


def granted_tiers(operation: Operation) -> tuple[Tier, ...]:
    """The tiers ``operation`` is granted to, least trusted first."""
    return tuple(tier for tier in Tier if granted(operation, tier))
