"""Encoded answers that remote servers fetch again and again, kept in memory per process.

Actors, WebFinger answers, Notes, collections and NodeInfo are fetched by every server that
sees a business or a boost, often thousands of times within seconds. Building them costs
database round trips and a render; serving the kept bytes costs a dictionary look-up
(``fastpath`` answers a hit before Starlette routes the request).

What is kept: only 200 answers that do not depend on who asks (see ``remember``), keyed by
path, query and representation (ActivityPub JSON or not: a browser never gets the JSON an
ActivityPub client got, nor the reverse). HTML pages are never kept.

Freshness: every entry belongs to a group (a business's documents, the followers
collections, the instance's documents, NodeInfo). The write paths say what changed as
after-commit effects (``store.effects.BusinessChanged``, ``FollowersChanged``); the cache,
subscribed at start (``follow_changes``), drops the group in this process once the
transaction commits. Other web processes
sharing one PostgreSQL database cannot hear of it, so every entry also expires after
``DEFAULT_TTL`` (10 s): short enough that a post edited or deleted through another process
shows everywhere within seconds, long enough that a burst of fetches (a boost going round)
is served from memory. Likes, boosts and replies counted by the worker are not dropped on
each change (a boost storm would empty the very cache it hits): they lag by the TTL. A
request that started before a drop never stores what it built (the generation check in
``ResponseCache.put``), so a slow build cannot bring stale bytes back.

Memory: nothing is allocated until the first fill; entries are evicted least recently used
first beyond ``DEFAULT_BUDGET`` bytes, and no single answer over ``MAX_ENTRY`` is kept.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from fedi_town.metrics import route_of
from fedi_town.services import Services
from fedi_town.store.effects import BusinessChanged, FollowersChanged

DEFAULT_TTL = 10.0
DEFAULT_BUDGET = 4 * 1024 * 1024
MAX_ENTRY = 256 * 1024
#: Bookkeeping per entry beyond its bytes (key, tuple, dict slot), roughly.
ENTRY_OVERHEAD = 300
#: Groups remembered as recently dropped before falling back to "drop all that started".
MAX_DROPPED_GROUPS = 10_000

#: Scope keys: the cache generation when the request arrived (set by ``fastpath``),
#: and a mark that the answer depends on the fetcher (set by the route, never stored).
GENERATION = "fedi_town.cache_generation"
FETCHER_DEPENDENT = "fedi_town.fetcher_dependent"

INSTANCE = "instance"
NODEINFO = "nodeinfo"
#: Every business's followers collection: one group, so the inbound side can drop it after
#: a follow without knowing whose it was (they are cheap to rebuild, follows are rare).
FOLLOWERS = "followers"

#: Queries that name a document (``?page=N``, WebFinger's ``?resource=…``); any other
#: query is answered but not kept, so made-up parameters do not multiply entries (what
#: still gets in only pushes older entries out: the budget holds whatever is asked).
_KEPT_QUERY = re.compile(rb"(?:page|resource)=[^&]*")

CacheKey = tuple[str, bytes, bool]
RawHeaders = list[tuple[bytes, bytes]]


def business_group(username: str) -> str:
    """The group of a business's documents (actor, WebFinger, Notes, outbox, featured)."""
    return "@" + username


@dataclass(slots=True)
class Entry:
    """One kept answer: the same body, with the headers for each kind of fetcher.

    ``headers`` is what an unsigned fetcher gets; ``signed_headers`` what a verified signed
    fetcher gets (``Cache-Control: private``). ``guarded`` entries are served to a signed
    request only after the fetch guard accepted it.
    """

    status: int
    headers: RawHeaders
    signed_headers: RawHeaders
    body: bytes
    guarded: bool
    group: str
    expires: float
    size: int
    #: the route template that built it, for the metrics of the hits (``fastpath``)
    route: str = ""


