"""Follow, Undo{Follow}, Block, and Accept/Reject of the follows businesses send.

A Follow of a business that approves followers by hand becomes a pending request (the owner
decides through the API); otherwise it is accepted at once and an Accept goes back. A
repeated Follow (Mastodon re-follows everyone after a key change, interop §4) is accepted
again without a second follower row or notification.
"""

from __future__ import annotations

from typing import Any

from fedi_town.inbound.context import Inbound
from fedi_town.inbound.follow_answers import enqueue_accept
from fedi_town.protocol.reading import id_of, types_of, without_context
from fedi_town.store import actors as store_actors
from fedi_town.store import following, notifications, social
from fedi_town.store.effects import FollowersChanged


async def on_follow(ctx: Inbound) -> str:
    business = await ctx.business_at(id_of(ctx.object))
    if business is None:
        return "ignored: not a follow of one of our businesses"
    if await ctx.blocked_by(business.id):
        return "ignored: blocked by the business"
    actor = await ctx.actor()
    follow_document = without_context(ctx.activity)
    follow_uri = id_of(ctx.activity)
    async with ctx.store.transaction():
        existing = await social.follow_of(ctx.store, business.id, actor.id)
        if existing is None:
            state = "pending" if business.manually_approves_followers else "accepted"
            follow_id = await social.insert_follow(
                ctx.store,
                business_id=business.id,
                actor_id=actor.id,
                state=state,
                follow_uri=follow_uri,
                follow_document=follow_document,
                now=ctx.services.now_ms(),
            )
            kind = "follow_request" if state == "pending" else "follow"
            await notifications.notify(
                ctx.store,
                business_id=business.id,
                type=kind,
                dedupe_key=f"{kind}:{follow_id}",
                actor_id=actor.id,
                now=ctx.services.now_ms(),
            )
            outcome = f"new {state} follower"
        else:
            state = existing.state
            if state == "pending" and not business.manually_approves_followers:
                state = "accepted"
            await social.update_follow(
                ctx.store,
                existing.id,
                state=state,
                follow_uri=follow_uri,
                follow_document=follow_document,
                now=ctx.services.now_ms(),
            )
            outcome = f"repeated follow ({state})"
        if state == "accepted":
            await enqueue_accept(ctx.services, business, actor, follow_document)
        ctx.services.store.after_commit(FollowersChanged())
    return outcome


async def undo_follow(ctx: Inbound, inner: Any) -> str:
    """Undo{Follow}: the Follow embedded, or only its id."""
    actor = await store_actors.recent_by_uri(ctx.store, ctx.actor_uri)
    if actor is None:
        return "ignored: unknown actor"
    follow = None
    follow_uri = id_of(inner)
    async with ctx.store.transaction():
        if follow_uri is not None:
            follow = await social.follow_by_uri(ctx.store, follow_uri, actor.id)
        if follow is None and isinstance(inner, dict):
            business = await ctx.business_at(id_of(inner.get("object")))
            if business is not None:
                follow = await social.follow_of(ctx.store, business.id, actor.id)
        if follow is None:
            return "ignored: no such follow"
        await social.delete_follow(ctx.store, follow.id)
        ctx.services.store.after_commit(FollowersChanged())
    return "follow removed"


async def on_block(ctx: Inbound) -> str:
    """Block{object: business}: they stop following it and it stops following them, and we
    stop delivering to them."""
    business = await ctx.business_at(id_of(ctx.object))
    if business is None:
        return "ignored: not a block of one of our businesses"
    actor = await store_actors.recent_by_uri(ctx.store, ctx.actor_uri)
    if actor is None:
        return "ignored: unknown actor"
    async with ctx.store.transaction():
        follow = await social.follow_of(ctx.store, business.id, actor.id)
        followed = await following.of_actor(ctx.store, business.id, actor.id)
        if follow is None and followed is None:
            return "nothing to sever"
        if follow is not None:
            await social.delete_follow(ctx.store, follow.id)
        if followed is not None:  # as Mastodon does: a block ends both directions
            await following.delete(ctx.store, followed.id)
        ctx.services.store.after_commit(FollowersChanged())
    return "follow severed"


async def on_follow_answer(ctx: Inbound) -> str:
    """Accept/Reject{Follow}: the answer to a Follow a business sent. An Accept makes the
    pending follow accepted; a Reject ends it, pending or accepted (the other side removed
    the business as follower). The Follow is found by its id (Mastodon and Fedify embed
    it), else by who followed whom."""
    inner = ctx.object
    if isinstance(inner, dict) and "Follow" not in types_of(inner):
        return "ignored: not about a Follow"
    actor = await store_actors.recent_by_uri(ctx.store, ctx.actor_uri)
    if actor is None:
        return "ignored: unknown actor"
    accepted = ctx.type == "Accept"
    async with ctx.store.transaction():
        found = await _answered_follow(ctx, inner, actor.id)
        if found is None:
            return "ignored: no such follow of ours"
        if accepted:
            if found.state == following.ACCEPTED:
                return "follow already accepted"
            await following.set_state(
                ctx.store, found.id, following.ACCEPTED, now=ctx.services.now_ms()
            )
        else:
            await following.delete(ctx.store, found.id)
        ctx.services.store.after_commit(FollowersChanged())
    return "follow accepted" if accepted else "follow rejected"


async def _answered_follow(ctx: Inbound, inner: Any, actor_id: int) -> following.Following | None:
    follow_uri = id_of(inner)
    if follow_uri is not None:
        found = await following.by_follow_uri(ctx.store, follow_uri, actor_id)
        if found is not None:
            return found
    business_id = ctx.business_id
    if isinstance(inner, dict):
        business = await ctx.business_at(id_of(inner.get("actor")))
        if business is not None and id_of(inner.get("object")) == ctx.actor_uri:
            business_id = business.id
    if business_id is None:
        return None
    return await following.of_actor(ctx.store, business_id, actor_id)
