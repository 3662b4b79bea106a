"""Offers and events as visitors and peers see them: pages, the AS2 ``Event``, calendars.

    /users/{username}/events/{id}      the AS2 Event (FEP-8a8e); a browser gets the page
    /@{username}/events/{id}           the event's page; an ActivityPub client the Event
    /@{username}/events/{id}.ics       the event as an iCalendar file
    /@{username}/events.ics            the business's upcoming events as one calendar
    /@{username}/offers/{id}           the offer's page

Pages show times in the business's zone, the place with an OpenStreetMap link (no map
script or tile), and schema.org JSON-LD (``Event`` / ``Offer``) escaped so nothing in it can
close its ``<script>``. A deleted offer or event answers 410; one that is over still has its
page (saying so) but leaves the calendar and the listings (``store.offers.current``,
``store.events.upcoming``).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from fedi_town.business.hours import business_zone
from fedi_town.business.schema_org import geo_coordinates, postal_address
from fedi_town.errors import Gone, NotFound
from fedi_town.protocol import activities
from fedi_town.protocol.events import (
    EventInput,
    Picture,
    Place,
    event_document,
    local_iso,
    moment_text,
    price_text,
    when_text,
)
from fedi_town.protocol.ids import path_id
from fedi_town.read.cache import business_group
from fedi_town.read.calendar import MEDIA_TYPE, CalendarEvent, calendar
from fedi_town.read.lookup import find_business, live_business
from fedi_town.read.negotiate import TombstoneGone, browser_errors, serve_document
from fedi_town.read.pages import alternate_link, excerpt
from fedi_town.read.templates import render
from fedi_town.services import Services
from fedi_town.store import events as event_store
from fedi_town.store import media as media_store
from fedi_town.store import offers as offer_store
from fedi_town.store.businesses import Business
from fedi_town.store.document_inputs import actor_input
from fedi_town.store.events import Event
from fedi_town.store.offers import Offer
from fedi_town.text.render import markdown_to_html
from fedi_town.text.sanitize import html_to_text

#: Events in a business's calendar file at most.
CALENDAR_EVENTS = 200


def json_ld(data: dict[str, Any]) -> Markup:
    """JSON for a ``<script type="application/ld+json">``: ``<``, ``>`` and ``&`` written as
    ``\\u003c``… so no value can end the script or open a comment."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 (escaped just above)


async def _picture(services: Services, business: Business, media_id: int | None) -> Picture | None:
    if media_id is None:
        return None
    found = await media_store.by_id(services.store, business.id, media_id)
    if found is None:
        return None
    return Picture(services.urls.media(found.path), found.media_type, found.description)


async def event_input(services: Services, business: Business, event: Event) -> EventInput:
    """The ``EventInput`` of a stored event, URLs minted and its place resolved."""
    urls = services.urls
    name = business.username
    return EventInput(
        id=urls.event(name, event.id),
        url=urls.event_page(name, event.id),
        attributed_to=urls.actor(name),
        followers=urls.followers(name),
        title=event.title,
        content_html=markdown_to_html(event.text),
        starts_ms=event.starts_at,
        ends_ms=event.ends_at,
        timezone=business_zone(business, services.settings.timezone).key,
        place=event_store.place_of(business, event),
        published_ms=event.created_at,
        updated_ms=event.updated_at,
        image=await _picture(services, business, event.media_id),
    )


# -- schema.org -------------------------------------------------------------------------------


def _organizer(services: Services, business: Business) -> dict[str, Any]:
    return {
        "@type": business.category or "LocalBusiness",
        "name": business.display_name,
        "url": services.urls.profile_page(business.username),
    }


def schema_place(place: Place) -> dict[str, Any]:
    """A schema.org ``Place``: its ``PostalAddress`` and ``GeoCoordinates`` built as the
    business's own are (``business.schema_org``; a ``Place``'s fields are location keys)."""
    location = asdict(place)
    doc: dict[str, Any] = {"@type": "Place", "name": place.name or place.address_line}
    parts = {"address": postal_address(location), "geo": geo_coordinates(location)}
    return doc | {key: value for key, value in parts.items() if value is not None}


