"""What an owner can do to posts, each as one command: check, write, enqueue, poke.

Network work (WebFinger for mentions, fetching the note replied to) happens *before* the
transaction; the transaction then writes the post and its activity with one delivery row
per inbox, all or nothing. A failed check raises a ``ProblemError`` (422 mostly) before
anything is written, or inside the transaction so it rolls back.

    draft_post     check and compose a new post, writing nothing: what create_post
                   writes and what a preview shows (mentions looked up, none sent)
    create_post    Create{Note} now, or at scheduled_at (publish_due)
    edit_post      Update{Note} with a later ``updated``, to everyone who got the post
    delete_post    Delete{Tombstone} to every inbox that may hold it, images deleted;
                   unpublished: nothing
    pin / unpin    Add / Remove in the featured collection (public and unlisted only, ≤ 5)
    publish_due    periodic: publish scheduled posts whose time came, each exactly once

A member's public post is boosted by the high-street directory in the same transaction as
its Create, and the boost undone with its Delete (``outbound/directory.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from fedi_town.errors import Conflict, FediTownError, Unprocessable
from fedi_town.outbound import directory
from fedi_town.outbound import quotes as quoting
from fedi_town.outbound.audience import (
    ReplyTarget,
    Unresolved,
    inboxes_for,
    resolve_mentions,
    resolve_reply,
)
from fedi_town.outbound.notes import create_for, update_for
from fedi_town.protocol import activities
from fedi_town.protocol.ids import body_id
from fedi_town.schemas import validate
from fedi_town.services import Services
from fedi_town.store import businesses, outbox, post_versions, stream_events
from fedi_town.store import deliveries as delivery_store
from fedi_town.store import given as given_store
from fedi_town.store import media as media_store
from fedi_town.store import polls as poll_store
from fedi_town.store import posts as post_store
from fedi_town.store import quotes as quote_store
from fedi_town.store.businesses import Business
from fedi_town.store.db import new_id
from fedi_town.store.effects import BusinessChanged
from fedi_town.store.media import Media
from fedi_town.store.posts import Post
from fedi_town.text.compose import ResolvedMention, find_mentions, render_post

log = logging.getLogger(__name__)

MAX_CONTENT = 5000
MAX_MEDIA = 4
MAX_MENTIONS = 20
MAX_PINNED = 5


def _problem(pointer: str, message: str) -> Unprocessable:
    return Unprocessable(message, errors=[{"pointer": pointer, "message": message}])


# -- checking input ----------------------------------------------------------------------


def _content(data: Mapping[str, Any]) -> str:
    content = str(data["content"]).strip()
    if not content:
        raise _problem("/content", "content is empty")
    if len(content) > MAX_CONTENT:
        raise _problem("/content", f"content is longer than {MAX_CONTENT} characters")
    return content


def _scheduled_at(raw: str, now: int) -> int:
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise _problem("/scheduled_at", "scheduled_at is not an ISO 8601 date-time") from None
    if when.tzinfo is None:
        raise _problem("/scheduled_at", "scheduled_at needs a time zone (e.g. Z)")
    try:
        at = int(when.astimezone(UTC).timestamp() * 1000)
    except OverflowError:  # e.g. 9999-12-31T23:59-05:00 is past year 9999 in UTC
        raise _problem("/scheduled_at", "scheduled_at is out of range") from None
    if at <= now:
        raise _problem("/scheduled_at", "scheduled_at is not in the future")
    return at


async def _check_media(
    services: Services, business: Business, raw_ids: Sequence[str], post_id: int | None
) -> list[Media]:
    """The media named, each uploaded by ``business`` and attached to no other post."""
    ids = [body_id(raw, f"/media_ids/{index}") for index, raw in enumerate(raw_ids)]
    if len(ids) > MAX_MEDIA:
        raise _problem("/media_ids", f"at most {MAX_MEDIA} media per post")
    if len(set(ids)) != len(ids):
        raise _problem("/media_ids", "the same media is listed twice")
    media = []
    for index, media_id in enumerate(ids):
        found = await media_store.by_id(services.store, business.id, media_id)
        if found is None:
            raise _problem(f"/media_ids/{index}", f"no media {media_id} uploaded by this business")
        if found.post_id is not None and found.post_id != post_id:
            raise _problem(f"/media_ids/{index}", f"media {media_id} is attached to another post")
        media.append(found)
    return media


# -- composing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Composition:
    """The HTML and what it addresses; ``unresolved``: the mentions left as text, and why."""

    html: str
    mentions: list[dict[str, str]]
    hashtags: list[str]
    extra_inboxes: list[str]
    unresolved: list[Unresolved]


async def compose(
    services: Services, business: Business, source: str, reply: ReplyTarget | None
) -> Composition:
    """Render ``source`` with its mentions resolved; the reply's author is mentioned too."""
    refs = find_mentions(source)
    if len(refs) > MAX_MENTIONS:
        raise _problem("/content", f"at most {MAX_MENTIONS} different mentions per post")
    looked_up = await resolve_mentions(services, refs, business.id)
    found = looked_up.found
    resolved: dict[str, ResolvedMention] = {k: r.mention for k, r in found.items()}
    rendered = render_post(
        source,
        mentions=resolved,
        tag_url=lambda tag: services.urls.tag_page(business.username, tag),
    )
    recipients = [found[k] for k in rendered.mention_keys]
    if reply is not None:
        recipients.insert(0, reply.author)
    mentions: dict[str, dict[str, str]] = {}
    inboxes: dict[str, None] = {}
    own_inbox = services.urls.inbox(business.username)
    for recipient in recipients:
        mention = recipient.mention
        mentions.setdefault(mention.href, {"href": mention.href, "name": mention.name})
        if recipient.inbox and recipient.inbox != own_inbox:
            inboxes[recipient.inbox] = None
    return Composition(
        rendered.html,
        list(mentions.values()),
        rendered.hashtags,
        list(inboxes),
        looked_up.unresolved,
    )


