"""Errors of the outbound HTTP layer, all under ``fedi_town.errors.RemoteError``.

    RemoteError
    ├── ForbiddenAddress        the URL, or an address its host resolves to, may not be fetched
    ├── RemoteUnreachable       no HTTP answer: timeout, refused connection, broken protocol
    ├── TooManyRedirects        more redirects than the client allows
    ├── FetchFailed             an HTTP answer other than 200; ``.status``
    │   ├── RemoteNotFound      404
    │   └── RemoteGone          410
    └── BadResponse             a 200 whose body we refuse
        ├── ResponseTooLarge    more bytes (on the wire or decoded) than the cap
        ├── BadContentType      not an ActivityStreams media type
        ├── BadDocument         not a JSON object, or an unsupported Content-Encoding
        └── IdMismatch          the document's ``id`` is not the URL we asked for

Messages name the URL or host, never a body, a header value or a resolved address.
"""

from __future__ import annotations

from typing import Literal

from fedi_town.errors import RemoteError

#: Why no HTTP answer came back; also used as ``DeliveryResult.error``.
Unreachable = Literal["timeout", "connect", "network", "protocol"]


class ForbiddenAddress(RemoteError):
    """The URL's scheme, userinfo or host (or an address it resolves to) is not allowed."""


class RemoteUnreachable(RemoteError):
    """The request got no HTTP answer. ``reason`` says why, for a retry policy."""

    def __init__(self, url: str, reason: Unreachable) -> None:
        super().__init__(f"{url}: no answer ({reason})")
        self.url = url
        self.reason: Unreachable = reason


class TooManyRedirects(RemoteError):
    """The chain of redirects starting at ``url`` was longer than allowed."""

    def __init__(self, url: str, max_redirects: int) -> None:
        super().__init__(f"{url}: more than {max_redirects} redirects")
        self.url = url


class FetchFailed(RemoteError):
    """The remote answered with a status other than 200."""

    def __init__(self, url: str, status: int) -> None:
        super().__init__(f"{url}: HTTP {status}")
        self.url = url
        self.status = status


class RemoteNotFound(FetchFailed):
    """404. Mastodon deletes a known object on this answer (interop F5)."""


class RemoteGone(FetchFailed):
    """410: the object or actor was deleted for good."""


class BadResponse(RemoteError):
    """A 200 answer whose body cannot be used."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url


class ResponseTooLarge(BadResponse):
    """The body passed the size cap; reading stopped there."""


class BadContentType(BadResponse):
    """The Content-Type is not one ActivityPub peers accept (interop F2)."""


class BadDocument(BadResponse):
    """The body is not a JSON object, or is encoded in a way we do not decode."""


class IdMismatch(BadResponse):
    """The document's ``id`` is not, as a string, the URL we requested (interop F4)."""
