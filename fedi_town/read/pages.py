"""HTML pages: the front page, a business profile, a post, a tag. No JavaScript needed.

Post HTML (``posts.content_html``) and bios went through the sanitiser when written, so the
templates show them as they are; replies from other servers are sanitised once more here.
Pages carry ``<link rel="alternate" type="application/activity+json">`` (and the same as a
``Link`` header), which Mastodon follows when someone pastes a page URL (interop W9).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.business import schema_org
from fedi_town.business.categories import label as category_label
from fedi_town.business.hours import (
    Schedule,
    Status,
    business_zone,
    local_date,
    status_at,
    week_rows,
)
from fedi_town.business.notice import current_notice
from fedi_town.business.place import (
    TEXT_KEYS,
    coordinates,
    osm_link,
    postcode_style,
    published,
)
from fedi_town.errors import Gone, NotFound
from fedi_town.protocol import documents
from fedi_town.protocol import events as event_text
from fedi_town.protocol.documents import NoteInput
from fedi_town.protocol.ids import path_id
from fedi_town.read import high_street, note_view
from fedi_town.read.lookup import find_business, live_business
from fedi_town.read.negotiate import browser_errors
from fedi_town.read.templates import render
from fedi_town.services import Services
from fedi_town.store import directory as store_directory
from fedi_town.store import events as event_store
from fedi_town.store import offers as offer_store
from fedi_town.store import reads
from fedi_town.store.businesses import Business
from fedi_town.store.document_inputs import actor_input, note_inputs
from fedi_town.store.posts import Post
from fedi_town.store.reads import PUBLIC_VISIBILITIES
from fedi_town.text.compose import is_hashtag, normal_tag
from fedi_town.text.emoji import sanitize_with_emoji
from fedi_town.text.render import markdown_to_html
from fedi_town.text.sanitize import html_to_text

RECENT_POSTS = 20
PINNED_ON_PROFILE = 5
EXCERPT_CHARS = 200
#: offers and events listed on a profile page (each)
LISTED = 5
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class PostCard:
    """A post as a page shows it."""

    note: NoteInput
    pinned: bool = False
    #: the business's IANA zone: post times read as its wall clock (``local_datetime``)
    zone: str = "UTC"

    @property
    def content(self) -> Markup:
        return Markup(self.note.content_html)  # noqa: S704 (sanitised when written)

    @property
    def images(self) -> list[documents.Attachment]:
        return [a for a in self.note.attachments if a.media_type.startswith("image/")]

    @property
    def files(self) -> list[documents.Attachment]:
        return [a for a in self.note.attachments if not a.media_type.startswith("image/")]


@dataclass(frozen=True)
class ReplyCard:
    """A reply from another server, with its author."""

    author_name: str
    author_handle: str
    author_url: str
    summary: Markup | None
    content: Markup
    url: str
    published_ms: int
    #: read/note_view.py's shapes, as the owner's pages show them
    poll: dict[str, Any] | None = None
    attachments: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True)
class Listing:
    """A current offer or an upcoming event as the profile page lists it."""

    title: str
    url: str
    #: "£5.00 · until Sat 5 Dec, 18:00 GMT", "Sat 12 Dec, 10:00–16:00 CET"
    detail: str
    #: the event's .ics, None for an offer
    calendar: str | None = None


async def listings(
    services: Services, business: Business, now: int
) -> tuple[list[Listing], list[Listing]]:
    """The offers still valid and the events not over, soonest first, as the page shows
    them; what has expired is gone by itself (the queries take ``now``)."""
    urls = services.urls
    name = business.username
    tz = business_zone(business, services.settings.timezone)
    offers = []
    for offer in await offer_store.current(services.store, business.id, now, limit=LISTED):
        parts = [event_text.price_text(offer.price, offer.currency) or ""]
        if offer.valid_from is not None and offer.valid_from > now:
            parts.append(f"from {event_text.moment_text(offer.valid_from, tz, now)}")
        if offer.valid_until is not None:
            parts.append(f"until {event_text.moment_text(offer.valid_until, tz, now)}")
        offers.append(
            Listing(offer.title, urls.offer_page(name, offer.id), " · ".join(p for p in parts if p))
        )
    events = [
        Listing(
            event.title,
            urls.event_page(name, event.id),
            event_text.when_text(event.starts_at, event.ends_at, tz, now),
            urls.event_ics(name, event.id),
        )
        for event in await event_store.upcoming(services.store, business.id, now, limit=LISTED)
    ]
    return offers, events


@dataclass(frozen=True)
class BusinessCard:
    """A business in the front page list."""

    name: str
    handle: str
    url: str
    avatar_url: str | None
    excerpt: str
    #: open now or not ("Open now · until 18:00"); None without hours
    status: Status | None = None


def excerpt(html: str, limit: int = EXCERPT_CHARS) -> str:
    """Plain text of some HTML, cut at a word near ``limit`` characters."""
    text = " ".join(html_to_text(html).split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "…"


def web_url(url: str | None, fallback: str) -> str:
    """A link taken from another server's data if it is http(s), else ``fallback``.

    Escaping does not stop a ``javascript:`` href; checking the scheme does.
    """
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return fallback


def alternate_link(url: str) -> dict[str, str]:
    """The ``Link`` header pointing a fetcher at the ActivityStreams form of a page."""
    return {"Link": f'<{url}>; rel="alternate"; type="application/activity+json"'}


@dataclass(frozen=True)
class HoursRow:
    """A day in the profile's hours table: "Today" or "Tue 24 Nov", and its hours."""

    label: str
    text: str
    today: bool
    special: bool