def _needs_a_mention(composition: Composition) -> Unprocessable:
    """A direct post with nobody found to send it to, saying why the typed ones were not."""
    message = "a direct post needs at least one mention of someone we found"
    if composition.unresolved:
        message += ": " + "; ".join(f"{u.handle}: {u.reason}" for u in composition.unresolved)
    return _problem("/content", message)


async def _reply_target(services: Services, uri: str) -> ReplyTarget:
    try:
        return await resolve_reply(services, uri)
    except FediTownError as exc:
        log.info("in_reply_to %s refused: %s", uri, type(exc).__name__)
        raise _problem(
            "/in_reply_to", "the post replied to could not be fetched, or has no author"
        ) from None


# -- enqueueing ------------------------------------------------------------------------------


async def _enqueue_note_activity(
    services: Services, business: Business, post: Post, kind: str, inboxes: Sequence[str]
) -> None:
    if kind == "Create":
        body = await create_for(services, business, post)
    else:
        body = await update_for(services, business, post)
    await outbox.enqueue(
        services.store,
        business_id=business.id,
        body=body,
        inboxes=inboxes,
        post_id=post.id,
        now=services.now_ms(),
    )


async def _stream(services: Services, post: Post, event: str) -> None:
    """Tell streaming apps (``store.stream_events``), in the transaction of the change:
    the business's own streams always, the instance's public one for a public post."""
    await stream_events.record(
        services.store,
        event=event,
        business_id=post.business_id,
        ref_id=post.id,
        public=post.visibility == "public",
        now=services.now_ms(),
    )


async def _reload(services: Services, business: Business, post_id: int) -> Post:
    post = await post_store.by_id(services.store, business.id, post_id)
    assert post is not None
    return post


