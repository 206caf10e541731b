"""The three levels of use and the authenticated caller.

A tier is never inferred from anything the client can forge: it comes from a verified API key
(or OIDC token); no credential at all means ``public``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Tier(enum.StrEnum):
    """Levels of use, from the least to the most trusted."""

    PUBLIC = "public"
    B2B = "b2b"
    INTERNAL = "internal"


def holds(held: Tier, wanted: Tier) -> bool:
    """Whether a caller of tier ``held`` may have what tier ``wanted`` gets (the same or a less
    trusted tier: staff hold b2b and public, partners public)."""
    order = list(Tier)  # declared from the least to the most trusted
    return order.index(wanted) <= order.index(held)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the tier, and for an API key its id and name (for the audit log)."""

    tier: Tier
    key_id: str | None = None
    name: str = "anonymous"

    @property
    def who(self) -> str:
        """How the audit log names the caller."""
        return f"key:{self.key_id} ({self.name})" if self.key_id else self.name


ANONYMOUS = Principal(tier=Tier.PUBLIC)
