"""QuoteRequest: someone asks to quote a business's post (FEP-044f, Mastodon 4.5).

``QuoteRequest{actor, object: our post, instrument: their quoting post}``. We answer every
request about one of our posts, to the requesting actor's inbox:

- ``Reject`` when the post is deleted (or its business), the sender is blocked by the
  business or the instance, the post's policy does not let them quote it
  (``protocol.quotes``: followers-only and direct posts never), or their post does not hold
  up: fetched through the guarded client, it must be by the requesting actor and quote our
  post.
- when the post's policy is ``ask`` (manual approval) and the quote was not granted
  before: no answer yet. The request is kept (``store.quotes``: ``quote_requests``) with
  the quoting post, and a "quote_request" notification tells the owner, who approves it
  (then as below) or denies it (``Reject``) from the Quotes page (``outbound.quotes``).
  A repeat while it waits changes nothing but the request echoed in the answer.
- else ``Accept{object: the request, result: stamp URL}``, with the stamp stored
  (``store.quotes``) and served at its URL, and a "quote" notification for the owner
  showing the quoting post. A repeated request gets the same stamp again, no second
  notification.

A request that names no usable object or instrument is unusable (``BadActivity``); one
about something that is not our post is ignored. A server in trouble while we fetch their
post (5xx, unreachable) makes the item try again later.

``Accept``/``Reject`` of a ``QuoteRequest`` a business sent (found by the request's id)
answer its quote: an Accept's ``result`` (the stamp, on the sender's host) is fetched and
must name our post and theirs; the post then carries it as ``quoteAuthorization`` and an
``Update`` goes to everyone who got it. Any other Accept/Reject is about a Follow. A
``Delete`` of that stamp by its author revokes it: the quote is marked revoked and the
Note, without the stamp, is sent again.
"""

from __future__ import annotations

import logging
from typing import Any

from fedi_town.inbound.context import Inbound
from fedi_town.inbound.handlers.follows import on_follow_answer
from fedi_town.inbound.handlers.notes import note_content
from fedi_town.protocol import activities, quotes
from fedi_town.protocol.reading import (
    BadActivity,
    id_of,
    ids_of,
    is_plain_id,
    same_host,
    without_context,
)
from fedi_town.remote import actors as remote_actors
from fedi_town.remote.errors import BadResponse, FetchFailed
from fedi_town.store import businesses, notifications, outbox, social
from fedi_town.store import deliveries as delivery_store
from fedi_town.store import posts as post_store
from fedi_town.store import quotes as quote_store
from fedi_town.store.actors import RemoteActor
from fedi_town.store.businesses import Business
from fedi_town.store.db import new_id
from fedi_town.store.document_inputs import note_inputs
from fedi_town.store.effects import BusinessChanged
from fedi_town.store.posts import Post

log = logging.getLogger(__name__)


async def on_quote_request(ctx: Inbound) -> str:
    request_uri = id_of(ctx.activity)
    quote_uri = id_of(ctx.activity.get("instrument"))
    target_uri = id_of(ctx.object)
    if not is_plain_id(target_uri):
        raise BadActivity("QuoteRequest names no object")
    if not is_plain_id(quote_uri) or not same_host(quote_uri, ctx.actor_uri):
        raise BadActivity("QuoteRequest names no instrument on its actor's host")
    if not same_host(request_uri, ctx.actor_uri):
        raise BadActivity("QuoteRequest id is not on its actor's host")
    assert target_uri is not None and quote_uri is not None
    post = await post_store.published_by_uri(ctx.store, target_uri)
    if post is None:
        return "ignored: QuoteRequest of something that is not our post"
    business = await businesses.by_id(ctx.store, post.business_id)
    assert business is not None
    actor = await ctx.actor()
    refusal = await _refusal(ctx, business, post, actor)
    if refusal is None:
        refusal, quote_note = await _checked_quote(ctx, quote_uri, post)
    if refusal is not None:
        async with ctx.store.transaction():
            await _answer(ctx, business, actor, stamp_url=None)
        log.info("refused quote of post %d by %s: %s", post.id, ctx.actor_uri, refusal)
        return f"quote refused ({refusal})"
    now = ctx.services.now_ms()
    policy = quotes.effective_policy(post.quote_policy, business.quote_policy, post.visibility)
    granted = await quote_store.stamp_for(ctx.store, post.id, quote_uri)
    if policy == quotes.ASK and granted is None:
        return await _keep_for_owner(ctx, business, post, actor, quote_uri, quote_note)
    async with ctx.store.transaction():
        stamp, made = await quote_store.grant(
            ctx.store,
            business_id=business.id,
            post_id=post.id,
            actor_id=actor.id,
            quote_uri=quote_uri,
            request_uri=str(request_uri),
            now=now,
        )
        stamp_url = ctx.services.urls.quote_stamp(business.username, post.id, stamp.id)
        await _answer(ctx, business, actor, stamp_url=stamp_url)
        if made:
            note_id = await _keep_quoting_note(ctx, business, actor, quote_uri, quote_note, now)
            await notifications.notify(
                ctx.store,
                business_id=business.id,
                type="quote",
                dedupe_key=f"quote:{stamp.id}",
                actor_id=actor.id,
                post_id=post.id,
                remote_note_id=note_id,
                now=now,
            )
    return "quote granted" if made else "quote granted again"


