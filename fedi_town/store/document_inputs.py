"""Stored rows to the inputs of ``protocol.documents``: one mapping, used everywhere.

The actor URL, ``Update{actor}``, the outbox, ``featured``, Note URLs, ``Create{Note}`` and
the HTML pages all build from these, so a business or a post reads the same wherever it
appears. It sits below the ways so that read/ (which serves the documents) and outbound/
(which delivers them) share it without importing each other; it takes the store and the
``Urls`` it needs, nothing more.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from fedi_town.business import place, schema_org
from fedi_town.business.hours import (
    Schedule,
    local_date,
    next_change_ms,
    status_at,
    today_text,
)
from fedi_town.business.notice import current_notice
from fedi_town.protocol import activities, documents, quotes
from fedi_town.protocol import events as event_text
from fedi_town.protocol.documents import Document, Image, NoteInput
from fedi_town.protocol.urls import INSTANCE_ACTOR_USERNAME, Urls
from fedi_town.store import events, offers, polls, reads
from fedi_town.store.businesses import Business
from fedi_town.store.db import Store
from fedi_town.store.events import Event
from fedi_town.store.given import Given
from fedi_town.store.media import Media
from fedi_town.store.offers import Offer
from fedi_town.store.posts import Post
from fedi_town.text.render import markdown_to_html


def _image(urls: Urls, media: Media | None) -> Image | None:
    if media is None:
        return None
    return Image(url=urls.media(media.path), media_type=media.media_type)


@dataclass(frozen=True)
class TimedFacts:
    """What of a business reads differently with time alone, fetched once per build: its
    hours, its current offer and its next event (None without a ``now``)."""

    schedule: Schedule
    offer: Offer | None = None
    event: Event | None = None


async def timed_facts(
    store: Store, business: Business, now: int | None, default_zone: str
) -> TimedFacts:
    schedule = Schedule.from_business(business, default_zone)
    if now is None:
        return TimedFacts(schedule)
    offer = next(iter(await offers.current(store, business.id, now, limit=1)), None)
    event = next(iter(await events.upcoming(store, business.id, now, limit=1)), None)
    return TimedFacts(schedule, offer, event)


def live_fields(
    business: Business, now: int | None, schedule: Schedule
) -> tuple[tuple[str, str], ...]:
    """The fields that read differently with time, as (name, HTML) pairs: the notice, open
    now or not ("Open now · until 18:00"), today's hours. None of them without ``now``."""
    if now is None:
        return ()
    pairs: list[tuple[str, str]] = []
    if notice := current_notice(business.notice_text, business.notice_until, now):
        pairs.append(("Notice", html.escape(notice)))
    if status := status_at(schedule, now):
        pairs.append(("Now", html.escape(status.text)))
    if today := today_text(schedule, now):
        pairs.append(("Today", html.escape(today)))
    return tuple(pairs)


def local_business(
    urls: Urls, business: Business, now: int | None, schedule: Schedule
) -> dict[str, Any]:
    """The business in schema.org terms for its actor (``type`` as the type key); empty
    when it gave no structured data, so such an actor reads as before."""
    has_hours = schedule.has_hours or bool(schedule.special)
    if not (
        business.category
        or place.published(business.location, business.service_area)
        or business.service_area
        or has_hours
        or business.email
        or business.price_range
    ):
        return {}
    return schema_org.local_business(
        name=business.display_name,
        url=urls.profile_page(business.username),
        category=business.category,
        telephone=business.phone,
        email=business.email,
        price_range=business.price_range,
        location=business.location,
        service_area=business.service_area,
        schedule=schedule if has_hours else None,
        since=None if now is None else local_date(now, schedule.zone),
        type_key="type",
    )


def _link(url: str, text: str) -> str:
    return f'<a href="{html.escape(url, quote=True)}">{html.escape(text)}</a>'


def listings(
    urls: Urls, business: Business, now: int | None, timed: TimedFacts
) -> tuple[tuple[str, str], ...]:
    """The current offer and the next event as (name, HTML) fields; they leave the actor
    by themselves when the offer expires or the event ends."""
    if now is None:
        return ()
    tz = timed.schedule.zone
    pairs: list[tuple[str, str]] = []
    if offer := timed.offer:
        parts = [_link(urls.offer_page(business.username, offer.id), offer.title)]
        if price := event_text.price_text(offer.price, offer.currency):
            parts.append(html.escape(price))
        if offer.valid_from is not None and offer.valid_from > now:
            parts.append(html.escape(f"from {event_text.moment_text(offer.valid_from, tz, now)}"))
        elif offer.valid_until is not None:
            parts.append(html.escape(f"until {event_text.moment_text(offer.valid_until, tz, now)}"))
        pairs.append(("Offer", " · ".join(parts)))
    if event := timed.event:
        when = event_text.when_text(event.starts_at, event.ends_at, tz, now)
        link = _link(urls.event_page(business.username, event.id), event.title)
        pairs.append(("Event", f"{link} · {html.escape(when)}"))
    return tuple(pairs)


