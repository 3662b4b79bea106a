"""Quotes (FEP-044f) on the business's side: revoking the quotes it granted, and asking
to quote someone else's post.

Revoking happens when its post is deleted, or when a policy change means a granted quote
is no longer allowed.

Revoking deletes the stamp (its URL then answers 404) and sends ``Delete{object: stamp
URL}``, as Mastodon's ``RevokeQuoteService`` does, to the quoting actor and to every inbox
our post reached (their servers may show the quote). Call inside the transaction that makes
the change, so the revocation goes out if and only if the change sticks.

Deciding: under the ``ask`` policy a QuoteRequest waits (``store.quotes``) until the owner
approves it (``Accept`` + stamp, as an automatic grant) or denies it (``Reject``):
``decide_request``.

Quoting: ``quote_target`` fetches the post to quote (guarded client) and checks that its
``canQuote`` lets the business quote it; the post is then written with the quote pending
and ``request_quote`` queues ``QuoteRequest{object: their post, instrument: ours}`` to its
author. Their ``Accept`` (``inbound.handlers.quotes``) makes it accepted, with the stamp.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from fedi_town.errors import FediTownError, NotFound, Unprocessable
from fedi_town.protocol import quotes
from fedi_town.protocol.reading import ids_of, same_host
from fedi_town.remote import actors as remote_actors
from fedi_town.services import Services
from fedi_town.store import actors as store_actors
from fedi_town.store import deliveries as delivery_store
from fedi_town.store import following, moderation, notifications, outbox, social
from fedi_town.store import posts as post_store
from fedi_town.store import quotes as quote_store
from fedi_town.store.businesses import Business
from fedi_town.store.db import new_id
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
        # under "ask" every granted quote was approved (or allowed before): it stays
        if policy != quotes.ASK and not quotes.allows(policy, is_follower=is_follower):
            disallowed.append(stamp)
    return await revoke(services, business, disallowed)


# -- the business quotes a post ---------------------------------------------------------------


@dataclass(frozen=True)
class QuoteTarget:
    """A post the business may quote, and where its author's inbox is."""

    uri: str
    author: str
    inbox: str | None


def _refused(message: str) -> Unprocessable:
    return Unprocessable(message, errors=[{"pointer": "/quote", "message": message}])


async def quote_target(services: Services, business: Business, uri: str) -> QuoteTarget:
    """The post at ``uri`` if its author lets the business quote it; else a 422 naming
    ``/quote``. Only posts elsewhere: a post on this instance is refused."""
    if uri.startswith(services.urls.base + "/"):
        raise _refused("quoting a post on this instance is not possible yet")
    fetcher = services.fetcher()
    try:
        note = await remote_actors.fetch_document(fetcher, uri)
    except FediTownError:
        raise _refused("that post could not be fetched") from None
    authors = [a for a in ids_of(note.get("attributedTo")) if same_host(a, uri)]
    if not authors:
        raise _refused("that post has no author on its own server")
    if await moderation.blocking(services.store, authors[0], business.id) is not None:
        raise _refused("you blocked its author or their server")
    try:
        author = await remote_actors.known_or_fetch(fetcher, authors[0])
    except FediTownError:
        raise _refused("the author of that post could not be fetched") from None
    followed = await following.of_actor(services.store, business.id, author.id)
    allowed = quotes.quote_allowed(
        note,
        actor=services.urls.actor(business.username),
        author_followers=author.followers_uri,
        following_author=followed is not None and followed.state == following.ACCEPTED,
    )
    if not allowed:
        raise _refused("its author does not let you quote it")
    return QuoteTarget(uri, author.uri, author.inbox or author.shared_inbox)


async def request_quote(
    services: Services, business: Business, *, post_uri: str, request_uri: str, target: QuoteTarget
) -> None:
    """Queue QuoteRequest{object: their post, instrument: ours} to the author (inside the
    transaction that writes our post)."""
    body = quotes.quote_request(
        id=request_uri,
        actor=services.urls.actor(business.username),
        quoted=target.uri,
        quote=post_uri,
    )
    await outbox.enqueue(
        services.store,
        business_id=business.id,
        body=body,
        inboxes=[target.inbox] if target.inbox else [],
        now=services.now_ms(),
    )


# -- the owner decides a request waiting under the "ask" policy -------------------------------


async def decide_request(
    services: Services, business: Business, request_id: int, *, approve: bool
) -> str:
    """Approve (``Accept`` + a stamp, and a "quote" notification) or deny (``Reject``) a
    waiting QuoteRequest, in one transaction; return ``approved`` or ``denied``. Approving
    a request the business can no longer grant (its post deleted or no longer public, the
    requester blocked since) denies it. None waiting by that id: ``NotFound``."""
    store, urls = services.store, services.urls
    now = services.now_ms()
    async with store.transaction():
        pending = await quote_store.pending_by_id(store, business.id, request_id)
        if pending is None:
            raise NotFound("no such quote request")
        actor = await store_actors.by_id(store, pending.actor_id)
        post = await post_store.by_id(store, business.id, pending.post_id)
        if approve and (
            post is None
            or post.deleted_at is not None
            or post.visibility not in quotes.QUOTABLE_VISIBILITIES
            or actor is None
            or await moderation.blocking(store, actor.uri, business.id) is not None
        ):
            approve = False
        us = urls.actor(business.username)
        answer_id = urls.activity(business.username, new_id(now))
        to = actor.uri if actor is not None else str(pending.request.get("actor") or "")
        if approve and post is not None and actor is not None:
            stamp, _ = await quote_store.grant(
                store,
                business_id=business.id,
                post_id=post.id,
                actor_id=actor.id,
                quote_uri=pending.quote_uri,
                request_uri=pending.request_uri,
                now=now,
            )
            stamp_url = urls.quote_stamp(business.username, post.id, stamp.id)
            body = quotes.accept_quote(
                id=answer_id, actor=us, request=pending.request, to=to, stamp=stamp_url
            )
            await notifications.notify(
                store,
                business_id=business.id,
                type="quote",
                dedupe_key=f"quote:{stamp.id}",
                actor_id=actor.id,
                post_id=post.id,
                remote_note_id=pending.note_id,
                now=now,
            )
            store.after_commit(BusinessChanged(business.username))
        else:
            body = quotes.reject_quote(id=answer_id, actor=us, request=pending.request, to=to)
        inbox = (actor.inbox or actor.shared_inbox) if actor is not None else None
        await outbox.enqueue(
            store, business_id=business.id, body=body, inboxes=[inbox] if inbox else [], now=now
        )
        await quote_store.drop_pending(store, pending.id)
    state = "approved" if approve else "denied"
    log.info("business %s %s quote request %d", business.username, state, request_id)
    return state
