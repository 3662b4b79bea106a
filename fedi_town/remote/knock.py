"""Double knock: which HTTP signature scheme each remote host accepts.

Released Mastodon (≤4.6) signs with draft-cavage only and verifies RFC 9421 from 4.5;
Mastodon ``main`` signs one scheme and, on 400 or 401, retries once with the other
(interop S5). We do the same and remember per host what worked, so the next request to
that host starts with the scheme it accepts.

The signing itself lives elsewhere (``protocol.httpsig``); this layer only needs a callable
matching ``RequestSigner``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Literal, Protocol

Scheme = Literal["cavage", "rfc9421"]

DEFAULT_SCHEME: Scheme = "cavage"


class RequestSigner(Protocol):
    """Signs one request; returns the headers to add (``Signature``, ``Digest``, ...).

    ``headers`` are those we are about to send (``Host``, ``Date``, ``Accept`` or
    ``Content-Type``); returned headers replace ours of the same name.
    """

    def __call__(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        scheme: Literal["cavage", "rfc9421"],
    ) -> dict[str, str]: ...


def other_scheme(scheme: Scheme) -> Scheme:
    return "rfc9421" if scheme == "cavage" else "cavage"


class SchemeMemory:
    """A bounded LRU map host → the scheme that last got a non-refused answer there."""

    def __init__(self, max_hosts: int = 10_000) -> None:
        if max_hosts < 1:
            raise ValueError("max_hosts must be at least 1")
        self._max_hosts = max_hosts
        self._schemes: OrderedDict[str, Scheme] = OrderedDict()

    def __len__(self) -> int:
        return len(self._schemes)

    def scheme_for(self, host: str) -> Scheme:
        scheme = self._schemes.get(host)
        if scheme is None:
            return DEFAULT_SCHEME
        self._schemes.move_to_end(host)
        return scheme

    def remember(self, host: str, scheme: Scheme) -> None:
        self._schemes[host] = scheme
        self._schemes.move_to_end(host)
        while len(self._schemes) > self._max_hosts:
            self._schemes.popitem(last=False)