@dataclass(frozen=True)
class BusinessFacts:
    """What the profile page says about a business beyond its bio, at one instant, in the
    business's zone. Only published parts of its location (``place.published``)."""

    category: str | None
    price_range: str | None
    notice: str | None
    status: Status | None
    hours: list[HoursRow]
    zone: str
    #: the published location's text parts (street_address, locality, ...; None when not
    #: given or private), or None when nothing of it is published
    location: dict[str, Any] | None
    #: where the postal code goes for its country (``place.postcode_style``)
    postcode_style: str
    coordinates: tuple[float, float] | None
    map_url: str | None
    service_area: str | None
    #: the old free-text address, shown when there is no structured one
    address_text: str | None
    phone: Markup | None
    email: str | None
    website: str | None

    @property
    def contact(self) -> bool:
        return bool(
            self.location
            or self.service_area
            or self.address_text
            or self.phone
            or self.email
            or self.website
        )


def _day_label(day: date, name: str, today: bool) -> str:
    return "Today" if today else f"{name} {day.day} {MONTHS[day.month - 1]}"


def business_facts(
    business: Business, actor: documents.ActorInput, now: int, default_zone: str
) -> tuple[BusinessFacts, Markup | None]:
    """The profile's facts and its schema.org JSON-LD (None for a business that gave no
    structured data: its page stays as it was)."""
    schedule = Schedule.from_business(business, default_zone)
    rows = week_rows(schedule, now)
    shown = published(business.location, business.service_area)
    website = web_url(business.website, "") or None
    facts = BusinessFacts(
        category=category_label(business.category),
        price_range=business.price_range or None,
        notice=current_notice(business.notice_text, business.notice_until, now),
        status=status_at(schedule, now),
        hours=[
            HoursRow(_day_label(r.day, r.name, r.today), r.text, r.today, r.special)
            for r in rows
            if schedule.has_hours or r.special
        ],
        zone=schedule.zone.key,
        location={key: shown.get(key) for key in TEXT_KEYS} if shown else None,
        postcode_style=postcode_style(shown.get("country")),
        coordinates=coordinates(shown),
        map_url=osm_link(shown),
        service_area=business.service_area or None,
        address_text=None if shown or business.service_area else business.address or None,
        phone=Markup(documents.phone_html(business.phone)) if business.phone else None,  # noqa: S704 (escaped there)
        email=business.email or None,
        website=website,
    )
    structured = (
        business.category
        or shown
        or business.service_area
        or business.hours
        or business.special_hours
        or business.email
        or business.price_range
    )
    if not structured:
        return facts, None
    document = {"@context": "https://schema.org"} | schema_org.local_business(
        name=business.display_name,
        url=actor.url,
        category=business.category,
        description=excerpt(actor.summary_html, 500) or None,
        telephone=business.phone,
        email=business.email,
        website=website,
        price_range=business.price_range,
        location=business.location,
        service_area=business.service_area,
        schedule=schedule,
        image=actor.icon.url if actor.icon else None,
        since=local_date(now, schedule.zone),
    )
    return facts, Markup(schema_org.script_text(document))  # noqa: S704 (<, >, & escaped)