# -- commands ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """A new post checked and composed, nothing written yet: what ``create_post`` writes and
    what a preview shows. ``media`` as found before the write (checked again inside it)."""

    content: str
    visibility: str
    spoiler_text: str
    sensitive: bool
    language: str | None
    scheduled_at: int | None
    reply: ReplyTarget | None
    media: list[Media]
    composition: Composition
    #: anyone | followers | nobody, or None: the business's setting
    quote_policy: str | None = None
    #: the post it quotes, checked quotable
    quote: quoting.QuoteTarget | None = None
    #: the poll (``_poll``): options, multiple, hide_totals, expires_in (seconds)
    poll: Mapping[str, Any] | None = None


def _poll(data: Mapping[str, Any], scheduled: bool) -> Mapping[str, Any] | None:
    """The poll of the create body, checked beyond its schema: different options, and
    neither images nor a schedule beside it (as Mastodon refuses them)."""
    poll = data.get("poll")
    if not poll:
        return None
    options = [str(o).strip() for o in poll["options"]]
    if any(not o for o in options):
        raise _problem("/poll/options", "a poll option can't be blank")
    if len({o.casefold() for o in options}) != len(options):
        raise _problem("/poll/options", "poll options must be different")
    if data.get("media_ids"):
        raise _problem("/poll", "a post can't have both images and a poll")
    if scheduled:
        raise _problem("/poll", "a poll is posted at once: it cannot be scheduled")
    return {**poll, "options": options}


async def draft_post(services: Services, business: Business, data: dict[str, Any]) -> Draft:
    """Check ``data`` (the create body) and compose the post: mentions and the post replied
    to are looked up, nothing is stored and nothing is sent. A refusal is a ``ProblemError``
    naming the field, exactly as ``create_post`` refuses."""
    validate("post-create", data)
    now = services.now_ms()
    content = _content(data)
    visibility = str(data.get("visibility", "public"))
    scheduled_at = _scheduled_at(data["scheduled_at"], now) if data.get("scheduled_at") else None
    poll = _poll(data, scheduled_at is not None)
    media = await _check_media(services, business, data.get("media_ids", []), None)
    reply = await _reply_target(services, data["in_reply_to"]) if data.get("in_reply_to") else None
    quote = None
    if data.get("quote"):
        if scheduled_at is not None:
            raise _problem("/quote", "a quote is posted at once: it cannot be scheduled")
        quote = await quoting.quote_target(services, business, str(data["quote"]))
    composition = await compose(services, business, content, reply)
    if visibility == "direct" and not composition.mentions:
        raise _needs_a_mention(composition)
    return Draft(
        content=content,
        visibility=visibility,
        spoiler_text=str(data.get("spoiler_text", "")).strip(),
        sensitive=bool(data.get("sensitive", False)),
        language=data.get("language"),
        scheduled_at=scheduled_at,
        reply=reply,
        media=media,
        composition=composition,
        quote_policy=data.get("quote_policy"),
        quote=quote,
        poll=poll,
    )


@dataclass(frozen=True)
class CreatedPost:
    """A post just written and its attachments, as stored: what the API answers with,
    without reading them back; and the mentions left as text."""

    post: Post
    media: list[Media]
    unresolved: list[Unresolved]


async def create_post(services: Services, business: Business, data: dict[str, Any]) -> CreatedPost:
    """Write a post (published now, or scheduled) and, if published, its Create."""
    if business.moved_to is not None:
        raise Conflict(
            f"this business moved to {business.moved_to} and posts no more here (docs/moving.md)"
        )
    draft = await draft_post(services, business, data)
    composition = draft.composition
    now = services.now_ms()
    post_id = new_id(now)
    quote_request_uri = (
        services.urls.activity(business.username, new_id(now)) if draft.quote else None
    )
    async with services.store.transaction():
        # Checked again inside the transaction: another request may have taken the media.
        media = await _check_media(services, business, data.get("media_ids", []), None)
        post = await post_store.insert(
            services.store,
            post_id=post_id,
            business_id=business.id,
            uri=services.urls.post(business.username, post_id),
            content_source=draft.content,
            content_html=composition.html,
            spoiler_text=draft.spoiler_text,
            sensitive=draft.sensitive,
            language=draft.language,
            visibility=draft.visibility,
            in_reply_to_uri=draft.reply.uri if draft.reply else None,
            mentions=composition.mentions,
            hashtags=composition.hashtags,
            extra_inboxes=composition.extra_inboxes,
            scheduled_at=draft.scheduled_at,
            published_at=None if draft.scheduled_at else now,
            now=now,
            quote_policy=draft.quote_policy,
            quote_uri=draft.quote.uri if draft.quote else None,
            quote_request_uri=quote_request_uri,
        )
        await media_store.attach(services.store, post_id, [m.id for m in media])
        if draft.poll is not None:
            await poll_store.insert(
                services.store,
                post_id=post_id,
                business_id=business.id,
                options=draft.poll["options"],
                multiple=bool(draft.poll.get("multiple", False)),
                hide_totals=bool(draft.poll.get("hide_totals", False)),
                expires_at=now + int(draft.poll["expires_in"]) * 1000,
                now=now,
            )
        if post.is_published:
            inboxes = await inboxes_for(
                services, business.id, draft.visibility, composition.extra_inboxes
            )
            await _enqueue_note_activity(services, business, post, "Create", inboxes)
            await directory.boost(services, business, post)
            await _stream(services, post, "update")
            if draft.quote is not None and quote_request_uri is not None:
                await quoting.request_quote(
                    services,
                    business,
                    post_uri=post.uri,
                    request_uri=quote_request_uri,
                    target=draft.quote,
                )
        services.store.after_commit(BusinessChanged(business.username))
    log.info(
        "business %s %s post %d (%s)",
        business.username,
        "published" if post.is_published else "scheduled",
        post.id,
        draft.visibility,
    )
    attached = [replace(m, post_id=post.id, position=i) for i, m in enumerate(media)]
    return CreatedPost(post, attached, composition.unresolved)


def _next_edit_time(post: Post, now: int) -> int:
    """Later than the last ``updated`` (or ``published``) by at least a second: Mastodon
    compares the second-precision timestamps and ignores an Update that is not later."""
    previous = post.edited_at or post.published_at or post.created_at
    return max(now // 1000, previous // 1000 + 1) * 1000


@dataclass(frozen=True)
class EditedPost:
    """A post just changed, and the mentions of its new content left as text (none when
    the content did not change)."""

    post: Post
    unresolved: list[Unresolved]


async def edit_post(
    services: Services, business: Business, post: Post, data: dict[str, Any]
) -> EditedPost:
    """Change a post; a published one sends Update{Note} to everyone who got it."""
    validate("post-update", data)
    now = services.now_ms()
    changes: dict[str, Any] = {}
    unresolved: list[Unresolved] = []
    if "content" in data:
        content = _content(data)
        reply = None
        if post.in_reply_to_uri:
            try:
                reply = await resolve_reply(services, post.in_reply_to_uri)
            except FediTownError:
                reply = None  # the parent is gone: keep the old reply mention below
        composition = await compose(services, business, content, reply)
        mentions = composition.mentions
        inboxes = composition.extra_inboxes
        if post.in_reply_to_uri and reply is None and post.mentions:
            mentions = [post.mentions[0], *[m for m in mentions if m != post.mentions[0]]]
            inboxes = list(dict.fromkeys([*post.extra_inboxes, *inboxes]))
        if post.visibility == "direct" and not mentions:
            raise _needs_a_mention(composition)
        unresolved = composition.unresolved
        changes.update(
            content_source=content,
            content_html=composition.html,
            mentions=mentions,
            hashtags=composition.hashtags,
            extra_inboxes=inboxes,
        )
    for key in ("spoiler_text", "sensitive", "language", "quote_policy"):
        if key in data:
            value = data[key]
            changes[key] = value.strip() if isinstance(value, str) and key != "language" else value
    if "scheduled_at" in data:
        if post.is_published:
            raise _problem("/scheduled_at", "the post is already published")
        changes["scheduled_at"] = _scheduled_at(str(data["scheduled_at"]), now)
    media_ids = None
    if "media_ids" in data:
        media_ids = [
            m.id for m in await _check_media(services, business, data["media_ids"], post.id)
        ]
    if post.is_published:
        changes["edited_at"] = _next_edit_time(post, now)
    async with services.store.transaction():
        if post.is_published and not await post_versions.count(services.store, post.id):
            await _add_version(services, post, post.published_at or post.created_at)
        if media_ids is not None:
            await _check_media(services, business, data["media_ids"], post.id)
            await media_store.attach(services.store, post.id, media_ids)
        await post_store.update(services.store, post.id, changes)
        edited = await _reload(services, business, post.id)
        if edited.is_published:
            await _add_version(services, edited, edited.edited_at or now)
        if edited.is_published:
            audience = await delivery_store.audience_inboxes(services.store, post.id)
            current = await inboxes_for(
                services, business.id, edited.visibility, edited.extra_inboxes
            )
            inboxes = list(dict.fromkeys([*audience, *current]))
            await _enqueue_note_activity(services, business, edited, "Update", inboxes)
            await _stream(services, edited, "status.update")
        if "quote_policy" in data:
            await quoting.revoke_disallowed(services, business, post.id)
        services.store.after_commit(BusinessChanged(business.username))
    return EditedPost(edited, unresolved)


async def _add_version(services: Services, post: Post, at: int) -> None:
    """Keep the version of ``post`` shown from ``at`` on (a Mastodon app's edit history)."""
    media = await media_store.of_post(services.store, post.id)
    await post_versions.add(
        services.store,
        post.id,
        content_html=post.content_html,
        spoiler_text=post.spoiler_text,
        sensitive=post.sensitive,
        media_ids=[m.id for m in media],
        at=at,
    )


async def delete_post(services: Services, business: Business, post: Post) -> None:
    """Delete a post: Delete{Tombstone} to every inbox that may hold it, pending sends
    cancelled, its images deleted; a post never published is simply dropped (its images
    stay among the uploads) and nothing is sent."""
    # The images' objects first: a media store that fails answers 503 and the post stays
    # whole; the rows go in the transaction below.
    images = await media_store.only_of_post(services.store, post.id) if post.is_published else []
    for image in images:
        await services.media.delete(image.path)
    async with services.store.transaction():
        for image in images:
            await media_store.delete(services.store, image.id)
        if not post.is_published:
            await media_store.attach(services.store, post.id, [])
            await post_store.discard_unpublished(services.store, post.id)
            log.info("business %s cancelled scheduled post %d", business.username, post.id)
            return
        # The directory's followers fetched the Note when it boosted it: they get the Delete too.
        reached = await delivery_store.reached_inboxes(
            services.store, post.id, ["Create", "Update", "Announce"]
        )
        await delivery_store.cancel_for_post(services.store, post.id)
        stamps = await quote_store.of_post(services.store, post.id)
        await quoting.revoke(services, business, stamps)
        await post_store.mark_deleted(services.store, post.id, services.now_ms())
        await _stream(services, post, "delete")
        body = activities.delete_note(post.uri, services.urls.actor(business.username))
        await outbox.enqueue(
            services.store,
            business_id=business.id,
            body=body,
            inboxes=reached,
            post_id=post.id,
            now=services.now_ms(),
        )
        await directory.unboost(services, post)
        services.store.after_commit(BusinessChanged(business.username))
        # what businesses here gave it goes with it (their outboxes list it no more)
        for username in await given_store.forget_object(services.store, post.uri):
            services.store.after_commit(BusinessChanged(username))
    log.info("business %s deleted post %d (%d inboxes)", business.username, post.id, len(reached))


async def set_pinned(services: Services, business: Business, post: Post, pinned: bool) -> Post:
    """Pin (at most ``MAX_PINNED``, public or unlisted, published) or unpin a post."""
    if pinned == (post.pinned_at is not None):
        return post
    if pinned:
        if not post.is_published:
            raise Conflict("a scheduled post cannot be pinned before it is published")
        if post.visibility not in ("public", "unlisted"):
            raise _problem("/visibility", "only public and unlisted posts can be pinned")
    username = business.username
    async with services.store.transaction():
        await businesses.lock(services.store, business.id)  # two pins racing: one wins
        if pinned and await post_store.pinned_count(services.store, business.id) >= MAX_PINNED:
            raise _problem("/", f"at most {MAX_PINNED} posts can be pinned; unpin one first")
        now = services.now_ms()
        await post_store.set_pinned(services.store, post.id, now if pinned else None)
        activity_id = services.urls.activity(username, new_id(now))
        body = (activities.add if pinned else activities.remove)(
            id=activity_id,
            actor=services.urls.actor(username),
            note_id=post.uri,
            featured=services.urls.featured(username),
        )
        await outbox.enqueue(
            services.store,
            business_id=business.id,
            body=body,
            inboxes=await outbox.follower_inboxes(services.store, business.id),
            post_id=post.id,
            now=services.now_ms(),
        )
        changed = await _reload(services, business, post.id)
        services.store.after_commit(BusinessChanged(username))
    return changed


async def publish_due(services: Services) -> int:
    """Publish every scheduled post whose time has come; return how many this call won."""
    published = 0
    now = services.now_ms()
    for post_id in await post_store.due_ids(services.store, now):
        async with services.store.transaction():
            post = await post_store.claim_publication(services.store, post_id, now)
            if post is None:
                continue  # another worker published it
            business = await businesses.by_id(services.store, post.business_id)
            if business is None or business.deleted_at is not None:
                continue
            inboxes = await inboxes_for(services, business.id, post.visibility, post.extra_inboxes)
            await _enqueue_note_activity(services, business, post, "Create", inboxes)
            await directory.boost(services, business, post)
            await _stream(services, post, "update")
            published += 1
            services.store.after_commit(BusinessChanged(business.username))
        log.info("published scheduled post %d of %s", post.id, business.username)
    return published
