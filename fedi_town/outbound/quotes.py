"""Revoking quotes a business granted (FEP-044f): when its post is deleted, or when a
policy change means a granted quote is no longer allowed.

Revoking deletes the stamp (its URL then answers 404) and sends ``Delete{object: stamp
URL}``, as Mastodon's ``RevokeQuoteService`` does, to the quoting actor and to every inbox
our post reached (their servers may show the quote). Call inside the transaction that makes
the change, so the revocation goes out if and only if the change sticks.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from fedi_town.protocol import quotes
from fedi_town.services import Services
from fedi_town.store import deliveries as delivery_store
from fedi_town.store import outbox, social
from fedi_town.store import posts as post_store
from fedi_town.store import quotes as quote_store
from fedi_town.store.businesses import Business
from fedi_town.store.effects import BusinessChanged
from fedi_town.store.quotes import Stamp

log = logging.getLogger(__name__)


async def revoke(services: Services, business: Business, stamps: Sequence[Stamp]) -> int:
    """Delete these stamps and tell whoever may show the quotes; return how many."""
    store, urls = services.store, services.urls
    reached: dict[int, list[str]] = {}
    for stamp in stamps:
        if stamp.post_id not in reached:
            reached[stamp.post_id] = await delivery_store.reached_inboxes(
                store, stamp.post_id, ["Create", "Update"]
            )
        url = urls.quote_stamp(business.username, stamp.post_id, stamp.id)
        await quote_store.revoke(store, stamp.id)
        body = quotes.delete_stamp(actor=urls.actor(business.username), stamp=url)
        quoting = [stamp.actor_inbox] if stamp.actor_inbox else []
        await outbox.enqueue(
            store,
            business_id=business.id,
            body=body,
            inboxes=[*quoting, *reached[stamp.post_id]],
            now=services.now_ms(),
        )
    if stamps:
        store.after_commit(BusinessChanged(business.username))
        log.info("business %s revoked %d quote(s)", business.username, len(stamps))
    return len(stamps)


async def revoke_disallowed(services: Services, business: Business, post_id: int | None) -> int:
    """Revoke the granted quotes (of one post, or of every post when ``post_id`` is None)
    that the current policies no longer allow; return how many. ``business`` as changed."""
    store = services.store
    if post_id is None:
        stamps = await quote_store.of_business(store, business.id)
    else:
        stamps = await quote_store.of_post(store, post_id)
    disallowed = []
    for stamp in stamps:
        post = await post_store.by_id(store, business.id, stamp.post_id)
        if post is None:
            disallowed.append(stamp)
            continue
        policy = quotes.effective_policy(post.quote_policy, business.quote_policy, post.visibility)
        follow = await social.follow_of(store, business.id, stamp.actor_id)
        is_follower = follow is not None and follow.state == "accepted"
        if not quotes.allows(policy, is_follower=is_follower):
            disallowed.append(stamp)
    return await revoke(services, business, disallowed)
