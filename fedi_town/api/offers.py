"""Admin API for offers (owner or admin token), described in schemas/admin-api.openapi.yaml:

POST   /api/v1/businesses/{username}/offers          write; followers get a post about it
GET    /api/v1/businesses/{username}/offers          newest first, expired ones included
GET    /api/v1/businesses/{username}/offers/{id}
PATCH  /api/v1/businesses/{username}/offers/{id}     change; its post is edited (Update)
DELETE /api/v1/businesses/{username}/offers/{id}     its post is deleted (Delete)

Bodies are checked by ``schemas/offer-*.schema.json``, then here for what a schema cannot
say (times, a price without a currency, the image); every problem is a 422 naming the
field, found before anything is written. The offer and its post are written in one
transaction (``api.announcements``); the routes' flow is ``api.announced``, this module says
what an offer adds to it.
"""

from __future__ import annotations

import logging
from typing import Any

from fedi_town.api import announcements as ann
from fedi_town.api.announced import Kind, shared_values
from fedi_town.api.announcements import problem
from fedi_town.business.hours import business_zone
from fedi_town.protocol.events import local_iso, offer_note_source, wall_time
from fedi_town.protocol.vocabulary import iso8601
from fedi_town.services import Services
from fedi_town.store import offers as offer_store
from fedi_town.store.businesses import Business
from fedi_town.store.offers import Offer
from fedi_town.text.render import markdown_to_html

log = logging.getLogger(__name__)


async def offer_json(services: Services, business: Business, offer: Offer) -> dict[str, Any]:
    """The admin API's JSON for an offer (times in the business's zone)."""
    tz = business_zone(business, services.settings.timezone)
    return {
        "id": str(offer.id),
        "title": offer.title,
        "text": offer.text,
        "text_html": markdown_to_html(offer.text),
        "price": offer.price,
        "currency": offer.currency,
        "valid_from": local_iso(offer.valid_from, tz) if offer.valid_from is not None else None,
        "valid_until": local_iso(offer.valid_until, tz) if offer.valid_until is not None else None,
        "current": offer.is_current(services.now_ms()),
        "media_id": str(offer.media_id) if offer.media_id is not None else None,
        "media": await ann.media_json(services, business, offer.media_id),
        "post_id": str(offer.post_id) if offer.post_id is not None else None,
        "url": services.urls.offer_page(business.username, offer.id),
        "created_at": iso8601(offer.created_at),
        "updated_at": iso8601(offer.updated_at),
    }


def _values(
    services: Services, business: Business, data: dict[str, Any], current: Offer | None
) -> dict[str, Any]:
    """The columns of the offer after ``data`` (all of a new one, or a change of
    ``current``), checked together: 422 naming the first field at fault."""
    tz = business_zone(business, services.settings.timezone)
    now = services.now_ms()
    values = shared_values(data, current, offer_store.EDITABLE)
    for key in ("price", "currency"):
        if key in data:
            values[key] = data[key]
    for key in ("valid_from", "valid_until"):
        if key in data:
            raw = data[key]
            values[key] = wall_time(raw, tz, f"/{key}") if raw is not None else None
    if values.get("price") is not None and not values.get("currency"):
        raise problem("/currency", "a price needs a currency (ISO 4217, e.g. EUR)")
    if values.get("price") is None:
        values["currency"] = None
    until, start = values.get("valid_until"), values.get("valid_from")
    if until is not None:
        if "valid_until" in data and until <= now:
            raise problem("/valid_until", "valid_until is not in the future")
        if start is not None and until <= start:
            raise problem("/valid_until", "valid_until is not after valid_from")
    return values


def _source(services: Services, business: Business, offer_id: int, values: dict[str, Any]) -> str:
    return offer_note_source(
        title=values["title"],
        text=values.get("text") or "",
        price=values.get("price"),
        currency=values.get("currency"),
        valid_from_ms=values.get("valid_from"),
        valid_until_ms=values.get("valid_until"),
        tz=business_zone(business, services.settings.timezone),
        page_url=services.urls.offer_page(business.username, offer_id),
        now_ms=services.now_ms(),
    )


KIND: Kind[Offer] = Kind(
    name="offer",
    plural="offers",
    log=log,
    values=_values,
    source=_source,
    to_json=offer_json,
    insert=lambda store, offer_id, business_id, values, now: offer_store.insert(
        store, offer_id=offer_id, business_id=business_id, values=values, now=now
    ),
    update=offer_store.update,
    mark_deleted=offer_store.mark_deleted,
    by_id=offer_store.by_id,
    page=offer_store.page,
)
routes = KIND.routes()
