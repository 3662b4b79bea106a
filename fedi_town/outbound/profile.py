"""Followers hear of a changed profile, or of a deletion, as Mastodon expects.

``on_profile_changed``: Update{actor} to the followers' inboxes, so Mastodon refreshes the
profile now instead of within a day (interop §6.16), with the whole actor document the
actor URL serves (``store.document_inputs.actor_document``) embedded.

``refresh_due_profiles`` (a periodic job of the worker): an actor also changes with time
alone: "Open now · until 18:00" turns to "Closed", a notice ends, today's hours roll over.
Each business records the digest of the actor last sent and when it may next read
differently (``profile_check_at``: the next opening or closing, midnight, a notice's end);
at that time the worker builds the actor again and sends an Update only if the digest
differs, so followers hear of it at most as often as it changes.

``on_business_deleted``: Delete{actor: X, object: X} to the followers' inboxes, inside the
deleting transaction, while the business row and its key remain to sign the deliveries.
Pending deliveries of its other activities are cancelled first.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from typing import Any

from fedi_town.protocol import activities
from fedi_town.services import Services
from fedi_town.store import bookmarks as bookmark_store
from fedi_town.store import businesses, outbox
from fedi_town.store import following as following_store
from fedi_town.store import given as given_store
from fedi_town.store import mutes as mute_store
from fedi_town.store import queue as q
from fedi_town.store import relations as relations_store
from fedi_town.store.businesses import Business
from fedi_town.store.db import new_id
from fedi_town.store.document_inputs import actor_document_and_change
from fedi_town.store.effects import BusinessChanged

log = logging.getLogger(__name__)


#: How often the worker looks for actors whose time-dependent fields may have changed (s).
REFRESH_EVERY = 20.0


def actor_digest(document: dict[str, Any]) -> str:
    """A digest of what an actor document says (key order does not matter)."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


async def on_profile_changed(services: Services, business: Business) -> None:
    """Send the whole actor to the followers; remember what was sent and when to look again."""
    now = services.now_ms()
    document, check_at = await _actor_now(services, business, now)
    count = await _to_followers(services, business, activities.update_actor(document, new_id(now)))
    await businesses.record_profile(
        services.store, business.id, digest=actor_digest(document), check_at=check_at
    )
    log.info("profile of %s changed: Update to %d inboxes", business.username, count)


async def remember_sent(services: Services, business: Business) -> None:
    """Record the actor as followers know it (a new business has none to tell), so the
    worker sends it again once time alone changes it."""
    document, check_at = await _actor_now(services, business, services.now_ms())
    await businesses.record_profile(
        services.store, business.id, digest=actor_digest(document), check_at=check_at
    )


async def _actor_now(
    services: Services, business: Business, now: int
) -> tuple[dict[str, Any], int | None]:
    """The actor as it reads at ``now`` and when it may next read differently."""
    return await actor_document_and_change(
        services.store, services.urls, business, now, services.settings.timezone
    )


#: Businesses looked at per query; the job goes on until none is due.
REFRESH_BATCH = 100
#: When an actor could not be built, look again this much later (ms), not at every tick.
RETRY_LATER_MS = 3_600_000


async def refresh_due_profiles(services: Services) -> int:
    """Send an Update for each actor that time alone changed; how many were sent.

    One business whose actor cannot be built (a bug, data from an older version) is logged
    and looked at again an hour later; it never holds up the others."""
    store = services.store
    sent = 0
    while True:
        due = await businesses.profile_due(store, services.now_ms(), limit=REFRESH_BATCH)
        for business in due:
            try:
                async with store.transaction():
                    sent += await _refresh(services, business, claim=True)
            except Exception as exc:  # one business must not stop the rest
                log.error(
                    "actor of %s could not be built (%s); trying again in an hour",
                    business.username,
                    exc.__class__.__name__,
                )
                await businesses.record_profile(
                    store,
                    business.id,
                    digest=business.profile_digest or "",
                    check_at=services.now_ms() + RETRY_LATER_MS,
                    expected_check_at=business.profile_check_at,
                    claim=True,
                )
        if len(due) < REFRESH_BATCH:
            return sent


async def refresh(services: Services, business: Business) -> bool:
    """Send the actor to the followers if it reads differently from what they were last
    sent (an offer or an event was added, changed or withdrawn): in the caller's
    transaction. Whether an Update went out."""
    return await _refresh(services, business, claim=False)


async def _refresh(services: Services, business: Business, *, claim: bool) -> bool:
    store = services.store
    now = services.now_ms()
    document, check_at = await _actor_now(services, business, now)
    digest = actor_digest(document)
    won = await businesses.record_profile(
        store,
        business.id,
        digest=digest,
        check_at=check_at,
        expected_check_at=business.profile_check_at,
        claim=claim,
    )
    if not won or digest == business.profile_digest:
        return False  # another worker looked, or nothing a follower sees changed
    await _to_followers(services, business, activities.update_actor(document, new_id(now)))
    store.after_commit(BusinessChanged(business.username))
    log.info("actor of %s reads differently: Update sent", business.username)
    return True


async def on_business_deleted(services: Services, business: Business) -> None:
    actor = services.urls.actor(business.username)
    body = activities.delete_actor(actor)
    await q.cancel_where(
        services.store,
        q.DELIVERIES,
        "activity_id IN (SELECT id FROM outgoing_activities WHERE business_id = :b)",
        {"b": business.id},
    )
    # those it follows hear of it too, and forget it as a follower
    followed = await following_store.followed_inboxes(services.store, business.id)
    await following_store.delete_all_of(services.store, business.id)
    await given_store.delete_all_of(services.store, business.id)  # its Delete undoes them
    await relations_store.delete_all_of(services.store, business.id)
    await mute_store.delete_all_of(services.store, business.id)
    await bookmark_store.delete_all_of(services.store, business.id)
    count = await _to_followers(services, business, body, also=followed)
    log.info("business %s deleted: Delete to %d inboxes", business.username, count)


async def _to_followers(
    services: Services, business: Business, body: dict[str, Any], also: Sequence[str] = ()
) -> int:
    """Queue ``body`` for every follower's (shared) inbox, and ``also``; how many inboxes it
    goes to."""
    inboxes = list(
        dict.fromkeys([*await outbox.follower_inboxes(services.store, business.id), *also])
    )
    await outbox.enqueue(
        services.store, business_id=business.id, body=body, inboxes=inboxes, now=services.now_ms()
    )
    return len(inboxes)
