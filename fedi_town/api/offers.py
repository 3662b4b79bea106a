"""Admin API for offers (owner or admin token), described in schemas/admin-api.openapi.yaml:

POST   /api/v1/businesses/{username}/offers          write; followers get a post about it
GET    /api/v1/businesses/{username}/offers          newest first, expired ones included
GET    /api/v1/businesses/{username}/offers/{id}
PATCH  /api/v1/businesses/{username}/offers/{id}     change; its post is edited (Update)
DELETE /api/v1/businesses/{username}/offers/{id}     its post is deleted (Delete)

Bodies are checked by ``schemas/offer-*.schema.json``, then here for what a schema cannot
say (times, a price without a currency, the image); every problem is a 422 naming the
field, found before anything is written. The offer and its post are written in one
transaction (``api.announcements``).
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
from fedi_town.protocol.events import local_iso, offer_note_source, wall_time
from fedi_town.protocol.ids import path_id, query_id, query_limit
from fedi_town.protocol.vocabulary import iso8601
from fedi_town.schemas import validate
from fedi_town.services import Services
from fedi_town.store import offers as offer_store
from fedi_town.store.businesses import Business
from fedi_town.store.db import new_id
from fedi_town.store.offers import Offer
from fedi_town.text.render import markdown_to_html
from fedi_town.web import json_response, read_json

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 20
MAX_LIMIT = 40


async def offer_json(services: Services, business: Business, offer: Offer) -> dict[str, Any]:
    """The admin API's JSON for an offer (times in the business's zone)."""
    tz = ann.business_zone(services, business)
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
    tz = ann.business_zone(services, business)
    now = services.now_ms()
    values: dict[str, Any] = {}
    if current is not None:
        values = {k: getattr(current, k) for k in offer_store.EDITABLE}
    if "title" in data:
        values["title"] = " ".join(str(data["title"]).split())
        if not values["title"]:
            raise problem("/title", "title is empty")
    if "text" in data:
        values["text"] = str(data["text"]).strip()
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
        tz=ann.business_zone(services, business),
        page_url=services.urls.offer_page(business.username, offer_id),
        now_ms=services.now_ms(),
    )


async def create(request: Request) -> Response:
    services: Services = request.app.state.services
    business = await require_business(request, services, request.path_params["username"])
    data = await read_json(request, services.settings.max_body_bytes)
    validate("offer-create", data)
    values = _values(services, business, data, None)
    media = await ann.check_media(services, business, data.get("media_id"), None)
    now = services.now_ms()
    offer_id = new_id(now)
    async with services.store.transaction():
        post = await ann.publish(
            services, business, _source(services, business, offer_id, values), media
        )
        values |= {"media_id": media.id if media else None, "post_id": post.id}
        offer = await offer_store.insert(
            services.store, offer_id=offer_id, business_id=business.id, values=values, now=now
        )
        await ann.listed(services, business)
    log.info("business %s published offer %d (post %d)", business.username, offer_id, post.id)
    location = f"/api/v1/businesses/{business.username}/offers/{offer.id}"
    return json_response(
        await offer_json(services, business, offer), 201, headers={"Location": location}
    )


async def list_offers(request: Request) -> Response:
    services: Services = request.app.state.services
    business = await require_business(request, services, request.path_params["username"])
    params = request.query_params
    limit = query_limit(params.get("limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    max_id = query_id(params.get("max_id"), "max_id")
    found = await offer_store.page(services.store, business.id, max_id=max_id, limit=limit)
    items = [await offer_json(services, business, o) for o in found]
    next_url = None
    if len(found) == limit:
        next_url = (
            f"/api/v1/businesses/{business.username}/offers?max_id={found[-1].id}&limit={limit}"
        )
    return json_response({"items": items, "next": next_url})


async def _business_and_offer(request: Request) -> tuple[Services, Business, Offer]:
    services: Services = request.app.state.services
    business = await require_business(request, services, request.path_params["username"])
    offer_id = path_id(request.path_params["id"], "offer")
    offer = await offer_store.by_id(services.store, business.id, offer_id)
    if offer is None:
        raise NotFound("no such offer")
    return services, business, offer


async def get_one(request: Request) -> Response:
    services, business, offer = await _business_and_offer(request)
    return json_response(await offer_json(services, business, offer))


async def patch(request: Request) -> Response:
    services, business, offer = await _business_and_offer(request)
    data = await read_json(request, services.settings.max_body_bytes)
    validate("offer-update", data)
    values = _values(services, business, data, offer)
    media = await ann.changed_media(services, business, data, offer.media_id, offer.post_id)
    values["media_id"] = media.id if media else None
    changes = {k: v for k, v in values.items() if getattr(offer, k) != v}
    async with services.store.transaction():
        await offer_store.update(services.store, offer.id, changes, services.now_ms())
        await ann.republish(
            services,
            business,
            offer.post_id,
            _source(services, business, offer.id, values),
            media,
        )
    changed = await offer_store.by_id(services.store, business.id, offer.id)
    assert changed is not None
    return json_response(await offer_json(services, business, changed))


async def delete(request: Request) -> Response:
    services, business, offer = await _business_and_offer(request)
    async with services.store.transaction():
        await offer_store.mark_deleted(services.store, offer.id, services.now_ms())
        await ann.withdraw(services, business, offer.post_id)
    log.info("business %s deleted offer %d", business.username, offer.id)
    return Response(status_code=204)


_BASE = "/api/v1/businesses/{username}/offers"
routes = [
    Route(_BASE, create, methods=["POST"]),
    Route(_BASE, list_offers, methods=["GET"]),
    Route(_BASE + "/{id}", get_one, methods=["GET"]),
    Route(_BASE + "/{id}", patch, methods=["PATCH"]),
    Route(_BASE + "/{id}", delete, methods=["DELETE"]),
]
