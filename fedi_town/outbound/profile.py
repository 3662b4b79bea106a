"""What the businesses API calls after a profile change or a deletion: followers hear of it.

``on_profile_changed``: Update{actor} to the followers' inboxes, so Mastodon refreshes the
profile now instead of within a day (interop §6.16), with the whole actor document the
actor URL serves (``store.document_inputs.actor_document``) embedded.

``on_business_deleted``: Delete{actor: X, object: X} to the followers' inboxes, inside the
deleting transaction, while the business row and its key remain to sign the deliveries.
Pending deliveries of its other activities are cancelled first.
"""

from __future__ import annotations

import logging
from typing import Any

from fedi_town.protocol import activities
from fedi_town.services import Services
from fedi_town.store import outbox
from fedi_town.store import queue as q
from fedi_town.store.businesses import Business
from fedi_town.store.document_inputs import actor_document

log = logging.getLogger(__name__)


async def on_profile_changed(services: Services, business: Business) -> None:
    body = activities.update_actor(
        await actor_document(services.store, services.urls, business), services.now_ms()
    )
    count = await _to_followers(services, business, body)
    log.info("profile of %s changed: Update to %d inboxes", business.username, count)


async def on_business_deleted(services: Services, business: Business) -> None:
    actor = services.urls.actor(business.username)
    body = activities.delete_actor(actor)
    await q.cancel_where(
        services.store,
        q.DELIVERIES,
        "activity_id IN (SELECT id FROM outgoing_activities WHERE business_id = :b)",
        {"b": business.id},
    )
    count = await _to_followers(services, business, body)
    log.info("business %s deleted: Delete to %d inboxes", business.username, count)


async def _to_followers(services: Services, business: Business, body: dict[str, Any]) -> int:
    """Queue ``body`` for every follower's (shared) inbox; how many inboxes it goes to."""
    inboxes = await outbox.follower_inboxes(services.store, business.id)
    await outbox.enqueue(
        services.store, business_id=business.id, body=body, inboxes=inboxes, now=services.now_ms()
    )
    return len(inboxes)
