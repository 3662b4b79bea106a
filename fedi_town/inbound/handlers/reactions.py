"""Like and Announce of our posts, and their Undo.

Each becomes an ``interactions`` row (kind like | announce) and a notification (like |
boost) for the post's business. An emoji reaction (``EmojiReact`` from Pleroma/Akkoma, a
``Like`` with ``content`` from Misskey) is a like that keeps its emoji (unicode or
``:shortcode:``, ``protocol.note_parts.read_reaction``); a custom one's icon is fetched
into the emoji cache once stored (inbound/emoji.py: guarded, size-limited, checked as an
image), and the owner sees the picture, or the ``:shortcode:`` when it was refused.

Undo matches by the undone activity's id, else by actor,
kind and post (interop §4: Mastodon embeds the Like or Announce it undoes).
"""

from __future__ import annotations

from typing import Any

from fedi_town.inbound.context import Inbound
from fedi_town.inbound.emoji import cache_emojis
from fedi_town.protocol.note_parts import read_reaction
from fedi_town.protocol.reading import BadActivity, id_of, kind_of
from fedi_town.store import actors as store_actors
from fedi_town.store import notifications, social
from fedi_town.store.social import LocalPost

#: activity type -> (interactions.kind, notification type)
KINDS = {
    "Like": ("like", "like"),
    "EmojiReact": ("like", "like"),
    "Announce": ("announce", "boost"),
}


async def on_reaction(ctx: Inbound) -> str:
    if ctx.type not in KINDS:
        raise BadActivity(f"{ctx.type} is not a reaction")
    post = await ctx.post_at(id_of(ctx.object))
    if post is None:
        return f"ignored: {ctx.type} of something that is not our post"
    return await react(ctx, post)


async def react(ctx: Inbound, post: LocalPost) -> str:
    """A reaction (``ctx.type`` one of ``KINDS``) to ``post``, read by the caller."""
    kind, notification = KINDS[ctx.type]
    if await ctx.blocked_by(post.business_id):
        return "ignored: blocked by the business"
    activity_uri = id_of(ctx.activity)
    assert activity_uri is not None  # the inbox refuses activities without one
    actor = await ctx.actor()
    reaction = read_reaction(ctx.activity) if kind == "like" else None
    now = ctx.services.now_ms()
    async with ctx.store.transaction():  # with the push it may queue
        # The interaction and its notification in one trip (``notifications.notify_after``).
        added = await notifications.notify_after(
            ctx.store,
            social.interaction_insert(
                kind=kind,
                activity_uri=activity_uri,
                actor_id=actor.id,
                post_id=post.id,
                now=now,
                reaction=reaction.content if reaction else None,
                reaction_url=reaction.emoji.url if reaction and reaction.emoji else None,
            ),
            business_id=post.business_id,
            type=notification,
            dedupe_key=social.interaction_key(kind, actor.id, post.id),
            actor_id=actor.id,
            post_id=post.id,
            now=now,
        )
        if not added:
            return f"repeated {ctx.type}"
    if reaction is not None and reaction.emoji is not None:
        await cache_emojis(ctx.services, [reaction.emoji])
    return f"{ctx.type} recorded"


async def undo_reaction(ctx: Inbound, inner: Any) -> str:
    """Undo{Like|Announce}: embedded (matched by id, else actor + post) or a bare id."""
    actor = await store_actors.recent_by_uri(ctx.store, ctx.actor_uri)
    if actor is None:
        return "ignored: unknown actor"
    kind = post_id = None
    if isinstance(inner, dict):
        if id_of(inner.get("actor")) not in (None, ctx.actor_uri):
            return "ignored: undoing someone else's activity"
        kind = KINDS.get(kind_of(inner, KINDS) or "", (None, None))[0]
        post = await ctx.post_at(id_of(inner.get("object")))
        post_id = post.id if post is not None else None
    async with ctx.store.transaction():
        found = await social.find_interaction(
            ctx.store, actor_id=actor.id, activity_uri=id_of(inner), kind=kind, post_id=post_id
        )
        if found is None:
            return "ignored: no such like or boost"
        await social.delete_interaction(ctx.store, found)
    return f"{found.kind} removed"