async def _keep_for_owner(
    ctx: Inbound,
    business: Business,
    post: Post,
    actor: RemoteActor,
    quote_uri: str,
    quote_note: dict[str, Any],
) -> str:
    """Policy ``ask``: keep the request, with the quoting post, for the owner to decide."""
    now = ctx.services.now_ms()
    async with ctx.store.transaction():
        note_id = await _keep_quoting_note(ctx, business, actor, quote_uri, quote_note, now)
        pending, made = await quote_store.keep_pending(
            ctx.store,
            business_id=business.id,
            post_id=post.id,
            actor_id=actor.id,
            quote_uri=quote_uri,
            request=without_context(ctx.activity),
            request_uri=str(id_of(ctx.activity)),
            note_id=note_id,
            now=now,
        )
        if made:
            await notifications.notify(
                ctx.store,
                business_id=business.id,
                type="quote_request",
                dedupe_key=f"quote_request:{pending.id}",
                actor_id=actor.id,
                post_id=post.id,
                remote_note_id=note_id,
                now=now,
            )
    return "quote request kept for the owner" if made else "quote request already waiting"


async def _keep_quoting_note(
    ctx: Inbound,
    business: Business,
    actor: RemoteActor,
    quote_uri: str,
    quote_note: dict[str, Any],
    now: int,
) -> int:
    """Store the quoting post as a note that reached the business; its id (for the
    notification, granted or waiting)."""
    content = note_content(ctx.activity, quote_note, actor, now)
    note_id = await social.insert_note(
        ctx.store, uri=quote_uri, actor_id=actor.id, content=content, now=now
    )
    await social.add_note_target(ctx.store, note_id, business.id)
    return note_id


async def _refusal(ctx: Inbound, business: Business, post: Post, actor: RemoteActor) -> str | None:
    """Why the business does not let this actor quote this post, or None."""
    if post.deleted_at is not None or business.deleted_at is not None:
        return "the post is deleted"
    if await ctx.blocked_by(business.id):
        return "blocked"
    policy = quotes.effective_policy(post.quote_policy, business.quote_policy, post.visibility)
    follow = await social.follow_of(ctx.store, business.id, actor.id)
    is_follower = follow is not None and follow.state == "accepted"
    if policy != quotes.ASK and not quotes.allows(policy, is_follower=is_follower):
        return f"policy {policy} ({post.visibility} post)"
    return None


async def _checked_quote(
    ctx: Inbound, quote_uri: str, post: Post
) -> tuple[str | None, dict[str, Any]]:
    """Their quoting post, fetched; and why it does not hold up, or None."""
    try:
        note = await remote_actors.fetch_document(ctx.services.fetcher(), quote_uri)
    except BadResponse as exc:
        return f"their post is unusable ({exc.__class__.__name__})", {}
    except FetchFailed as exc:
        if 400 <= exc.status < 500 and exc.status != 429:
            return f"their post could not be fetched ({exc.status})", {}
        raise
    if ctx.actor_uri not in ids_of(note.get("attributedTo")):
        return "their post is not by the requesting actor", note
    if quotes.quoted_by(note) != post.uri:
        return "their post does not quote ours", note
    return None, note


