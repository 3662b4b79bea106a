"""The worker's side of the inbox: one stored activity -> its handler -> an outcome.

``handle_inbox_item`` is the handler of ``queue.INBOX``; it returns the row's ``Outcome``
and the worker records it. Items of one
actor are handled one at a time in this process (so an Undo does not overtake the Like it
undoes). Outcomes:

- handled, ignored, unhandled type, or sender blocked since it was received -> done
- the activity is unusable (``ProtocolError``), or its actor is gone -> failed, no retry
- the stored body is not a JSON object -> failed, no retry
- a handler trips over a shape it did not expect (``LookupError``, ``TypeError``,
  ``AttributeError``, ``ValueError``: the same input fails the same way every time) ->
  failed, no retry, logged as a warning since it is a gap in a handler
- the database refuses a value of it (too long for an index, out of range:
  ``store.health.refuses_value``) -> failed, no retry, logged as a warning
- a server we fetch from answers 5xx or 429 -> retried with the queue's backoff, with no
  attempt cap (it is the other server's trouble, not the activity's)
- anything else (the database, the network) raises -> the worker retries with backoff, up
  to the queue's attempt cap (``queue.INBOX.retry``)

**Groups.** The worker hands the inbox queue's items over in groups (``worker``'s grouped
runner): ``handle_in_group`` runs one item inside the group's transaction, its own savepoint
around it. It neither waits for a turn nor takes the actor's lock (the group runs its items
one after the other, in claim order, and never holds an actor that has an item being handled
alone), and it may not use the network (``remote.http.offline``): an item that wants to
fetch raises ``NeedsNetwork`` and is handled alone, through ``handle_inbox_item``, once the
group is committed. ``group_size`` is how many items a group may hold right now.

While the inboxes take a burst, items wait and go one at a time, ten a second, so that
accepting keeps the CPU and the write lock (``backpressure``). The block checks read this
process's block list and the sender's row comes from ``store.actors.recent_by_uri``; in a
group, the senders' rows are read in one query before it starts, and our posts and
businesses, and who follows the senders, once per group (``context.group_reads``). So a
Like in a group costs one trip to the database (the interaction, its notification and
stream event, ``store.notifications.notify_after``) and its share of the group's
``done`` (no savepoint: the worker runs a group without them first, ``worker.py``); so does
a new reply to our post (the note, its target and the notification: ``notify_after``'s
``first``). Once handled, the
icons of custom emoji in the sender's name that the cache has not answered for are
fetched (``inbound.emoji.cache_actor_emojis``: no query when there are none).
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fedi_town.errors import ProtocolError
from fedi_town.inbound.backpressure import accept_load
from fedi_town.inbound.context import Inbound, group_reads, item_done
from fedi_town.inbound.emoji import cache_actor_emojis
from fedi_town.inbound.handlers import HANDLERS
from fedi_town.remote.errors import BadResponse, FetchFailed
from fedi_town.remote.http import offline
from fedi_town.services import Services
from fedi_town.store import actors as store_actors
from fedi_town.store import health, moderation
from fedi_town.store import queue as q
from fedi_town.store.db import Row

log = logging.getLogger(__name__)

#: What a handler raises on an activity shaped as it did not expect: retrying cannot help.
_MALFORMED = (LookupError, TypeError, AttributeError, ValueError)

_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


def _actor_lock(actor_uri: str) -> asyncio.Lock:
    lock = _locks.get(actor_uri)
    if lock is None:
        lock = asyncio.Lock()
        _locks[actor_uri] = lock
    return lock


#: Most items in one group (one transaction) when the inboxes are quiet.
GROUP_SIZE = 128


def group_size(services: Services) -> int:
    """How many items the next group may hold: one while the inboxes take a burst (items
    then go one at a time, ``backpressure``), else ``GROUP_SIZE``."""
    return 1 if accept_load(services).busy() else GROUP_SIZE


@asynccontextmanager
async def group_turn(services: Services, rows: Sequence[Row]) -> AsyncIterator[None]:
    """What a group waits for before it starts: the inboxes' turn (``backpressure``); then
    its senders' rows are read in one query (``store.actors.recent_many``), and the group
    reads each of our posts and businesses once (``context.group_reads``)."""
    async with accept_load(services).turn():
        senders = [str(row["actor_uri"]) for row in rows]
        known = await store_actors.recent_many(services.store, senders)
        with group_reads(actor.id for actor in known.values()):
            yield


async def handle_inbox_item(services: Services, row: Row) -> q.Outcome:
    """Handle one claimed ``inbox_items`` row alone; what to record for it."""
    async with accept_load(services).turn():
        return await _handle(services, row)


async def handle_in_group(services: Services, row: Row) -> q.Outcome:
    """Handle one claimed row inside its group's transaction (see the module docstring):
    no turn, no actor lock, no network (``NeedsNetwork`` instead)."""
    try:
        with offline():
            return await _handle(services, row, locked=False)
    finally:
        item_done(str(row["type"]))


async def _handle(services: Services, row: Row, *, locked: bool = True) -> q.Outcome:
    store = services.store
    row_id = int(row["id"])
    actor_uri = str(row["actor_uri"])
    try:
        activity = json.loads(row["body"])
    except ValueError:
        activity = None
    if not isinstance(activity, dict):
        return _give_up(row, "unparseable body")
    kind = str(row["type"])
    handler = HANDLERS.get(kind)
    if handler is None:
        outcome = "unhandled type"
    elif await moderation.blocking(store, actor_uri):
        outcome = "ignored: sender blocked"
    else:
        ctx = Inbound(
            services,
            item_id=row_id,
            activity=activity,
            actor_uri=actor_uri,
            business_id=row["business_id"],
            kind=kind,
        )
        try:
            if locked:
                async with _actor_lock(actor_uri):
                    outcome = await handler(ctx)
            else:
                outcome = await handler(ctx)
            await cache_actor_emojis(services, actor_uri)
        except (ProtocolError, BadResponse) as exc:
            return _give_up(row, exc.__class__.__name__)
        except _MALFORMED as exc:
            log.warning(
                "inbox item %d: %s handler cannot use it (%s); dropped",
                row_id,
                kind,
                exc.__class__.__name__,
            )
            return _give_up(row, f"malformed: {exc.__class__.__name__}")
        except FetchFailed as exc:
            if 400 <= exc.status < 500 and exc.status != 429:
                return _give_up(row, f"{exc.__class__.__name__} {exc.status}")
            # The other server is in trouble (5xx, 429), not the activity: back off as the
            # queue does, but without the attempt cap, which is for handlers that fail.
            log.info("inbox item %d: %s %d; trying again later", row_id, kind, exc.status)
            delay = q.INBOX.retry.delay_ms(int(row["attempts"]))
            return q.Retry(services.now_ms() + delay, exc.__class__.__name__)
        except Exception as exc:
            if health.refuses_value(exc):
                log.warning(
                    "inbox item %d: the database refuses a value of this %s (%s); dropped",
                    row_id,
                    kind,
                    exc.__class__.__name__,
                )
                return _give_up(row, f"value refused: {exc.__class__.__name__}")
            raise
    log.info(
        "inbox item %d: %s %s from %s: %s", row_id, kind, row["activity_uri"], actor_uri, outcome
    )
    return q.Done()  # batched by the worker with other finished rows


def _give_up(row: Row, reason: str) -> q.GiveUp:
    log.info(
        "inbox item %d: %s %s from %s failed: %s",
        row["id"],
        row["type"],
        row["activity_uri"],
        row["actor_uri"],
        reason,
    )
    return q.GiveUp(reason)
