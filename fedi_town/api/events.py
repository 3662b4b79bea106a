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
in one transaction (``api.announcements``); the routes' flow is ``api.announced``, this
module says what an event adds to it.
"""

from __future__ import annotations

import logging
from typing import Any

from fedi_town.api import announcements as ann
from fedi_town.api.announced import Kind, shared_values
from fedi_town.api.announcements import problem
from fedi_town.business.hours import business_zone
from fedi_town.protocol.events import Place, event_note_source, local_iso, wall_time
from fedi_town.protocol.vocabulary import iso8601
from fedi_town.services import Services
from fedi_town.store import events as event_store
from fedi_town.store.businesses import Business
from fedi_town.store.events import Event
from fedi_town.text.render import markdown_to_html

log = logging.getLogger(__name__)

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
    tz = business_zone(business, services.settings.timezone)
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
    tz = business_zone(business, services.settings.timezone)
    values = shared_values(data, current, event_store.EDITABLE)
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
        tz=business_zone(business, services.settings.timezone),
        place=Place.from_json(place) if place else event_store.home_place(business),
        at_the_shop=place is None,
        page_url=urls.event_page(business.username, event_id),
        ics_url=urls.event_ics(business.username, event_id),
        now_ms=services.now_ms(),
    )


KIND: Kind[Event] = Kind(
    name="event",
    plural="events",
    log=log,
    values=_values,
    source=_source,
    to_json=event_json,
    insert=lambda store, event_id, business_id, values, now: event_store.insert(
        store, event_id=event_id, business_id=business_id, values=values, now=now
    ),
    update=event_store.update,
    mark_deleted=event_store.mark_deleted,
    by_id=event_store.by_id,
    page=event_store.page,
)
routes = KIND.routes()
