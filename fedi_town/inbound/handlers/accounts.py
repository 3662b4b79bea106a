"""What remote people do to their own accounts: Update{Person}, Delete{self}, Move.

An account Delete removes every trace of that person here. A Move hands their follows of
our businesses to the new account once the new account names the old one in
``alsoKnownAs``; nothing is sent (the new account sends its own Follows).
"""

from __future__ import annotations

from fedi_town.inbound.context import Inbound
from fedi_town.inbound.handlers.notes import STORED_TYPES, delete_note, on_update_note
from fedi_town.inbound.handlers.quotes import on_stamp_deleted
from fedi_town.protocol.reading import first_type, id_of, types_of
from fedi_town.remote import actors as remote_actors
from fedi_town.remote.actors import ACTOR_TYPES
from fedi_town.store import actors as store_actors
from fedi_town.store import given, social
from fedi_town.store import inbox as inbox_store
from fedi_town.store import quotes as quote_store
from fedi_town.store.effects import BusinessChanged


async def on_update(ctx: Inbound) -> str:
    obj = ctx.object
    if types_of(obj) & STORED_TYPES:
        return await on_update_note(ctx)
    if types_of(obj) & ACTOR_TYPES:
        return await update_profile(ctx)
    return f"ignored: Update of {first_type(obj) or 'a reference'}"


async def update_profile(ctx: Inbound) -> str:
    """Update{Person} of the sender itself: refresh the cached profile and keys."""
    obj = ctx.object
    if not isinstance(obj, dict) or id_of(obj) != ctx.actor_uri:
        return "ignored: an actor may only update itself"
    profile = remote_actors.parse_actor(obj)
    keep_keys = not profile.keys  # an Update without publicKey leaves the keys alone
    if keep_keys:
        await store_actors.upsert(ctx.store, profile, replace_keys=False, now=ctx.services.now_ms())
    else:
        await remote_actors.store_profile(
            ctx.store, ctx.services.key_cache, profile, now=ctx.services.now_ms()
        )
    return "profile refreshed"


async def on_delete(ctx: Inbound) -> str:
    target = id_of(ctx.object)
    if target is None:
        return "ignored: Delete of nothing"
    if target == ctx.actor_uri:
        return await delete_account(ctx)
    revoked = await on_stamp_deleted(ctx, target)
    if revoked is not None:
        return revoked
    async with ctx.store.transaction():  # a quote of our post deleted: its stamps go too
        await quote_store.forget_quote(ctx.store, target, ctx.actor_uri)
    return await delete_note(ctx, target)


async def delete_account(ctx: Inbound) -> str:
    actor = await store_actors.by_uri(ctx.store, ctx.actor_uri)
    async with ctx.store.transaction():
        if actor is not None:
            await social.purge_actor(ctx.store, actor)
        for username in await given.forget_author(ctx.store, ctx.actor_uri):
            ctx.store.after_commit(BusinessChanged(username))
        await inbox_store.cancel_from_actor(ctx.store, ctx.actor_uri, except_id=ctx.item_id)
    store_actors.forget(ctx.store, ctx.actor_uri)
    ctx.services.key_cache.forget_owner(ctx.actor_uri)
    return "account purged" if actor is not None else "ignored: unknown account"


async def on_move(ctx: Inbound) -> str:
    """Move{object: old (the sender), target: new}."""
    if id_of(ctx.object) != ctx.actor_uri:
        return "ignored: an actor may only move itself"
    target_uri = id_of(ctx.activity.get("target"))
    if target_uri is None or target_uri == ctx.actor_uri:
        return "ignored: Move without a target"
    old = await store_actors.by_uri(ctx.store, ctx.actor_uri)
    if old is None:
        return "ignored: unknown account"
    new = await remote_actors.fetch_actor(ctx.services.fetcher(), target_uri)
    if ctx.actor_uri not in new.also_known_as:
        return "ignored: the new account does not name the old one in alsoKnownAs"
    async with ctx.store.transaction():
        await store_actors.set_moved_to(ctx.store, old.id, new.uri)
        moved = await social.move_follows(ctx.store, old.id, new.id, now=ctx.services.now_ms())
    return f"moved {moved} follow(s) to {new.uri}"
