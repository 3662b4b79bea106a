"""The delivery handler: one claimed ``deliveries`` row becomes one signed POST.

The activity body is stored once per activity and signed per inbox as the business that
sends it. The outcome goes through ``retry.decide``; nothing here retries by itself.

Before sending, three gates:

1. **Our own inbox** (another business here): stored straight into the inbox queue
   (``store.inbox.add``) as an activity whose signature needs no check, since we wrote
   it; no HTTP round trip, no signing.
2. **Circuit breaker** (``outbound.breaker``, in memory; storage hears the transitions):
   while a host's breaker is open its rows are deferred to the probe time without counting
   an attempt; at probe time one row probes.
3. **Per-host limit**: at most ``PER_HOST`` requests in flight per host in this process, so
   one slow server cannot take every worker slot (``QueueRunner.concurrency`` caps the
   total). A row that cannot get a slot within half its remaining lease is deferred.

After the answer: 2xx or a definite refusal closes the host's breaker; timeouts, refused
connections, 408 and 5xx count towards opening it; 410 drops the follower. A row that was
sent comes back ``Done`` and the worker marks it in a batch: one commit for many rows.

Per healthy delivery that leaves no query of its own: the activity, its sender and signer are
read once per activity (``_outgoing``), the breaker is a dict lookup, and the row's ``done``
shares an UPDATE with its neighbours.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections import OrderedDict
from dataclasses import dataclass

from fedi_town.outbound.breaker import Breaker
from fedi_town.outbound.retry import RETRYABLE_ERRORS, decide
from fedi_town.remote.http import DeliveryResult
from fedi_town.remote.knock import RequestSigner
from fedi_town.services import Services
from fedi_town.store import businesses, outbox
from fedi_town.store import deliveries as delivery_store
from fedi_town.store import inbox as inbox_store
from fedi_town.store import queue as q
from fedi_town.store.db import Row
from fedi_town.store.effects import Wake

log = logging.getLogger(__name__)

#: Requests in flight per remote host, per worker process.
PER_HOST = 4
#: When a host slot is busy for too long, the row is tried again this much later.
BUSY_RETRY_MS = 1_000


class HostLimiter:
    """Per-host semaphores that exist only while a host has rows in flight or waiting."""

    def __init__(self, per_host: int) -> None:
        self.per_host = per_host
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._users: dict[str, int] = {}
        self.peak: dict[str, int] = {}

    def in_flight(self, host: str) -> int:
        semaphore = self._semaphores.get(host)
        return 0 if semaphore is None else self.per_host - semaphore._value

    async def acquire(self, host: str, wait_s: float) -> bool:
        """Take one of ``host``'s slots: True (give it back with ``release``), or False if
        none freed within ``wait_s`` (nothing to give back). A plain pair of calls rather
        than a context manager: this runs once per delivery."""
        semaphore = self._semaphores.get(host)
        if semaphore is None:
            semaphore = self._semaphores[host] = asyncio.Semaphore(self.per_host)
        self._users[host] = self._users.get(host, 0) + 1
        try:
            if semaphore.locked():  # wait_for costs a task; only pay it when waiting
                await asyncio.wait_for(semaphore.acquire(), timeout=max(0.0, wait_s))
            else:
                await semaphore.acquire()
        except BaseException as exc:  # timed out or cancelled: no slot was taken
            self._leave(host)
            if isinstance(exc, TimeoutError):
                return False
            raise
        in_flight = self.per_host - semaphore._value
        if in_flight > self.peak.get(host, 0):
            self.peak[host] = in_flight
        return True

    def release(self, host: str) -> None:
        """Give back a slot ``acquire`` took."""
        self._semaphores[host].release()
        self._leave(host)

    def _leave(self, host: str) -> None:
        """One user of ``host``'s semaphore less; the last one removes it."""
        users = self._users[host] - 1
        if users:
            self._users[host] = users
        else:
            del self._users[host]
            del self._semaphores[host]


def host_limiter(services: Services) -> HostLimiter:
    return services.parts.get(HostLimiter, lambda: HostLimiter(PER_HOST))


@dataclass(frozen=True)
class Outgoing:
    """What every delivery row of one activity shares: the bytes, who signs, who sends."""

    type: str
    body: bytes
    signer: RequestSigner
    sender: str


#: Activities are never changed once stored, so a fan-out reads each one once, not per row.
OUTGOING_CACHE_SIZE = 256


class OutgoingCache:
    """The activities read for delivery lately, and the reads under way, by activity id."""

    def __init__(self) -> None:
        self.ready: OrderedDict[int, Outgoing] = OrderedDict()
        self.loading: dict[int, asyncio.Future[Outgoing | str]] = {}


async def _outgoing(services: Services, activity_id: int) -> Outgoing | str:
    """The activity to send, or why it cannot be sent (a reason for ``last_error``).

    The rows of one activity are claimed together, so their handlers ask at the same moment:
    the first one reads, the others wait for its answer instead of each running the queries.
    """
    outgoing = services.parts.get(OutgoingCache, OutgoingCache)
    cache = outgoing.ready
    found = cache.get(activity_id)
    if found is not None:
        cache.move_to_end(activity_id)
        return found
    loading = outgoing.loading
    waiting = loading.get(activity_id)
    if waiting is not None:
        return await asyncio.shield(waiting)
    future: asyncio.Future[Outgoing | str] = asyncio.get_running_loop().create_future()
    loading[activity_id] = future
    try:
        answer = await _load_outgoing(services, activity_id)
    except asyncio.CancelledError:
        future.cancel()
        raise
    except Exception as exc:
        future.set_exception(exc)
        future.exception()  # retrieved: waiters re-raise it, nobody logs it as lost
        raise
    else:
        future.set_result(answer)
        if isinstance(answer, Outgoing):
            cache[activity_id] = answer
            while len(cache) > OUTGOING_CACHE_SIZE:
                cache.popitem(last=False)
        return answer
    finally:
        del loading[activity_id]