class ResponseCache:
    """(path, query, ActivityPub?) → ``Entry``; LRU within a byte budget, with a TTL."""

    def __init__(self, ttl: float = DEFAULT_TTL, budget: int = DEFAULT_BUDGET) -> None:
        self.ttl = ttl
        self.budget = budget
        self.size = 0
        self.generation = 0
        self._entries: OrderedDict[CacheKey, Entry] = OrderedDict()
        self._groups: dict[str, set[CacheKey]] = {}
        self._dropped: dict[str, int] = {}
        self._dropped_floor = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: CacheKey) -> Entry | None:
        """The live entry for ``key`` (marked recently used), or None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires < time.monotonic():
            self._remove(key)
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: CacheKey, entry: Entry, started: int) -> bool:
        """Keep ``entry`` unless its group was dropped since generation ``started`` (the
        answer may have been built from data changed meanwhile) or it is too large."""
        if started < self._dropped_floor or self._dropped.get(entry.group, -1) > started:
            return False
        if entry.size > MAX_ENTRY or entry.size > self.budget:
            return False
        if key in self._entries:
            self._remove(key)
        self._entries[key] = entry
        self._groups.setdefault(entry.group, set()).add(key)
        self.size += entry.size
        while self.size > self.budget:
            oldest = next(iter(self._entries))
            self._remove(oldest)
        return True

    def forget(self, group: str) -> None:
        """Drop every entry of ``group``; requests already running will not store theirs."""
        self.generation += 1
        for key in self._groups.pop(group, ()):
            entry = self._entries.pop(key, None)
            if entry is not None:
                self.size -= entry.size
        if len(self._dropped) >= MAX_DROPPED_GROUPS:
            self._dropped.clear()
            self._dropped_floor = self.generation
        self._dropped[group] = self.generation

    def clear(self) -> None:
        """Drop everything (tests that write rows behind the API's back)."""
        self.generation += 1
        self._entries.clear()
        self._groups.clear()
        self._dropped.clear()
        self._dropped_floor = self.generation
        self.size = 0

    def _remove(self, key: CacheKey) -> None:
        entry = self._entries.pop(key)
        self.size -= entry.size
        keys = self._groups.get(entry.group)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._groups[entry.group]


def response_cache(services: Services) -> ResponseCache:
    """This process's cache, made on first use."""
    return services.parts.get(ResponseCache, ResponseCache)


def request_key(path: str, query: bytes, accept: bytes) -> CacheKey:
    """The key of a request: the representation is decided as ``web.wants_activity_json``
    decides it, so a key never mixes what a browser and an ActivityPub client get."""
    lowered = accept.lower()
    as_json = b"application/activity+json" in lowered or b"application/ld+json" in lowered
    return (path, query, as_json)


def _first_accept(raw: RawHeaders) -> bytes:
    for name, value in raw:
        if name == b"accept":
            return value
    return b""


def _with_cache_control(raw: RawHeaders, value: str | None) -> RawHeaders:
    if value is None:
        return list(raw)
    encoded = value.encode("latin-1")
    return [(k, encoded if k == b"cache-control" else v) for k, v in raw]


def remember(
    request: Request,
    response: Response,
    group: str,
    *,
    guarded: bool,
    public_cache: str | None = None,
    private_cache: str | None = None,
) -> None:
    """Keep ``response`` for the request's key if it is the same for every fetcher.

    Call only where the answer does not depend on who asks, or where the route marks the
    request ``FETCHER_DEPENDENT`` when it does (a followers-only Note). ``public_cache`` /
    ``private_cache`` are the ``Cache-Control`` values an unsigned / a signed fetcher gets
    (None: the same header for both). Only 200 answers to requests that came through
    ``fastpath`` (which stamps the generation) are kept.
    """
    scope = request.scope
    started = scope.get(GENERATION)
    if started is None or response.status_code != 200 or scope.get(FETCHER_DEPENDENT):
        return
    query: bytes = scope.get("query_string", b"")
    if query and not _KEPT_QUERY.fullmatch(query):
        return
    body = response.body
    raw = response.raw_headers
    key = request_key(scope["path"], query, _first_accept(scope["headers"]))
    size = len(body) + sum(len(k) + len(v) for k, v in raw) + len(key[0]) + ENTRY_OVERHEAD
    cache = response_cache(request.app.state.services)
    entry = Entry(
        status=200,
        headers=_with_cache_control(raw, public_cache),
        signed_headers=_with_cache_control(raw, private_cache),
        body=bytes(body),
        guarded=guarded,
        group=group,
        expires=time.monotonic() + cache.ttl,
        size=size,
        route=route_of(scope),
    )
    cache.put(key, entry, started)


def follow_changes(services: Services) -> Callable[[], None]:
    """Subscribe this process's cache to the store's after-commit effects; returns the
    function that ends the subscription."""
    store = services.store
    stops = [
        store.on_commit(BusinessChanged, lambda e: forget_business(services, e.username)),
        store.on_commit(FollowersChanged, lambda e: followers_changed(services)),
    ]

    def stop() -> None:
        for end in stops:
            end()

    return stop


def forget_business(services: Services, username: str) -> None:
    """After any change to what a business's documents show (profile, posts, pins,
    deletion): drops its actor, WebFinger, Notes, collections, and NodeInfo's counts."""
    cache = response_cache(services)
    cache.forget(business_group(username))
    cache.forget(FOLLOWERS)
    cache.forget(NODEINFO)


def followers_changed(services: Services) -> None:
    """After the transaction that added, accepted or removed a follow commits, so follower
    counts are right at once."""
    response_cache(services).forget(FOLLOWERS)
