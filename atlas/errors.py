"""One error hierarchy: every failure the user can cause or meet has a name, a status and an OGC code."""

from __future__ import annotations


class AtlasError(Exception):
    """Base of every Atlas error; ``description`` is safe to show a client."""

    status: int = 500
    code: str = "ServerError"
    # What a 5xx may tell the client, written here and never taken from a driver; None: a
    # generic message (5xx say little, the log says everything).
    public: str | None = None

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the error response must carry (e.g. WWW-Authenticate, Retry-After)."""
        return {}


class InvalidInput(AtlasError):
    """The caller's input is wrong (a parameter, a file, a CRS)."""

    status = 400
    code = "InvalidParameterValue"


class UnknownCRS(InvalidInput):
    """A CRS that cannot be resolved."""


class CRSMismatch(InvalidInput):
    """Coordinates that cannot be in their CRS (declared, implied or given); names a likely one."""


class HostileInput(InvalidInput):
    """Input refused for safety (zip bomb, path traversal, disguised file…)."""

    code = "RefusedInput"


class ValidationFailed(InvalidInput):
    """A dataset failed validation; nothing was written."""

    code = "ValidationFailed"

    def __init__(self, description: str, *, errors: list[str] | None = None) -> None:
        super().__init__(description)
        self.errors = errors or []


class Unauthorized(AtlasError):
    """A credential was sent but is wrong, malformed, expired or revoked (never a silent public)."""

    status = 401
    code = "Unauthorized"

    @property
    def headers(self) -> dict[str, str]:
        """RFC 6750 section 3: a 401 names the Bearer scheme; ``invalid_token`` says why."""
        return {"WWW-Authenticate": 'Bearer realm="atlas", error="invalid_token"'}


class Forbidden(AtlasError):
    """A request refused for what it is, not who sends it: a form without its CSRF token, or
    posted from another origin."""

    status = 403
    code = "Forbidden"


class TooManyRequests(AtlasError):
    """The caller's rate limit is exhausted; ``retry_after`` is in whole seconds."""

    status = 429
    code = "TooManyRequests"

    def __init__(self, description: str, *, retry_after: int) -> None:
        super().__init__(description)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        """RFC 9110 section 10.2.3: Retry-After as delay-seconds."""
        return {"Retry-After": str(self.retry_after)}


class NotFound(AtlasError):
    """An unknown collection, feature or resource."""

    status = 404
    code = "NotFound"


class UnknownCollection(NotFound):
    """Answers exactly like any other unknown collection, whatever the reason."""

    def __init__(self, collection_id: str) -> None:
        # Echo no more than a short piece of what the caller sent (a path can be kilobytes).
        shown = collection_id if len(collection_id) <= 80 else collection_id[:80] + "…"
        super().__init__(f"collection '{shown}' not found")
        self.collection_id = collection_id


class EmptyCollection(NotFound):
    """A collection that is known but has not been ingested yet."""

    def __init__(self, collection_id: str) -> None:
        super().__init__(f"collection '{collection_id}' has no data yet")


class RangeNotSatisfiable(AtlasError):
    """A byte range the resource cannot serve (RFC 9110, 15.5.17): past its end, or several."""

    status = 416
    code = "RangeNotSatisfiable"

    def __init__(self, description: str, *, size: int) -> None:
        super().__init__(description)
        self.size = size

    @property
    def headers(self) -> dict[str, str]:
        """The resource's size, as RFC 9110 asks of a 416 (``Content-Range: bytes */size``)."""
        return {"Content-Range": f"bytes */{self.size}"}


class StoreUnavailable(AtlasError):
    """The store cannot be reached; retry later."""

    status = 503
    code = "ServiceUnavailable"


class StoreTimeout(StoreUnavailable):
    """A statement ran past ATLAS_STATEMENT_TIMEOUT_MS: the caller may narrow the request."""

    public = "the request took too long to answer: narrow it (bbox, filter, limit) or retry later"


class PayloadTooLarge(InvalidInput):
    """A request body over ATLAS_BODY_MAX_BYTES (RFC 9110 section 15.5.14)."""

    status = 413
    code = "PayloadTooLarge"


class UnsupportedMediaType(InvalidInput):
    """A request body that is not JSON where JSON is expected (RFC 9110 section 15.5.16)."""

    status = 415
    code = "UnsupportedMediaType"


class RequestCancelled(AtlasError):
    """The client went away: its database work was interrupted (nobody reads the answer)."""

    status = 499  # nginx's "client closed request"; never reaches a client
    code = "ClientClosedRequest"