async def _load_outgoing(services: Services, activity_id: int) -> Outgoing | str:
    store = services.store
    activity = await outbox.activity_for_delivery(store, activity_id)
    if activity is None:
        return "activity missing"
    if activity["business_id"] is None:
        signer = services.instance_signer()
        sender = services.urls.instance_actor()
    else:
        business = await businesses.by_id(store, int(activity["business_id"]))
        if business is None:
            return "sender missing"
        signer = services.business_signer(business)
        sender = services.urls.actor(business.username)
    return Outgoing(str(activity["type"]), str(activity["body"]).encode(), signer, sender)


def _is_local(services: Services, inbox: str) -> bool:
    return inbox.startswith(services.urls.base + "/")


async def _deliver_locally(services: Services, inbox: str, body: bytes, sender: str) -> None:
    """Hand an activity for one of our own inboxes to the inbox queue (deduplicated there)."""
    business_id = None
    path = inbox[len(services.urls.base) :]
    if path.startswith("/users/") and path.endswith("/inbox"):
        username = path[len("/users/") : -len("/inbox")]
        business = await businesses.by_username(services.store, username)
        if business is None:
            return  # gone meanwhile: nothing to hand over
        business_id = business.id
    activity = json.loads(body)
    await inbox_store.add(
        services.store,
        activity_uri=str(activity["id"]),
        business_id=business_id,
        actor_uri=sender,
        type=str(activity.get("type", "")),
        body=body.decode("utf-8"),
        now=services.now_ms(),
    )


def breaker(services: Services) -> Breaker:
    """This process's circuit breaker (one per ``Services``)."""
    return services.parts.get(Breaker, Breaker)


async def _circuit_allows(services: Services, row: Row, now: int) -> q.Defer | None:
    """None, or while the host's breaker is open the row's deferral (uncounted)."""
    verdict = await breaker(services).verdict(services.store, str(row["host"]), now)
    if verdict == "send" or verdict == "probe":
        return None
    until = max(int(verdict), now + BUSY_RETRY_MS)
    return q.Defer(until, delivery_store.HOST_UNAVAILABLE)


async def _record_health(services: Services, host: str, result: DeliveryResult, now: int) -> None:
    status = result.status
    health = breaker(services)
    if status is None:
        if result.error in RETRYABLE_ERRORS:
            state = await health.failed(services.store, host, now)
            if state.open_until is not None:
                log.warning(
                    "%s failed %d times in a row; pausing deliveries to it",
                    host,
                    state.consecutive_failures,
                )
        return
    if status == 408 or (500 <= status < 600 and status != 501):
        await health.failed(services.store, host, now)
    elif status != 429 and await health.succeeded(services.store, host, now):
        log.info("%s answers again; resuming its deliveries", host)
        services.store.after_commit(Wake(q.DELIVERIES))  # its deferred rows are due now


async def handle_delivery(services: Services, row: Row) -> q.Outcome:
    """Send one delivery row; what happened, for the worker to record."""
    store = services.store
    row_id = int(row["id"])
    inbox = str(row["inbox"])
    host = str(row["host"])
    activity = await _outgoing(services, int(row["activity_id"]))
    if isinstance(activity, str):
        return q.GiveUp(activity)
    body, signer, sender = activity.body, activity.signer, activity.sender

    if _is_local(services, inbox):
        await _deliver_locally(services, inbox, body, sender)
        log.info("delivery %d of %s to our own %s: handed over", row_id, activity.type, inbox)
        return q.Done({"last_status": 202})

    now = services.now_ms()
    deferred = await _circuit_allows(services, row, now)
    if deferred is not None:
        return deferred
    lease_left_s = (int(row["locked_until"] or 0) - now) / 1000
    limiter = host_limiter(services)
    if not await limiter.acquire(host, wait_s=lease_left_s / 2):
        return q.Defer(services.now_ms() + BUSY_RETRY_MS)
    try:
        result = await services.started_remote().post_activity(inbox, body, signer=signer)
    finally:
        limiter.release(host)
    now = services.now_ms()
    await _record_health(services, host, result, now)
    decision = decide(
        status=result.status,
        error=result.error,
        retry_after_s=result.retry_after,
        attempts=int(row["attempts"]),
        created_at=int(row["created_at"]),
        now=now,
        jitter=random.random(),
    )
    log.log(
        logging.DEBUG if decision.action == "done" else logging.INFO,
        "delivery %d of %s to %s: %s",
        row_id,
        activity.type,
        host,
        decision.action,
    )
    if decision.action == "done":
        return q.Done({"last_status": result.status})
    if decision.action == "retry":
        assert decision.next_attempt_at is not None
        return q.Retry(decision.next_attempt_at, decision.reason, {"last_status": result.status})
    if decision.action == "gone":
        dropped = await outbox.mark_inbox_gone(store, inbox, now=now)
        log.info("%s answered 410: dropped %d follower(s)", host, dropped)
    return q.GiveUp(decision.reason, {"last_status": result.status})