def event_schema(services: Services, business: Business, e: EventInput) -> dict[str, Any]:
    """The schema.org ``Event`` of an event's page."""
    tz = ZoneInfo(e.timezone)
    doc: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": e.title,
        "description": html_to_text(e.content_html),
        "startDate": local_iso(e.starts_ms, tz),
        "endDate": local_iso(e.ends_ms, tz),
        "eventStatus": "https://schema.org/EventScheduled",
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "url": e.url,
        "organizer": _organizer(services, business),
    }
    if e.place is not None:
        doc["location"] = schema_place(e.place)
    if e.image is not None:
        doc["image"] = e.image.url
    return doc


def offer_schema(
    services: Services, business: Business, offer: Offer, image: Picture | None
) -> dict[str, Any]:
    """The schema.org ``Offer`` of an offer's page."""
    tz = business_zone(business, services.settings.timezone)
    doc: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Offer",
        "name": offer.title,
        "description": html_to_text(markdown_to_html(offer.text)),
        "url": services.urls.offer_page(business.username, offer.id),
        "seller": _organizer(services, business),
    }
    if offer.price is not None:
        doc["price"] = offer.price
        doc["priceCurrency"] = offer.currency
    if offer.valid_from is not None:
        doc["validFrom"] = local_iso(offer.valid_from, tz)
    if offer.valid_until is not None:
        doc["validThrough"] = local_iso(offer.valid_until, tz)
    if image is not None:
        doc["image"] = image.url
    return doc


# -- finding ----------------------------------------------------------------------------------


async def _event(services: Services, request: Request) -> tuple[Business, Event]:
    """The event the URL names: 404 if none, 410 (a Tombstone) when it or its business went."""
    business = await find_business(services, request)
    event_id = path_id(request.path_params["event_id"], "event")
    event = await event_store.by_id(services.store, business.id, event_id, include_deleted=True)
    if event is None:
        raise NotFound("there is no such event")
    deleted = event.deleted_at or business.deleted_at
    if deleted is not None:
        event_uri = services.urls.event(business.username, event.id)
        raise TombstoneGone(activities.tombstone(event_uri, "Event", int(deleted)))
    return business, event


# -- endpoints --------------------------------------------------------------------------------


async def event_page(request: Request) -> Response:
    """An event's page: when (in the business's zone), where, what, add to calendar."""
    services: Services = request.app.state.services
    business, event = await _event(services, request)
    e = await event_input(services, business, event)
    tz = ZoneInfo(e.timezone)
    now = services.now_ms()
    place = e.place
    context = {
        "business": business,
        "actor": await actor_input(services.store, services.urls, business),
        "handle": services.urls.handle(business.username),
        "event": e,
        "content": Markup(e.content_html),  # noqa: S704 (markdown_to_html sanitises)
        "description": excerpt(e.content_html) or e.title,
        "when": when_text(e.starts_ms, e.ends_ms, tz, now),
        "start_iso": local_iso(e.starts_ms, tz),
        "end_iso": local_iso(e.ends_ms, tz),
        "over": not event.is_upcoming(now),
        "place": place,
        "at_the_shop": event.place is None,
        "map_url": place.map_url() if place else None,
        "ics_url": services.urls.event_ics(business.username, event.id),
        "post_url": services.urls.post_page(business.username, event.post_id)
        if event.post_id
        else None,
        "json_ld": json_ld(event_schema(services, business, e)),
    }
    headers = alternate_link(e.id)
    return render(request, "event.html", context, headers=headers)


async def event_object(request: Request) -> Response:
    """The AS2 ``Event`` at its id and at its page URL; browsers get the page."""
    services: Services = request.app.state.services

    async def build(fetcher: str | None) -> dict[str, Any]:
        business, event = await _event(services, request)
        return event_document(await event_input(services, business, event))

    group = business_group(str(request.path_params["username"]))
    return await serve_document(request, build, page=lambda: event_page(request), cache_group=group)


def _calendar_response(body: bytes, filename: str) -> Response:
    return Response(
        body,
        media_type=MEDIA_TYPE,
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "public, max-age=300",
        },
    )


