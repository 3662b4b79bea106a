"""What one sender, or all of them together, may ask of the inboxes: per-process bounds.

    admit(services, actor)   called once per activity by ``inbox.accept``, after the
                             signature is verified; raises 429 or 503 (with Retry-After)

- **Per remote host** (``HostRates``): a token bucket per host of the activity's actor,
  ``settings.inbox_host_rate`` activities a second sustained, bursts of
  ``settings.inbox_host_burst``. Over it: 429 with the seconds until the next token. The
  host is the actor's, and ``accept`` calls ``admit`` only once the signature is verified
  and its key belongs to that actor: charging a host before its signature is checked would
  let anybody spend a victim host's budget with junk that names the victim's keyId (the
  precheck only looks at the clock and the Host header). Verifying first costs one signature
  check with a cached key per refused activity (tens of microseconds); what the limit
  protects is the rest: the store write and the worker's handling.
- **The unhandled backlog** (``Backlog``): when more than ``settings.inbox_max_backlog``
  inbox items are pending, inboxes answer 503 with Retry-After; the senders retry later
  (Mastodon retries for days). The count is this process's memory: refreshed from storage
  at most every ``BACKLOG_REFRESH_S`` by one background query, never awaited by a request.

Each is one dictionary lookup and a few float operations per activity: the inbox is a
measured hot path (docs/performance.md). Buckets and counts are per process; several web
processes each allow the rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable

from fedi_town.errors import ServiceUnavailable, TooManyRequests
from fedi_town.protocol.reading import host_of
from fedi_town.services import Services
from fedi_town.store import retention

log = logging.getLogger(__name__)

#: Hosts remembered at most; past it, hosts whose bucket is full again are forgotten.
MAX_HOSTS = 10_000
#: How old the backlog count may get before a request starts a refresh (seconds).
BACKLOG_REFRESH_S = 2.0
#: Retry-After of a 503 for the backlog (seconds): long enough for the worker to catch up.
BACKLOG_RETRY_AFTER_S = 60


class HostRates:
    """One token bucket per host: ``rate`` tokens a second, ``burst`` at most."""

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        #: host -> (tokens, when counted)
        self._buckets: dict[str, tuple[float, float]] = {}
        #: hosts refused since they were last let in
        self._refusing: set[str] = set()

    def take(self, host: str) -> float:
        """Take one token for ``host``: 0.0 when allowed, else the seconds until a token."""
        now = self._clock()
        tokens, then = self._buckets.get(host, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        if tokens < 1.0:
            self._buckets[host] = (tokens, now)
            return (1.0 - tokens) / self.rate
        if host not in self._buckets and len(self._buckets) >= MAX_HOSTS:
            self._forget_full(now)
        self._buckets[host] = (tokens - 1.0, now)
        if self._refusing:
            self._refusing.discard(host)
        return 0.0

    def note_refusal(self, host: str) -> bool:
        """Note that ``host`` was refused; True the first time since it was last let in
        (so a flood logs one line, not one per activity)."""
        if host in self._refusing:
            return False
        if len(self._refusing) >= MAX_HOSTS:
            self._refusing.clear()
        self._refusing.add(host)
        return True

    def _forget_full(self, now: float) -> None:
        """Drop hosts whose bucket has refilled (they lose nothing); if none has, the oldest."""
        full = [
            host
            for host, (tokens, then) in self._buckets.items()
            if tokens + (now - then) * self.rate >= self.burst
        ]
        for host in full or [next(iter(self._buckets))]:
            del self._buckets[host]


class Backlog:
    """The count of pending inbox items, as of at most ``BACKLOG_REFRESH_S`` ago."""

    def __init__(self, services: Services, clock: Callable[[], float] = time.monotonic) -> None:
        self._services = services
        self._clock = clock
        self.pending = 0
        self._counted_at = -math.inf
        self._refreshing: asyncio.Task[None] | None = None

    def over(self, bound: int) -> bool:
        """Whether more than ``bound`` items wait; starts a refresh when the count is old."""
        if self._clock() - self._counted_at >= BACKLOG_REFRESH_S and self._refreshing is None:
            self._counted_at = self._clock()
            self._refreshing = asyncio.get_running_loop().create_task(self.refresh())
        return self.pending > bound

    async def refresh(self) -> None:
        """Count the pending items now (one indexed COUNT); a failed count keeps the old."""
        try:
            self.pending = await retention.count_pending(self._services.store)
            self._counted_at = self._clock()
        except Exception as exc:  # the database is away: keep the last count, try later
            log.warning("counting the inbox backlog failed: %s", exc.__class__.__name__)
        finally:
            self._refreshing = None

    async def close(self) -> None:
        """Wait for a refresh under way (at shutdown, before the store disconnects)."""
        task = self._refreshing
        if task is not None:
            with contextlib.suppress(Exception):
                await task


def host_rates(services: Services) -> HostRates:
    """This process's per-host buckets, made on first use."""
    settings = services.settings
    return services.parts.get(
        HostRates, lambda: HostRates(settings.inbox_host_rate, settings.inbox_host_burst)
    )


def backlog(services: Services) -> Backlog:
    """This process's backlog count, made on first use."""
    return services.parts.get(Backlog, lambda: Backlog(services))


def admit(services: Services, actor: str) -> None:
    """Let one verified activity of ``actor`` in, or refuse it: 503 while the backlog is over
    its bound, 429 while the actor's host is over its rate. Both carry Retry-After."""
    if backlog(services).over(services.settings.inbox_max_backlog):
        log.info("inbox: refused an activity of %s: backlog over its bound", actor)
        raise ServiceUnavailable(
            "too many activities wait to be handled; try again later",
            retry_after=BACKLOG_RETRY_AFTER_S,
        )
    host = host_of(actor) or ""
    rates = host_rates(services)
    wait = rates.take(host)
    if wait:
        if rates.note_refusal(host):
            log.info("inbox: host %s is over its rate; refusing it with 429 a while", host)
        raise TooManyRequests(
            f"more than {services.settings.inbox_host_rate} activities a second from {host}",
            retry_after=max(1, math.ceil(wait)),
        )