async def _answer(
    ctx: Inbound, business: Business, actor: RemoteActor, *, stamp_url: str | None
) -> None:
    """Queue the Accept (with the stamp) or the Reject, to the requesting actor."""
    urls = ctx.services.urls
    now = ctx.services.now_ms()
    request: Any = without_context(ctx.activity)
    answer_id = urls.activity(business.username, new_id(now))
    us = urls.actor(business.username)
    if stamp_url is None:
        body = quotes.reject_quote(id=answer_id, actor=us, request=request, to=actor.uri)
    else:
        body = quotes.accept_quote(
            id=answer_id, actor=us, request=request, to=actor.uri, stamp=stamp_url
        )
    inbox = actor.inbox or actor.shared_inbox
    await outbox.enqueue(
        ctx.store, business_id=business.id, body=body, inboxes=[inbox] if inbox else [], now=now
    )


# -- answers to the QuoteRequests our businesses send ------------------------------------------


async def on_answer(ctx: Inbound) -> str:
    """Accept/Reject: of a business's QuoteRequest (matched by its id), else of a Follow."""
    request_uri = id_of(ctx.object)
    post = None
    if is_plain_id(request_uri):
        assert request_uri is not None
        post = await post_store.by_quote_request(ctx.store, request_uri)
    if post is None:
        return await on_follow_answer(ctx)
    if not same_host(ctx.actor_uri, post.quote_uri):
        return "ignored: an answer about a quote from another server"
    if ctx.type == "Reject":
        async with ctx.store.transaction():
            await post_store.set_quote_answer(
                ctx.store, post.id, state="rejected", authorization=None
            )
        return "quote rejected"
    stamp_url = id_of(ctx.activity.get("result"))
    if not is_plain_id(stamp_url) or not same_host(stamp_url, ctx.actor_uri):
        raise BadActivity("Accept of a QuoteRequest without a stamp on its host")
    assert stamp_url is not None
    if not await _stamp_holds(ctx, stamp_url, post):
        return "ignored: the stamp does not name this quote"
    await _answered(ctx, post, state="accepted", authorization=stamp_url)
    return "quote accepted"


async def on_stamp_deleted(ctx: Inbound, uri: str) -> str | None:
    """Delete of the stamp one of our posts carries, by the quoted post's server: the quote
    is revoked. None when ``uri`` is no stamp of ours (the Delete is about something else)."""
    post = await post_store.by_quote_authorization(ctx.store, uri)
    if post is None:
        return None
    if not same_host(ctx.actor_uri, uri):
        return "ignored: Delete of a stamp from another server"
    await _answered(ctx, post, state="revoked", authorization=None)
    return "quote revoked"


async def _answered(ctx: Inbound, post: Post, *, state: str, authorization: str | None) -> None:
    """Record the answer and send the Note again (with or without its stamp) to everyone
    who got it; no ``updated``: Mastodon applies quote changes without one."""
    business = await businesses.by_id(ctx.store, post.business_id)
    assert business is not None
    async with ctx.store.transaction():
        await post_store.set_quote_answer(
            ctx.store, post.id, state=state, authorization=authorization
        )
        answered = await post_store.by_id(ctx.store, business.id, post.id)
        assert answered is not None
        (note,) = await note_inputs(ctx.store, ctx.services.urls, business, [answered])
        now = ctx.services.now_ms()
        body = activities.update_note(f"{post.uri}#updates/{now}", note)
        await outbox.enqueue(
            ctx.store,
            business_id=business.id,
            body=body,
            inboxes=await delivery_store.audience_inboxes(ctx.store, post.id),
            post_id=post.id,
            now=now,
        )
        ctx.store.after_commit(BusinessChanged(business.username))


async def _stamp_holds(ctx: Inbound, stamp_url: str, post: Post) -> bool:
    """The stamp, fetched, lets our post quote the one it quotes."""
    try:
        stamp = await remote_actors.fetch_document(ctx.services.fetcher(), stamp_url)
    except BadResponse:
        return False
    except FetchFailed as exc:
        if 400 <= exc.status < 500 and exc.status != 429:
            return False
        raise
    return (
        id_of(stamp.get("interactingObject")) == post.uri
        and id_of(stamp.get("interactionTarget")) == post.quote_uri
        and ctx.actor_uri in ids_of(stamp.get("attributedTo"))
    )
