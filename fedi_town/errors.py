"""The error tree of fedi-town, turned into ``application/problem+json`` at one edge (app.py).

    FediTownError
    ├── ProblemError            an HTTP-facing error with a status, a title and a detail
    │   ├── BadRequest          400: malformed JSON, wrong shape
    │   ├── Unauthorized        401: missing or bad token / signature
    │   ├── Forbidden           403
    │   ├── NotFound            404
    │   ├── Gone                410
    │   ├── Conflict            409
    │   ├── PayloadTooLarge     413
    │   ├── UnsupportedMedia    415
    │   ├── Unprocessable       422: valid JSON that breaks a rule (schema, username, ...)
    │   ├── TooManyRequests     429: over a rate limit; try again in ``retry_after`` seconds
    │   └── ServiceUnavailable  503: try again later (``retry_after`` seconds): storage full or
    │                           read-only, a backlog over its bound
    ├── ProtocolError           something on the wire is not what ActivityPub peers send
    │   └── SignatureError      an HTTP signature that cannot be trusted (see protocol.httpsig)
    ├── RemoteError             talking to another server failed (see remote/)
    └── ConfigError             a setting has a bad value; names its key

Messages never contain secrets: no token, key or request body goes into an error.
"""

from __future__ import annotations

from typing import Any


class FediTownError(Exception):
    """Root of every error fedi-town raises on purpose."""


class ConfigError(FediTownError):
    """A setting has a bad value. The message names the environment variable."""


class ProtocolError(FediTownError):
    """A document or request does not follow ActivityPub as peers speak it."""


class SignatureError(ProtocolError):
    """An HTTP signature that cannot be trusted. Subclasses name the exact failure."""


class RemoteError(FediTownError):
    """Talking to a remote server failed."""


class ProblemError(FediTownError):
    """An error that becomes an RFC 9457 problem document with ``status``."""

    status = 500
    title = "Internal Server Error"

    def __init__(self, detail: str = "", *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors


class BadRequest(ProblemError):
    status = 400
    title = "Bad Request"


class Unauthorized(ProblemError):
    status = 401
    title = "Unauthorized"


class Forbidden(ProblemError):
    status = 403
    title = "Forbidden"


class NotFound(ProblemError):
    status = 404
    title = "Not Found"


class Conflict(ProblemError):
    status = 409
    title = "Conflict"


class Gone(ProblemError):
    status = 410
    title = "Gone"


class PayloadTooLarge(ProblemError):
    status = 413
    title = "Payload Too Large"


class UnsupportedMedia(ProblemError):
    status = 415
    title = "Unsupported Media Type"


class Unprocessable(ProblemError):
    status = 422
    title = "Unprocessable Content"


class ServiceUnavailable(ProblemError):
    """503: the instance cannot take this now but will later; ``retry_after`` (seconds)
    becomes a ``Retry-After`` header."""

    status = 503
    title = "Service Unavailable"

    def __init__(
        self,
        detail: str = "",
        *,
        retry_after: int | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail, errors=errors)
        self.retry_after = retry_after


class TooManyRequests(ProblemError):
    """429: this client (a remote host, an address) is over its rate limit; ``retry_after``
    (seconds) becomes a ``Retry-After`` header."""

    status = 429
    title = "Too Many Requests"

    def __init__(self, detail: str = "", *, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
