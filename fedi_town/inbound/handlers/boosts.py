"""Announce: a boost of one of our posts (a reaction), or a boost by an account a business
follows (its home timeline), and the Undo of the latter.

A followed account's boost shows the boosted note with who boosted it. The note is the
embedded object only when it lives on the booster's own host (its server vouches for it);
otherwise it is fetched by id through the SSRF-guarded client, so a booster cannot make up
someone else's words. Only public and unlisted notes can be boosted (as Mastodon). Nothing is
kept of a boost nobody here follows the booster for, or of an author the business blocks.
"""

from __future__ import annotations

from typing import Any

from fedi_town.errors import FediTownError
from fedi_town.inbound.context import Inbound
from fedi_town.inbound.handlers.notes import STORED_TYPES, note_content, timeline_readers
from fedi_town.inbound.handlers.reactions import react
from fedi_town.protocol.reading import BadActivity, id_of, ids_of, is_plain_id, same_host, types_of
from fedi_town.remote import actors as remote_actors
from fedi_town.store import actors as store_actors
from fedi_town.store import moderation, social
from fedi_town.store import timeline as timeline_store
from fedi_town.store.actors import RemoteActor
from fedi_town.store.social import NoteContent

#: What a boost may show (a followers-only or direct note cannot be boosted).
BOOSTABLE = frozenset({"public", "unlisted"})


async def _boosted_document(ctx: Inbound, uri: str) -> dict[str, Any]:
    obj = ctx.object
    if isinstance(obj, dict) and same_host(uri, ctx.actor_uri) and types_of(obj) & STORED_TYPES:
        return obj
    try:
        return await remote_actors.fetch_document(ctx.services.fetcher(), uri)
    except FediTownError as exc:
        raise BadActivity(f"boosted note could not be fetched ({exc.__class__.__name__})") from None


async def _author(ctx: Inbound, note: dict[str, Any], uri: str) -> RemoteActor:
    authors = ids_of(note.get("attributedTo"))
    if not authors or not is_plain_id(authors[0]) or not same_host(authors[0], uri):
        raise BadActivity("boosted note has no author on its own host")
    if authors[0] == ctx.actor_uri:
        return await ctx.actor()
    known = await store_actors.recent_by_uri(ctx.store, authors[0])
    if known is not None:
        return known
    try:
        return await remote_actors.fetch_actor(ctx.services.fetcher(), authors[0])
    except FediTownError as exc:
        raise BadActivity(f"boosted note's author unknown ({exc.__class__.__name__})") from None


async def on_announce(ctx: Inbound) -> str:
    target = id_of(ctx.object)
    if target is not None and (post := await ctx.post_at(target)) is not None:
        return await react(ctx, post)
    readers = await timeline_readers(ctx, ctx.actor_uri)
    if not readers:
        return "ignored: Announce of something that is not our post, by nobody we follow"
    if not is_plain_id(target):
        raise BadActivity("Announce of nothing usable")
    assert target is not None
    # A server blocked (by the instance, or by every reader) is not even asked for the note.
    readers = [b for b in readers if await moderation.blocking(ctx.store, target, b) is None]
    if not readers:
        return "ignored: the boosted note's server is blocked"
    announce_uri = id_of(ctx.activity)
    assert announce_uri is not None  # the inbox refuses activities without one
    booster = await ctx.actor()
    now = ctx.services.now_ms()
    existing = await social.note_by_uri(ctx.store, target)
    content: NoteContent | None = None
    if existing is not None:
        author = await store_actors.by_id(ctx.store, existing.actor_id)
        visible = existing.visibility
    else:
        note = await _boosted_document(ctx, target)
        if not types_of(note) & STORED_TYPES or id_of(note) != target:
            raise BadActivity("boosted object is not the note named")
        author = await _author(ctx, note, target)
        content = note_content(note, note, author, now)
        visible = content.visibility
    if author is None or visible not in BOOSTABLE:
        return "ignored: a boost of a note that cannot be boosted"
    readers = [b for b in readers if await moderation.blocking(ctx.store, author.uri, b) is None]
    if not readers:
        return "ignored: the boosted author is blocked"
    async with ctx.store.transaction():
        if existing is not None:
            note_id = existing.id
        else:
            assert content is not None
            note_id = await social.insert_note(
                ctx.store, uri=target, actor_id=author.id, content=content, now=now
            )
        for business_id in readers:
            await timeline_store.add(
                ctx.store,
                business_id=business_id,
                note_id=note_id,
                entry_uri=announce_uri,
                boosted_by=booster.id,
                now=now,
            )
    return f"boost shown in {len(readers)} timeline(s)"


async def undo_boost(ctx: Inbound, inner: Any) -> str:
    """Undo{Announce} of a followed account's boost: by the Announce's id, else by the
    boosted note."""
    booster = await store_actors.recent_by_uri(ctx.store, ctx.actor_uri)
    if booster is None:
        return "ignored: unknown actor"
    note_id = None
    if isinstance(inner, dict):
        note = await social.note_by_uri(ctx.store, id_of(inner.get("object")) or "")
        note_id = note.id if note is not None else None
    async with ctx.store.transaction():
        removed = await timeline_store.remove_boost(
            ctx.store,
            booster_id=booster.id,
            announce_uri=id_of(inner),
            note_id=note_id,
            now=ctx.services.now_ms(),
        )
    return f"boost removed from {removed} timeline(s)" if removed else "ignored: no such boost"
