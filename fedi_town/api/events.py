"""Admin API for events (owner or admin token), described in schemas/admin-api.openapi.yaml:

POST   /api/v1/businesses/{username}/events          write; followers get a post about it
GET    /api/v1/businesses/{username}/events          newest first, past ones included
GET    /api/v1/businesses/{username}/events/{id}
PATCH  /api/v1/businesses/{username}/events/{id}     change; its post is edited (Update)
DELETE /api/v1/businesses/{username}/events/{id}     its post is deleted (Delete)

Bodies are checked by ``schemas/event-*.schema.json`` (coordinates in range there), then
here: ``start`` and ``end`` are ISO 8601 with an offset, or local times read in the
business's zone; the end must come after the start and be in the future. Every problem is a
422 naming the field, found before anything is written; the event and its post are written
in one transaction (``api.announcements``).
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.api import announcements as ann
from fedi_town.api.announcements import problem
from fedi_town.api.auth import require_business
from fedi_town.errors import NotFound
from fedi_town.protocol.events import Place, event_note_source, local_iso, wall_time
from fedi_town.protocol.ids import path_id, query_id, query_limit
from fedi_town.protocol.vocabulary import iso8601
from fedi_town.schemas import validate
from fedi_town.services import Services
from fedi_town.store import events as event_store
from fedi_town.store.businesses import Business
from fedi_town.store.db import new_id
from fedi_town.store.events import Event
from fedi_town.text.render import markdown_to_html
from fedi_town.web import json_response, read_json

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 20
MAX_LIMIT = 40
PLACE_KEYS = (
    "name",
    "street_address",
    "locality",
    "region",
    "postal_code",
    "country",
    "latitude",
    "longitude",
)


async def event_json(services: Services, business: Business, event: Event) -> dict[str, Any]:
    """The admin API's JSON for an event (times in the business's zone)."""
    tz = ann.business_zone(services, business)
    urls = services.urls
    return {
        "id": str(event.id),
        "uri": urls.event(business.username, event.id),
        "title": event.title,
        "text": event.text,
        "text_html": markdown_to_html(event.text),
        "start": local_iso(event.starts_at, tz),
        "end": local_iso(event.ends_at, tz),
        "timezone": tz.key,
        "place": event.place,
        "upcoming": event.is_upcoming(services.now_ms()),
        "media_id": str(event.media_id) if event.media_id is not None else None,
        "media": await ann.media_json(services, business, event.media_id),
        "post_id": str(event.post_id) if event.post_id is not None else None,
        "url": urls.event_page(business.username, event.id),
        "ics": urls.event_ics(business.username, event.id),
        "created_at": iso8601(event.created_at),
        "updated_at": iso8601(event.updated_at),
    }


def _place(raw: Any) -> dict[str, Any] | None:
    """A place as stored: its non-empty keys (text trimmed), or None for the business."""
    if raw is None:
        return None
    place: dict[str, Any] = {}
    for key in PLACE_KEYS:
        value = raw.get(key)
        if isinstance(value, str):
            value = " ".join(value.split())
        if value is not None and value != "":
            place[key] = value
    if not place.get("name"):
        raise problem("/place/name", "a place needs a name")
    if ("latitude" in place) != ("longitude" in place):
        missing = "longitude" if "latitude" in place else "latitude"
        raise problem(f"/place/{missing}", "give both latitude and longitude, or neither")
    return place


def _values(
    services: Services, business: Business, data: dict[str, Any], current: Event | None
) -> dict[str, Any]:
    """The columns of the event after ``data`` (all of a new one, or a change of
    ``current``), checked together: 422 naming the first field at fault."""
    tz = ann.business_zone(services, business)
    values: dict[str, Any] = {}
    if current is not None:
        values = {k: getattr(current, k) for k in event_store.EDITABLE}
    if "title" in data:
        values["title"] = " ".join(str(data["title"]).split())
        if not values["title"]:
            raise problem("/title", "title is empty")
    if "text" in data:
        values["text"] = str(data["text"]).strip()
    if "start" in data:
        values["starts_at"] = wall_time(str(data["start"]), tz, "/start")
    if "end" in data:
        values["ends_at"] = wall_time(str(data["end"]), tz, "/end")
    if "place" in data:
        values["place"] = _place(data["place"])
    if values["ends_at"] <= values["starts_at"]:
        raise problem("/end", "end is not after start")
    if ("start" in data or "end" in data) and values["ends_at"] <= services.now_ms():
        raise problem("/end", "end is in the past")
    return values


def _source(services: Services, business: Business, event_id: int, values: dict[str, Any]) -> str:
    place = values.get("place")
    urls = services.urls
    return event_note_source(
        title=values["title"],
        text=values.get("text") or "",
        starts_ms=values["starts_at"],
        ends_ms=values["ends_at"],
        tz=ann.business_zone(services, business),
        place=Place.from_json(place) if place else event_store.home_place(business),
        at_the_shop=place is None,
        page_url=urls.event_page(business.username, event_id),
        ics_url=urls.event_ics(business.username, event_id),
        now_ms=services.now_ms(),
    )


async def create(request: Request) -> Response:
    services: Services = request.app.state.services
    business = await require_business(request, services, request.path_params["username"])
    data = await read_json(request, services.settings.max_body_bytes)
    validate("event-create", data)
    values = _values(services, business, data, None)
    media = await ann.check_media(services, business, data.get("media_id"), None)
    now = services.now_ms()
    event_id = new_id(now)
    async with services.store.transaction():
        post = await ann.publish(
            services, business, _source(services, business, event_id, values), media
        )
        values |= {"media_id": media.id if media else None, "post_id": post.id}
        event = await event_store.insert(
            services.store, event_id=event_id, business_id=business.id, values=values, now=now
        )
        await ann.listed(services, business)
    log.info("business %s published event %d (post %d)", business.username, event_id, post.id)
    location = f"/api/v1/businesses/{business.username}/events/{event.id}"
    return json_response(
        await event_json(services, business, event), 201, headers={"Location": location}
    )


async def list_events(request: Request) -> Response:
    services: Services = request.app.state.services
    business = await require_business(request, services, request.path_params["username"])
    params = request.query_params
    limit = query_limit(params.get("limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    max_id = query_id(params.get("max_id"), "max_id")
    found = await event_store.page(services.store, business.id, max_id=max_id, limit=limit)
    items = [await event_json(services, business, e) for e in found]
    next_url = None
    if len(found) == limit:
        next_url = (
            f"/api/v1/businesses/{business.username}/events?max_id={found[-1].id}&limit={limit}"
        )
    return json_response({"items": items, "next": next_url})


async def _business_and_event(request: Request) -> tuple[Services, Business, Event]:
    services: Services = request.app.state.services
    business = await require_business(request, services, request.path_params["username"])
    event_id = path_id(request.path_params["id"], "event")
    event = await event_store.by_id(services.store, business.id, event_id)
    if event is None:
        raise NotFound("no such event")
    return services, business, event


async def get_one(request: Request) -> Response:
    services, business, event = await _business_and_event(request)
    return json_response(await event_json(services, business, event))


async def patch(request: Request) -> Response:
    services, business, event = await _business_and_event(request)
    data = await read_json(request, services.settings.max_body_bytes)
    validate("event-update", data)
    values = _values(services, business, data, event)
    media = await ann.changed_media(services, business, data, event.media_id, event.post_id)
    values["media_id"] = media.id if media else None
    changes = {k: v for k, v in values.items() if getattr(event, k) != v}
    async with services.store.transaction():
        await event_store.update(services.store, event.id, changes, services.now_ms())
        await ann.republish(
            services,
            business,
            event.post_id,
            _source(services, business, event.id, values),
            media,
        )
    changed = await event_store.by_id(services.store, business.id, event.id)
    assert changed is not None
    return json_response(await event_json(services, business, changed))


async def delete(request: Request) -> Response:
    services, business, event = await _business_and_event(request)
    async with services.store.transaction():
        await event_store.mark_deleted(services.store, event.id, services.now_ms())
        await ann.withdraw(services, business, event.post_id)
    log.info("business %s deleted event %d", business.username, event.id)
    return Response(status_code=204)


_BASE = "/api/v1/businesses/{username}/events"
routes = [
    Route(_BASE, create, methods=["POST"]),
    Route(_BASE, list_events, methods=["GET"]),
    Route(_BASE + "/{id}", get_one, methods=["GET"]),
    Route(_BASE + "/{id}", patch, methods=["PATCH"]),
    Route(_BASE + "/{id}", delete, methods=["DELETE"]),
]
