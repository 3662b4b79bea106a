"""Encoded documents that every remote server asks for again and again, kept in memory.

Actor documents and WebFinger answers are fetched by every server that sees a business,
and each one used to cost a database round trip (plus a Markdown render for the actor's
summary). They change only when the owner changes the profile, so this process keeps the
encoded bytes per business for ``ttl`` seconds and forgets them at once when the admin API
changes or deletes that business. The short ``ttl`` bounds how stale another process's copy
can be when several web processes share one PostgreSQL database.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from fedi_town.services import Services

DEFAULT_TTL = 30.0
MAX_BUSINESSES = 10_000


class DocumentCache:
    """(business username, kind) → encoded bytes, per process, with a time to live.

    Keys are the username exactly as the business spells it: a request in another case
    misses and takes the slow path, which redirects or canonicalises it.
    """

    def __init__(self, ttl: float = DEFAULT_TTL, max_businesses: int = MAX_BUSINESSES) -> None:
        self.ttl = ttl
        self.max_businesses = max_businesses
        self._entries: OrderedDict[str, dict[str, tuple[float, bytes]]] = OrderedDict()

    def get(self, username: str, kind: str) -> bytes | None:
        """The cached bytes, or None when absent or expired."""
        kinds = self._entries.get(username)
        if kinds is None:
            return None
        entry = kinds.get(kind)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, username: str, kind: str, value: bytes) -> None:
        key = username
        kinds = self._entries.setdefault(key, {})
        kinds[kind] = (time.monotonic() + self.ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_businesses:
            self._entries.popitem(last=False)

    def forget(self, username: str) -> None:
        """Drop everything cached for a business (its profile changed or it was deleted)."""
        self._entries.pop(username, None)


def document_cache(services: Services) -> DocumentCache:
    """This process's cache, made on first use."""
    cache: DocumentCache | None = services.extras.get("document_cache")
    if cache is None:
        cache = DocumentCache()
        services.extras["document_cache"] = cache
    return cache


def forget_business(services: Services, username: str) -> None:
    """Call after any change to what a business's actor or WebFinger answer shows."""
    document_cache(services).forget(username)