async def _cards(
    services: Services, business: Business, posts: list[Post], pinned_ids: set[int]
) -> list[PostCard]:
    inputs = await note_inputs(services.store, services.urls, business, posts)
    zone = business_zone(business, services.settings.timezone).key
    return [PostCard(n, p.id in pinned_ids, zone) for p, n in zip(posts, inputs, strict=True)]


async def _business_context(services: Services, business: Business) -> dict[str, Any]:
    """What every page of a business shows about it: name, avatar, handle, the owner's own
    fields (the profile's facts show the website, phone, address and notice)."""
    actor = await actor_input(
        services.store,
        services.urls,
        business,
        now=services.now_ms(),
        default_zone=services.settings.timezone,
    )
    fields = [
        (name, Markup(documents.field_value_html(value)))  # noqa: S704 (escaped there)
        for name, value in actor.fields
    ]
    return {
        "business": business,
        "actor": actor,
        "handle": services.urls.handle(business.username),
        "summary": Markup(actor.summary_html),  # noqa: S704 (markdown_to_html sanitises)
        "summary_text": excerpt(actor.summary_html),
        "fields": fields,
        "zone": business_zone(business, services.settings.timezone).key,
    }


async def profile(
    request: Request, *, follow_error: str | None = None, handle_value: str = "", status: int = 200
) -> Response:
    """A business's page: profile, follow form, pinned then recent public posts."""
    services: Services = request.app.state.services
    business = await find_business(services, request)
    if business.deleted_at is not None:
        raise Gone(f"{business.username} has left this server")
    store = services.store
    pinned = await reads.pinned_posts(store, business.id, limit=PINNED_ON_PROFILE)
    pinned_ids = {p.id for p in pinned}
    recent = await reads.posts_page(store, business.id, limit=RECENT_POSTS)
    posts = pinned + [p for p in recent if p.id not in pinned_ids]
    context = await _business_context(services, business)
    facts, json_ld = business_facts(
        business, context["actor"], services.now_ms(), services.settings.timezone
    )
    offers, events = await listings(services, business, services.now_ms())
    context |= {
        "facts": facts,
        "json_ld": json_ld,
        "offers": offers,
        "events": events,
        "posts": await _cards(services, business, posts, pinned_ids),
        "followers": await reads.count_followers(store, business.id),
        "posts_count": await reads.count_posts(store, business.id),
        "follow_error": follow_error,
        "handle_value": handle_value,
    }
    headers = alternate_link(services.urls.actor(business.username))
    return render(request, "profile.html", context, status=status, headers=headers)