def changes_at(business: Business, now: int, timed: TimedFacts) -> int | None:
    """The next instant (ms) after ``now`` at which the actor may read differently with no
    edit (opening, closing, the next midnight, a notice ending, the offer starting or
    ending, the event ending: then the next one shows); None when nothing in it depends on
    the time."""
    moments: list[int] = []
    if offer := timed.offer:
        moments += [t for t in (offer.valid_from, offer.valid_until) if t is not None and t > now]
    if event := timed.event:
        moments.append(event.ends_at)
    notice_until = business.notice_until if business.notice_text else None
    if timed.schedule.has_hours or timed.schedule.special:
        moments.append(next_change_ms(timed.schedule, now, notice_until))
    elif notice_until is not None and notice_until > now:
        moments.append(notice_until)
    return min(moments, default=None)


def located_at(business: Business) -> documents.Address | None:
    """The published address with its OpenStreetMap link; None with a service area (the
    street is never published then) or without a structured address."""
    if business.service_area:
        return None
    shown = place.published(business.location, None)
    text = place.address_text(shown)
    return documents.Address(text, place.osm_link(shown)) if text else None


async def actor_input(
    store: Store,
    urls: Urls,
    business: Business,
    *,
    now: int | None = None,
    default_zone: str = "UTC",
) -> documents.ActorInput:
    """Everything the actor document says about ``business`` at ``now`` (ms; None: what
    does not depend on the time), URLs minted by ``Urls``."""
    return _actor_input(
        urls,
        business,
        now,
        await timed_facts(store, business, now, default_zone),
        await reads.media_by_ids(store, [business.avatar_media_id, business.header_media_id]),
    )


def _actor_input(
    urls: Urls,
    business: Business,
    now: int | None,
    timed: TimedFacts,
    media: dict[int, Media],
) -> documents.ActorInput:
    name = business.username
    avatar = media.get(business.avatar_media_id) if business.avatar_media_id else None
    header = media.get(business.header_media_id) if business.header_media_id else None
    return documents.ActorInput(
        id=urls.actor(name),
        username=name,
        name=business.display_name,
        summary_html=markdown_to_html(business.summary),
        url=urls.profile_page(name),
        inbox=urls.inbox(name),
        outbox=urls.outbox(name),
        followers=urls.followers(name),
        following=urls.following(name),
        featured=urls.featured(name),
        featured_tags=urls.featured_tags(name),
        shared_inbox=urls.shared_inbox(),
        key_id=urls.key_id(name),
        public_key_pem=business.public_key_pem,
        published_ms=business.created_at,
        manually_approves_followers=business.manually_approves_followers,
        discoverable=business.discoverable,
        indexable=business.indexable,
        icon=_image(urls, avatar),
        image=_image(urls, header),
        website=business.website,
        phone=business.phone,
        address=business.address,
        fields=tuple(
            (str(f.get("name", "")), str(f.get("value", "")))
            for f in business.fields
            if f.get("name") and f.get("value")
        ),
        live_fields=live_fields(business, now, timed.schedule),
        located_at=located_at(business),
        service_area=business.service_area,
        email=business.email,
        listings=listings(urls, business, now, timed),
        local_business=local_business(urls, business, now, timed.schedule),
        type="Service" if business.kind == "directory" else "Organization",
        also_known_as=business.also_known_as,
        moved_to=business.moved_to,
    )


async def actor_document(
    store: Store,
    urls: Urls,
    business: Business,
    *,
    now: int | None = None,
    default_zone: str = "UTC",
) -> Document:
    """The actor of a live business (never its private key), as it reads at ``now`` (ms)."""
    return documents.actor(
        await actor_input(store, urls, business, now=now, default_zone=default_zone)
    )


def departing_actor_document(urls: Urls, business: Business, default_zone: str = "UTC") -> Document:
    """A deleted business while its ``Delete`` is being delivered: ids and key only
    (``documents.departing_actor``); nothing is read from storage."""
    timed = TimedFacts(Schedule.from_business(business, default_zone))
    return documents.departing_actor(_actor_input(urls, business, None, timed, {}))


