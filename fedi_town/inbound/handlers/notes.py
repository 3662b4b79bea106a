"""Create, Update and Delete of notes that reply to or mention a business, or that an
account a business follows posts (its home timeline).

A note concerns a business when its ``inReplyTo`` is one of our posts, or a ``Mention``
tag's ``href`` (or its ``to``/``cc``) is the business's actor id, or when the business's
follow of the author is accepted and the note is not a direct message (``store.timeline``).
Anything else is ignored: we keep only what a business's owner should see, and nothing of
accounts nobody here follows. The note's author (``attributedTo``) must be the activity's
actor and live on the same host as the note (interop F5). Content is sanitised; content
longer than ``MAX_CONTENT`` characters after that is refused; attachments are kept as links
(``protocol.attachments``).

A ``Question`` is kept with its poll (options, counts, when it closes), and an ``Update`` of
it with only new counts refreshes them without counting as an edit. Custom emoji and
attachments as read by ``protocol/attachments.py``; the emoji images are fetched once
the note is stored (inbound/emoji.py).

Objects Mastodon converts (``Event``, ``Video``, ``Article``, …; ``handlers.converted``) are
kept as notes too, their content being what Mastodon would show: name, summary, link.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from fedi_town.errors import FediTownError
from fedi_town.inbound.context import Inbound
from fedi_town.inbound.emoji import cache_emojis
from fedi_town.inbound.handlers.converted import CONVERTED_TYPES, converted_html, page_url
from fedi_town.inbound.votes import looks_like_vote, on_vote
from fedi_town.protocol.attachments import attachments_of
from fedi_town.protocol.note_parts import (
    EmojiTag,
    read_emojis,
    read_poll,
)
from fedi_town.protocol.reading import (
    Activity,
    BadActivity,
    audience,
    clean_text,
    id_of,
    ids_of,
    is_plain_id,
    mentioned_hrefs,
    parse_time_ms,
    same_host,
    text_of,
    types_of,
    visibility,
)
from fedi_town.remote import actors as remote_actors
from fedi_town.store import actors as store_actors
from fedi_town.store import given, notifications, social
from fedi_town.store import timeline as timeline_store
from fedi_town.store.actors import RemoteActor
from fedi_town.store.effects import BusinessChanged
from fedi_town.store.social import NoteContent
from fedi_town.text.sanitize import html_to_text, sanitize_html

log = logging.getLogger(__name__)

#: Kept with their own content; ``CONVERTED_TYPES`` are kept as Mastodon converts them.
NOTE_TYPES = frozenset({"Note", "Question"})
#: Every object type kept as a note.
STORED_TYPES = NOTE_TYPES | CONVERTED_TYPES
_MAX_SUMMARY = 1000
#: The longest content (sanitised HTML, in characters) a note may have; longer is refused.
MAX_CONTENT = 100_000
#: Visibilities a home timeline shows (a direct message is a mention, not a post).
TIMELINE_VISIBILITIES = frozenset({"public", "unlisted", "private"})


def _checked_note(ctx: Inbound, obj: Any) -> Activity:
    if not isinstance(obj, dict) or not (types_of(obj) & STORED_TYPES):
        raise BadActivity("object is not a note")
    uri = id_of(obj)
    if not is_plain_id(uri):
        raise BadActivity("note has no usable id")
    if ctx.actor_uri not in ids_of(obj.get("attributedTo")):
        raise BadActivity("note is not attributed to the activity's actor")
    if not same_host(uri, ctx.actor_uri):
        raise BadActivity("note id is not on its author's host")
    return obj


def note_content(
    activity: Activity, note: Activity, actor: RemoteActor, fallback_ms: int
) -> NoteContent:
    """What we store of a note: sanitised HTML, plain-text warning (both ``clean_text``:
    no control characters, no bidirectional override left open), visibility, times."""
    to, cc = audience(activity, note)
    summary = note.get("summary")
    reply_to = id_of(note.get("inReplyTo"))
    converted = not (types_of(note) & NOTE_TYPES)
    if converted:  # the summary is part of the content; no content warning (as Mastodon)
        html, summary = converted_html(note), None
    else:
        html = sanitize_html(text_of(note.get("content"), note.get("contentMap")))
    if len(html) > MAX_CONTENT:
        raise BadActivity("note content too long")
    return NoteContent(
        # indexed: an id too long for an index entry (or not one) is not kept
        in_reply_to_uri=reply_to if is_plain_id(reply_to) else None,
        content_html=clean_text(html),
        summary=clean_text(html_to_text(sanitize_html(summary))[:_MAX_SUMMARY])
        if isinstance(summary, str) and summary
        else None,
        # its page on its own host, else its id: a sender cannot point it elsewhere (as
        # Mastodon, which drops a url of another origin)
        url=page_url(note),
        visibility=visibility(
            to, cc, followers_uri=actor.followers_uri, mentions=mentioned_hrefs(note)
        ),
        published_at=parse_time_ms(note.get("published")) or fallback_ms,
        document=note,
        poll=poll.as_json() if (poll := read_poll(note)) is not None else None,
        emojis=[asdict(e) for e in read_emojis(note)],
        attachments=[a.as_json() for a in attachments_of(note)],
    )


async def _targets(ctx: Inbound, activity: Activity, note: Activity) -> dict[int, str]:
    """business id -> "reply" or "mention", for every business this note concerns."""
    found: dict[int, str] = {}
    reply_to = id_of(note.get("inReplyTo"))
    if reply_to:
        post = await ctx.post_at(reply_to)
        if post is not None:
            found[post.business_id] = "reply"
    to, cc = audience(activity, note)
    for uri in dict.fromkeys([*mentioned_hrefs(note), *to, *cc]):
        business = await ctx.business_at(uri)
        if business is not None:
            found.setdefault(business.id, "mention")
    sender = await ctx.business_at(ctx.actor_uri)
    if sender is not None:  # a business here replying in its own thread: not news to it
        found.pop(sender.id, None)
    for business_id in list(found):
        if await ctx.blocked_by(business_id):
            del found[business_id]
    return found


async def timeline_readers(ctx: Inbound, actor_uri: str) -> list[int]:
    """Businesses that follow ``actor_uri`` (accepted) and do not block the sender: whose
    home timelines its posts (or boosts) reach. Nobody for an account we do not know."""
    known = await store_actors.recent_by_uri(ctx.store, actor_uri)
    if known is None:
        return []
    return [b for b in await ctx.followers_of(known) if not await ctx.blocked_by(b)]


async def _resolve_object(ctx: Inbound) -> Any:
    obj = ctx.object
    if isinstance(obj, str):
        try:
            obj = await remote_actors.fetch_document(ctx.services.fetcher(), obj)
        except FediTownError as exc:
            raise BadActivity(f"object could not be fetched ({exc.__class__.__name__})") from None
    return obj


async def on_create(ctx: Inbound) -> str:
    obj = await _resolve_object(ctx)
    if not (types_of(obj) & STORED_TYPES):
        return "ignored: not a note"
    note = _checked_note(ctx, obj)
    if looks_like_vote(note) and (counted := await on_vote(ctx, note)) is not None:
        return counted
    targets = await _targets(ctx, ctx.activity, note)
    readers = await timeline_readers(ctx, ctx.actor_uri)
    if not targets and not readers:
        return "ignored: concerns none of our businesses"
    actor = await ctx.actor()
    uri = id_of(note)
    assert uri is not None
    content = note_content(ctx.activity, note, actor, ctx.services.now_ms())
    if content.visibility not in TIMELINE_VISIBILITIES:
        readers = []
        if not targets:
            return "ignored: a direct message to none of our businesses"
    async with ctx.store.transaction():
        note_id, rest = await _add_new_note(ctx, uri, actor, content, targets)
        fresh = note_id is not None
        if note_id is None:  # stored before: the same note again, or someone else's id
            existing = await social.note_by_uri(ctx.store, uri)
            if existing is None:  # deleted meanwhile (PostgreSQL): the retry decides
                raise RuntimeError("the stored note went away")
            if existing.actor_id != actor.id:
                return "ignored: a note with this id belongs to someone else"
            note_id = existing.id
        for business_id, kind in rest.items():
            await _add_target(ctx, note_id, business_id, kind, actor.id, new=fresh)
        for business_id in readers:
            await timeline_store.add(
                ctx.store,
                business_id=business_id,
                note_id=note_id,
                entry_uri=uri,
                boosted_by=None,
                now=ctx.services.now_ms(),
            )
    await _cache_emojis(ctx, content)
    if not readers:
        return f"note stored for {len(targets)} business(es)"
    return f"note stored for {len(targets)} business(es), {len(readers)} timeline(s)"


async def _add_new_note(
    ctx: Inbound, uri: str, actor: RemoteActor, content: NoteContent, targets: dict[int, str]
) -> tuple[int | None, dict[int, str]]:
    """Store the note if it is new: its id (None when it was stored before) and the
    targets still to write. A new note that concerns a business (a reply) is written with
    its first target and that business's notification in one trip
    (``notifications.notify_after``'s ``first``)."""
    now = ctx.services.now_ms()
    if not targets:
        note_id = await social.add_note(
            ctx.store, uri=uri, actor_id=actor.id, content=content, now=now
        )
        return note_id, targets
    note = social.note_insert(uri=uri, actor_id=actor.id, content=content, now=now, prefix="w_")
    note_id = int(note[1]["w_id"])
    (business_id, kind), *others = targets.items()
    after = None if ctx.store.is_sqlite else "w"
    fresh = await notifications.notify_after(
        ctx.store,
        social.note_target_insert(note_id, business_id, after=after),
        first=note,
        **_notification(note_id, business_id, kind, actor.id, now),
    )
    if not fresh:
        return None, targets
    return note_id, dict(others)


def _notification(
    note_id: int, business_id: int, kind: str, actor_id: int, now: int
) -> dict[str, Any]:
    """The notification that a note concerns a business (``notifications.notify``'s)."""
    return {
        "business_id": business_id,
        "type": kind,
        "dedupe_key": f"note:{note_id}:{business_id}",
        "actor_id": actor_id,
        "remote_note_id": note_id,
        "now": now,
    }


async def _add_target(
    ctx: Inbound, note_id: int, business_id: int, kind: str, actor_id: int, *, new: bool
) -> None:
    """The note concerns the business: its target row and the business's notification.

    For a note just stored, both in one trip (``notifications.notify_after``: neither can
    exist yet); for one stored before, the target may be there without this notification
    (a quote's target), so each is written on its own, the notification deduped.
    """
    values = _notification(note_id, business_id, kind, actor_id, ctx.services.now_ms())
    if new:
        await notifications.notify_after(
            ctx.store, social.note_target_insert(note_id, business_id), **values
        )
        return
    await social.add_note_target(ctx.store, note_id, business_id)
    await notifications.notify(ctx.store, **values)


async def _cache_emojis(ctx: Inbound, content: NoteContent) -> None:
    """The note's custom emoji into the cache, once the note is stored (inbound/emoji.py)."""
    if content.emojis:
        await cache_emojis(ctx.services, [EmojiTag(**e) for e in content.emojis])


async def on_update_note(ctx: Inbound) -> str:
    note = _checked_note(ctx, ctx.object)
    uri = id_of(note)
    assert uri is not None
    actor = await store_actors.recent_by_uri(ctx.store, ctx.actor_uri)
    existing = await social.note_by_uri(ctx.store, uri)
    if existing is None or actor is None:
        # An edit may add a mention: treat it as the note's arrival.
        return await on_create(ctx)
    if existing.actor_id != actor.id:
        return "ignored: not the note's author"
    content = note_content(ctx.activity, note, actor, existing.published_at)
    updated = parse_time_ms(note.get("updated"))
    stale = updated is not None and existing.edited_at is not None and updated <= existing.edited_at
    unchanged = (
        content.content_html == existing.content_html
        and content.summary == existing.summary
        and content.visibility == existing.visibility
    )
    if stale or (updated is None and unchanged):
        # Mastodon, Pleroma and GoToSocial send a poll's new counts (or its close) as an
        # Update of the Question whose "updated" is absent, or the last edit's: not an edit.
        if content.poll is None or content.poll == await social.note_poll(ctx.store, existing.id):
            return f"ignored: {'not newer than the stored edit' if stale else 'nothing changed'}"
        async with ctx.store.transaction():
            await social.update_poll(ctx.store, existing.id, content.poll)
        return "poll counts refreshed"
    async with ctx.store.transaction():
        await social.update_note(ctx.store, existing.id, content, updated or ctx.services.now_ms())
    await _cache_emojis(ctx, content)
    return "note edited"


async def delete_note(ctx: Inbound, uri: str) -> str:
    actor = await store_actors.recent_by_uri(ctx.store, ctx.actor_uri)
    existing = await social.note_by_uri(ctx.store, uri)
    async with ctx.store.transaction():  # a post a business liked or boosted goes from it
        for username in await given.forget_object(ctx.store, uri, author_uri=ctx.actor_uri):
            ctx.store.after_commit(BusinessChanged(username))
    if existing is None or actor is None:
        return "ignored: unknown note"
    if existing.actor_id != actor.id:
        return "ignored: not the note's author"
    async with ctx.store.transaction():
        await social.delete_note(ctx.store, existing.id, now=ctx.services.now_ms())
    return "note deleted"