async def post(request: Request) -> Response:
    """One public post with its attachments, counts and replies."""
    services: Services = request.app.state.services
    business = await find_business(services, request)
    post_id = path_id(request.path_params["post_id"], "post")
    found = await reads.post_by_id(services.store, business.id, post_id)
    if found is None or found.published_at is None or found.visibility not in PUBLIC_VISIBILITIES:
        raise NotFound("there is no such post")
    if found.deleted_at is not None or business.deleted_at is not None:
        raise Gone("this post was deleted")
    (card,) = await _cards(services, business, [found], set())
    rows = await reads.replies_for_display(services.store, found.uri, business.id)
    kept = await note_view.kept_emoji(services.store, [r.emojis for r in rows])
    zone = business_zone(business, services.settings.timezone)
    now = services.now_ms()

    def when(iso: str) -> str:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(zone)
        return f"{moment:%a} {moment.day} {moment:%b %Y, %H:%M}"

    replies = [
        ReplyCard(
            author_name=r.actor_display_name or r.actor_username or r.actor_uri,
            author_handle=f"@{r.actor_username}@{r.actor_domain}" if r.actor_username else "",
            author_url=web_url(r.actor_url, web_url(r.actor_uri, "#")),
            summary=Markup(  # noqa: S704 (escaped, then sanitised; the only images: our emoji)
                sanitize_with_emoji(
                    note_view.summary_html(r.summary, note_view.shortcodes(r.emojis, kept)) or ""
                )
            )
            if r.summary
            else None,
            content=Markup(  # noqa: S704 (sanitised just now; the only images: our emoji)
                sanitize_with_emoji(note_view.with_emoji(r.content_html, r.emojis, kept))
            ),
            url=web_url(r.url, web_url(r.uri, "#")),
            published_ms=r.published_at,
            poll=note_view.poll_display(note_view.poll_json(r.poll, now), when) if r.poll else None,
            attachments=tuple(note_view.attachments_display(r.attachments)),
        )
        for r in rows
    ]
    context = await _business_context(services, business)
    context |= {"post": card, "replies": replies, "post_text": excerpt(found.content_html)}
    headers = alternate_link(services.urls.post(business.username, found.id))
    return render(request, "post.html", context, headers=headers)


@browser_errors
async def tag(request: Request) -> Response:
    """``/@{username}/tagged/{tag}``: a business's public posts with a hashtag."""
    services: Services = request.app.state.services
    business = await live_business(services, request)
    name = normal_tag(str(request.path_params["tag"]).lstrip("#"))
    if not is_hashtag(name):  # NUL, spaces, RTL marks: no post can carry it
        raise NotFound("there is no such tag")
    posts = await reads.tagged_posts(services.store, business.id, name)
    context = await _business_context(services, business)
    context |= {"tag": name, "posts": await _cards(services, business, posts, set())}
    return render(request, "tag.html", context)


async def front(request: Request) -> Response:
    """``/``: what this instance is and its high street: the member businesses by category,
    searched (``?q=``) and filtered (``?category=``; see ``read.high_street``)."""
    services: Services = request.app.state.services
    urls = services.urls
    members = await store_directory.members(services.store)
    query = high_street.Query.from_params(request.query_params)
    now = services.now_ms()
    zone = services.settings.timezone
    chosen = high_street.filters(query, lambda b: urls.handle(b.username), now, zone)
    listed = high_street.narrow(members, chosen)
    media = await reads.media_by_ids(services.store, [b.avatar_media_id for b in listed])
    cards: list[tuple[str | None, BusinessCard]] = []
    for b in listed:
        avatar = media.get(b.avatar_media_id) if b.avatar_media_id else None
        card = BusinessCard(
            name=b.display_name,
            handle=urls.handle(b.username),
            url=urls.profile_page(b.username),
            avatar_url=urls.media(avatar.path) if avatar else None,
            excerpt=excerpt(markdown_to_html(b.summary)),
            status=high_street.status(b, now, zone),
        )
        cards.append((b.category, card))
    directory = await store_directory.find(services.store)
    context = {
        "groups": high_street.grouped(cards),
        "categories": high_street.categories(members),
        "query": query,
        "members_count": len(members),
        "listed_count": len(listed),
        "directory": None
        if directory is None
        else BusinessCard(
            name=directory.display_name,
            handle=urls.handle(directory.username),
            url=urls.profile_page(directory.username),
            avatar_url=None,
            excerpt="",
        ),
    }
    return render(request, "front.html", context)


routes = [
    Route("/", front, methods=["GET"]),
    Route("/@{username}/tagged/{tag}", tag, methods=["GET"]),
]