def _calendar_event(services: Services, business: Business, e: EventInput) -> CalendarEvent:
    return CalendarEvent(
        uid=e.id,
        url=e.url,
        title=e.title,
        description=html_to_text(e.content_html).strip(),
        starts_ms=e.starts_ms,
        ends_ms=e.ends_ms,
        tz=ZoneInfo(e.timezone),
        place=e.place,
        updated_ms=e.updated_ms,
    )


@browser_errors
async def event_ics(request: Request) -> Response:
    """One event as an iCalendar file (an event that is over still has its file)."""
    services: Services = request.app.state.services
    try:
        business, event = await _event(services, request)
    except TombstoneGone as gone:
        raise Gone(str(gone.detail)) from None
    e = await event_input(services, business, event)
    body = calendar([_calendar_event(services, business, e)], name=business.display_name)
    return _calendar_response(body, f"{business.username}-{event.id}.ics")


@browser_errors
async def calendar_ics(request: Request) -> Response:
    """A business's upcoming events (not over at this moment) as one calendar to subscribe
    to."""
    services: Services = request.app.state.services
    business = await live_business(services, request)
    found = await event_store.upcoming(
        services.store, business.id, services.now_ms(), limit=CALENDAR_EVENTS
    )
    items = [
        _calendar_event(services, business, await event_input(services, business, event))
        for event in found
    ]
    body = calendar(items, name=business.display_name)
    return _calendar_response(body, f"{business.username}.ics")


@browser_errors
async def offer_page(request: Request) -> Response:
    """An offer's page: price, from and until when (in the business's zone), what."""
    services: Services = request.app.state.services
    business = await live_business(services, request)
    offer_id = path_id(request.path_params["offer_id"], "offer")
    offer = await offer_store.by_id(services.store, business.id, offer_id, include_deleted=True)
    if offer is None:
        raise NotFound("there is no such offer")
    if offer.deleted_at is not None:
        raise Gone("this offer was withdrawn")
    tz = business_zone(business, services.settings.timezone)
    now = services.now_ms()
    image = await _picture(services, business, offer.media_id)
    content_html = markdown_to_html(offer.text)
    context = {
        "business": business,
        "actor": await actor_input(services.store, services.urls, business),
        "handle": services.urls.handle(business.username),
        "offer": offer,
        "url": services.urls.offer_page(business.username, offer.id),
        "content": Markup(content_html),  # noqa: S704 (markdown_to_html sanitises)
        "description": excerpt(content_html) or offer.title,
        "price": price_text(offer.price, offer.currency),
        "valid_from": moment_text(offer.valid_from, tz, now) if offer.valid_from else None,
        "valid_from_iso": local_iso(offer.valid_from, tz) if offer.valid_from else None,
        "valid_until": moment_text(offer.valid_until, tz, now) if offer.valid_until else None,
        "valid_until_iso": local_iso(offer.valid_until, tz) if offer.valid_until else None,
        "over": not offer.is_current(now),
        "image": image,
        "post_url": services.urls.post_page(business.username, offer.post_id)
        if offer.post_id
        else None,
        "json_ld": json_ld(offer_schema(services, business, offer, image)),
    }
    return render(request, "offer.html", context)


class _IdRoute(Route):
    """A route whose ``{param}`` must be ASCII digits (else no match, so ``…/{id}.ics``
    and ``…/{id}`` never take each other's paths and a word is a plain 404)."""

    def __init__(self, path: str, endpoint: Any, param: str) -> None:
        super().__init__(path, endpoint, methods=["GET"])
        self.param = param

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE and not _DIGITS.fullmatch(
            child_scope["path_params"][self.param]
        ):
            return Match.NONE, {}
        return match, child_scope


_DIGITS = re.compile("[0-9]+")
routes = [
    _IdRoute("/users/{username}/events/{event_id}", event_object, "event_id"),
    _IdRoute("/@{username}/events/{event_id}.ics", event_ics, "event_id"),
    _IdRoute("/@{username}/events/{event_id}", event_object, "event_id"),
    Route("/@{username}/events.ics", calendar_ics, methods=["GET"]),
    _IdRoute("/@{username}/offers/{offer_id}", offer_page, "offer_id"),
]