async def actor_document_and_change(
    store: Store, urls: Urls, business: Business, now: int, default_zone: str = "UTC"
) -> tuple[Document, int | None]:
    """The actor as it reads at ``now``, and when it may next read differently
    (``changes_at``): what the worker sends, and when it looks again, from one fetch."""
    timed = await timed_facts(store, business, now, default_zone)
    media = await reads.media_by_ids(store, [business.avatar_media_id, business.header_media_id])
    document = documents.actor(_actor_input(urls, business, now, timed, media))
    return document, changes_at(business, now, timed)


async def profile_changes_at(
    store: Store, business: Business, now: int, default_zone: str = "UTC"
) -> int | None:
    """When the actor of ``business`` may next read differently with no edit
    (``changes_at``)."""
    return changes_at(business, now, await timed_facts(store, business, now, default_zone))


def instance_actor_document(urls: Urls, *, name: str, public_key_pem: str) -> Document:
    """The instance actor, named ``name`` (the instance's), with its public key."""
    return documents.instance_actor(
        documents.InstanceActorInput(
            id=urls.instance_actor(),
            username=INSTANCE_ACTOR_USERNAME,
            name=name,
            url=urls.front_page(),
            inbox=urls.instance_actor_inbox(),
            outbox=urls.instance_outbox(),
            shared_inbox=urls.shared_inbox(),
            key_id=urls.instance_key_id(),
            public_key_pem=public_key_pem,
        )
    )


def _attachment(urls: Urls, media: Media) -> documents.Attachment:
    return documents.Attachment(
        url=urls.media(media.path),
        media_type=media.media_type,
        description=media.description,
        width=media.width,
        height=media.height,
        blurhash=media.blurhash,
    )


async def note_inputs(
    store: Store, urls: Urls, business: Business, posts: list[Post]
) -> list[NoteInput]:
    """The ``NoteInput`` of each published post, in the same order (media, counts batched)."""
    name = business.username
    ids = [p.id for p in posts]
    media = await reads.media_for_posts(store, ids)
    counts = await reads.interaction_counts(store, ids)
    replies_by_uri = await reads.reply_counts(store, [p.uri for p in posts], business.id)
    questions = await polls.of_posts(store, ids)
    inputs = []
    for post in posts:
        assert post.published_at is not None, "only published posts become Notes"
        replies = replies_by_uri[post.uri]
        inputs.append(
            NoteInput(
                id=urls.post(name, post.id),
                attributed_to=urls.actor(name),
                followers=urls.followers(name),
                url=urls.post_page(name, post.id),
                content_html=post.content_html,
                published_ms=post.published_at,
                visibility=post.visibility,
                language=post.language,
                summary=post.spoiler_text or None,
                sensitive=post.sensitive,
                edited_ms=post.edited_at,
                in_reply_to=post.in_reply_to_uri,
                mentions=tuple(documents.Mention(m["href"], m["name"]) for m in post.mentions),
                hashtags=tuple(
                    documents.Hashtag(urls.tag_page(name, tag), tag) for tag in post.hashtags
                ),
                attachments=tuple(_attachment(urls, m) for m in media.get(post.id, [])),
                replies=urls.post_replies(name, post.id),
                replies_count=replies,
                likes=urls.post_likes(name, post.id),
                likes_count=counts[post.id]["like"],
                shares=urls.post_shares(name, post.id),
                shares_count=counts[post.id]["announce"],
                quote_policy=quotes.effective_policy(
                    post.quote_policy, business.quote_policy, post.visibility
                ),
                quote=post.quote_uri,
                quote_authorization=post.quote_authorization
                if post.quote_state == "accepted"
                else None,
                poll=_poll_input(questions.get(post.id)),
            )
        )
    return inputs


def _poll_input(poll: polls.Poll | None) -> documents.PollInput | None:
    """A post's poll; ``closed`` once its closing Update went (``outbound/polls.py``)."""
    if poll is None:
        return None
    return documents.PollInput(
        options=tuple(poll.options),
        counts=tuple(poll.counts),
        multiple=poll.multiple,
        ends_ms=poll.expires_at,
        voters=poll.voters,
        closed=poll.closed_sent,
    )


async def note_document(store: Store, urls: Urls, business: Business, post: Post) -> Document:
    """The Note of one published post (with ``@context``)."""
    (note_input,) = await note_inputs(store, urls, business, [post])
    return documents.note(note_input)


def announce_document(urls: Urls, username: str, given: Given) -> Document:
    """A business's boost of any post (a ``given_reactions`` row of kind announce): what is
    delivered, served at its id and listed in the outbox, the same everywhere."""
    return activities.announce(
        id=given.activity_uri,
        actor=urls.actor(username),
        followers=urls.followers(username),
        object=given.object_uri,
        object_author=given.author_uri,
        published_ms=given.created_at,
    )
