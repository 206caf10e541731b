"""One error hierarchy: every failure the user can cause or meet has a name, a status and an OGC code."""

from __future__ import annotations


class AtlasError(Exception):
    """Base of every Atlas error; ``description`` is safe to show a client."""

    status: int = 500
    code: str = "ServerError"

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class InvalidInput(AtlasError):
    """The caller's input is wrong (a parameter, a file, a CRS)."""

    status = 400
    code = "InvalidParameterValue"


class UnknownCRS(InvalidInput):
    """A CRS that cannot be resolved."""


class HostileInput(InvalidInput):
    """Input refused for safety (zip bomb, path traversal, disguised file…)."""

    code = "RefusedInput"


class ValidationFailed(InvalidInput):
    """A dataset failed validation; nothing was written."""

    code = "ValidationFailed"

    def __init__(self, description: str, *, errors: list[str] | None = None) -> None:
        super().__init__(description)
        self.errors = errors or []


class NotFound(AtlasError):
    """An unknown collection, feature or resource."""

    status = 404
    code = "NotFound"


class UnknownCollection(NotFound):
    """Answers exactly like any other unknown collection, whatever the reason."""

    def __init__(self, collection_id: str) -> None:
        super().__init__(f"collection '{collection_id}' not found")
        self.collection_id = collection_id


class EmptyCollection(NotFound):
    """A collection that is known but has not been ingested yet."""

    def __init__(self, collection_id: str) -> None:
        super().__init__(f"collection '{collection_id}' has no data yet")


class StoreUnavailable(AtlasError):
    """The store cannot be reached; retry later."""

    status = 503
    code = "ServiceUnavailable"
