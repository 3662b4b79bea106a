"""Admin API for businesses: create, list, read, change, delete, rotate the owner token.

Paths (the contract other tools rely on, described in schemas/admin-api.openapi.yaml):
    POST   /api/v1/businesses                      admin
    GET    /api/v1/businesses                      admin
    GET    /api/v1/businesses/{username}           admin or owner
    PATCH  /api/v1/businesses/{username}           admin or owner
    DELETE /api/v1/businesses/{username}           admin or owner
    POST   /api/v1/businesses/{username}/token     admin or owner: new owner token, old one dies
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.api.auth import OWNER_TOKEN_PREFIX, hash_token, require_admin, require_business
from fedi_town.business import hours as hours_logic
from fedi_town.business.categories import is_category
from fedi_town.business.hours import Problem, Schedule
from fedi_town.business.notice import current_notice, parse_notice
from fedi_town.business.osm import OsmHoursError, osm_to_week, week_to_osm
from fedi_town.business.place import location_problems
from fedi_town.errors import Conflict, Unprocessable
from fedi_town.outbound import profile, quotes
from fedi_town.protocol.ids import body_id
from fedi_town.protocol.keys import generate_rsa_keypair
from fedi_town.protocol.usernames import username_problem
from fedi_town.schemas import validate
from fedi_town.services import Services
from fedi_town.settings import new_token
from fedi_town.store import businesses
from fedi_town.store import media as media_store
from fedi_town.store.businesses import Business
from fedi_town.store.effects import BusinessChanged
from fedi_town.text.compose import is_hashtag, normal_tag
from fedi_town.web import json_response, read_json

log = logging.getLogger(__name__)


def _iso(ms: int) -> str:
    return (
        datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


async def business_view(services: Services, business: Business) -> dict[str, Any]:
    """The admin API's JSON for a business (no key material, no token)."""
    urls = services.urls
    counts = await businesses.counts(services.store, business.id)
    avatar = await media_store.public_url(services.store, services.urls, business.avatar_media_id)
    header = await media_store.public_url(services.store, services.urls, business.header_media_id)
    return {
        "id": str(business.id),
        "username": business.username,
        "handle": urls.handle(business.username),
        "actor_id": urls.actor(business.username),
        "url": urls.profile_page(business.username),
        "display_name": business.display_name,
        "summary": business.summary,
        "website": business.website,
        "phone": business.phone,
        "address": business.address,
        "fields": business.fields,
        "featured_tags": business.featured_tags,
        "avatar_url": avatar,
        "header_url": header,
        "avatar_media_id": str(business.avatar_media_id) if business.avatar_media_id else None,
        "header_media_id": str(business.header_media_id) if business.header_media_id else None,
        "manually_approves_followers": business.manually_approves_followers,
        "discoverable": business.discoverable,
        "indexable": business.indexable,
        "quote_policy": business.quote_policy,
        "followers_count": counts["followers"],
        "following_count": counts["following"],
        "posts_count": counts["posts"],
        "created_at": _iso(business.created_at),
        "updated_at": _iso(business.updated_at),
        "also_known_as": list(business.also_known_as),
        "moved_to": business.moved_to,
        **profile_view(business, services.now_ms(), services.settings.timezone),
    }


#: The structured profile's keys (docs/business-data.md), in and out.
PROFILE_KEYS = (
    "category",
    "location",
    "service_area",
    "email",
    "price_range",
    "timezone",
    "hours",
    "opening_hours",
    "special_hours",
    "notice",
    "in_directory",
)


def profile_view(business: Business, now_ms: int, default_zone: str) -> dict[str, Any]:
    """The structured profile as the API shows it, with ``status`` computed at ``now_ms`` in
    the business's zone (None when no weekly hours are given)."""
    schedule = Schedule.from_business(business, default_zone)
    status = hours_logic.status_at(schedule, now_ms)
    notice = current_notice(business.notice_text, business.notice_until, now_ms)
    return {
        "category": business.category,
        "location": business.location,
        "service_area": business.service_area,
        "email": business.email,
        "price_range": business.price_range,
        "timezone": business.timezone,
        "hours": business.hours,
        "opening_hours": week_to_osm(business.hours),
        "special_hours": business.special_hours,
        "notice": (
            {
                "text": notice,
                "until": _iso(business.notice_until) if business.notice_until else None,
            }
            if notice
            else None
        ),
        "in_directory": business.in_directory,
        "status": (
            {
                "open": status.open,
                "text": status.text,
                "changes_at": _iso(status.changes_at) if status.changes_at else None,
                "today": hours_logic.today_text(schedule, now_ms),
            }
            if status
            else None
        ),
    }


def profile_changes(data: dict[str, Any], now_ms: int) -> dict[str, Any]:
    """The column changes for the structured profile keys in a (schema-valid) body.

    Checks what a schema cannot (overlapping hours, unknown zones, a notice ending in the
    past) and raises one ``Unprocessable`` naming every problem by JSON pointer, before
    anything is written. ``null`` clears a key; ``opening_hours`` is read into ``hours``.
    """
    problems: list[Problem] = []
    changes: dict[str, Any] = {}
    for key in ("service_area", "email", "price_range", "in_directory"):
        if key in data:
            changes[key] = data[key]
    if "category" in data:
        if data["category"] is not None and not is_category(data["category"]):
            problems.append(Problem("/category", "not a schema.org LocalBusiness type we know"))
        changes["category"] = data["category"]
    if "location" in data:
        problems += location_problems(data["location"])
        changes["location"] = {k: v for k, v in (data["location"] or {}).items() if v is not None}
    if "timezone" in data:
        if data["timezone"] is not None and (
            problem := hours_logic.timezone_problem(data["timezone"])
        ):
            problems.append(problem)
        changes["timezone"] = data["timezone"]
    if "hours" in data and "opening_hours" in data:
        problems.append(Problem("/opening_hours", "give hours or opening_hours, not both"))
    elif "opening_hours" in data:
        text = data["opening_hours"]
        try:
            changes["hours"] = osm_to_week(text) if text else {}
        except OsmHoursError as exc:
            problems.append(Problem("/opening_hours", str(exc)))
    elif "hours" in data:
        problems += hours_logic.hours_problems(data["hours"])
        changes["hours"] = data["hours"] or {}
    if "special_hours" in data:
        problems += hours_logic.special_hours_problems(data["special_hours"])
        changes["special_hours"] = data["special_hours"] or []
    if "notice" in data:
        text, until, found = parse_notice(data["notice"], now_ms)
        problems += found
        changes["notice_text"], changes["notice_until"] = text, until
    if problems:
        errors = [p.as_error() for p in problems]
        raise Unprocessable(
            f"{len(errors)} problem(s) in the request body: {errors[0]['pointer']} "
            f"{errors[0]['message']}",
            errors=errors,
        )
    return changes


def featured_tags(given: list[str]) -> list[str]:
    """Featured hashtags as stored: without ``#``, NFKC, each a hashtag a post could carry,
    none twice (case-insensitively); ``Unprocessable`` names each one that is not."""
    tags: list[str] = []
    seen: set[str] = set()
    errors = []
    for index, raw in enumerate(given):
        tag = normal_tag(raw.strip().removeprefix("#"))
        if not is_hashtag(tag):
            message = f"“{raw}” is not a hashtag (letters, digits and _ only)"
        elif tag.lower() in seen:
            message = f"#{tag} is given twice"
        else:
            seen.add(tag.lower())
            tags.append(tag)
            continue
        errors.append({"pointer": f"/featured_tags/{index}", "message": message})
    if errors:
        raise Unprocessable(
            f"{len(errors)} problem(s) in featured_tags: {errors[0]['message']}", errors=errors
        )
    return tags


def new_owner_token() -> str:
    return OWNER_TOKEN_PREFIX + new_token()


#: NUL and lone surrogates: what PostgreSQL text cannot hold nor UTF-8 encode. The HTTP
#: reader refuses them already; the command line can pass them (undecodable argv bytes).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _storable(data: dict[str, Any]) -> None:
    for key, value in data.items():
        if isinstance(value, str) and _UNSTORABLE.search(value):
            message = "holds NUL or a character that is not Unicode text"
            raise Unprocessable(
                f"{key} {message}", errors=[{"pointer": f"/{key}", "message": message}]
            )


async def create_business(services: Services, data: dict[str, Any]) -> tuple[Business, str]:
    """Validate and create a business with a fresh key pair; return it and its owner token."""
    validate("business-create", data)
    _storable(data)
    username = data["username"]
    if problem := username_problem(username):
        raise Unprocessable(problem, errors=[{"pointer": "/username", "message": problem}])
    now = services.now_ms()
    structured = profile_changes(data, now)
    private_pem, public_pem = generate_rsa_keypair()
    token = new_owner_token()
    async with services.store.transaction():
        business = await businesses.create(
            services.store,
            username=username,
            profile=data,
            owner_token_hash=hash_token(token),
            sealed_private_key=services.sealed_keys.seal(private_pem),
            public_key_pem=public_pem,
            now=now,
        )
        if business is None:
            raise Conflict(f"username {username!r} is taken")
        if structured:
            await businesses.update(services.store, business.id, structured, now=now)
            business = await businesses.by_id(services.store, business.id)
            assert business is not None
            await profile.remember_sent(services, business)  # when its hours change the actor
    services.store.after_commit(BusinessChanged(business.username))  # NodeInfo counts one more
    log.info("created business %s", business.username)
    return business, token


async def create(request: Request) -> Response:
    services: Services = request.app.state.services
    await require_admin(request, services)
    data = await read_json(request, services.settings.max_body_bytes)
    business, token = await create_business(services, data)
    body = await business_view(services, business)
    body["owner_token"] = token
    return json_response(body, 201, headers={"Location": f"/api/v1/businesses/{business.username}"})


async def list_businesses(request: Request) -> Response:
    services: Services = request.app.state.services
    await require_admin(request, services)
    listed = [b for b in await businesses.list_all(services.store) if b.kind == "business"]
    items = [await business_view(services, b) for b in listed]
    return json_response({"items": items, "total": len(items)})


async def get_one(request: Request) -> Response:
    services: Services = request.app.state.services
    business = await require_business(request, services, request.path_params["username"])
    return json_response(await business_view(services, business))


async def patch(request: Request) -> Response:
    services: Services = request.app.state.services
    business = await require_business(request, services, request.path_params["username"])
    data = await read_json(request, services.settings.max_body_bytes)
    updated = await change_business(services, business, data)
    return json_response(await business_view(services, updated))


async def change_business(services: Services, business: Business, data: dict[str, Any]) -> Business:
    """Validate and apply a change of the business (the PATCH body), and tell followers
    (the admin API's and the Mastodon client API's profile changes alike)."""
    validate("business-update", data)
    _storable(data)
    changes = {k: v for k, v in data.items() if k not in PROFILE_KEYS}
    changes.update(profile_changes(data, services.now_ms()))
    if "featured_tags" in data:
        changes["featured_tags"] = featured_tags(data["featured_tags"])
    for key in ("avatar_media_id", "header_media_id"):
        if key in changes and changes[key] is not None:
            media_id = body_id(changes[key], f"/{key}")
            if not await media_store.belongs_to(services.store, media_id, business.id):
                raise Unprocessable(
                    f"{key} is not an image uploaded by this business",
                    errors=[{"pointer": f"/{key}", "message": "unknown media id"}],
                )
            changes[key] = media_id
    async with services.store.transaction():  # the change and its Update, or neither
        await businesses.update(services.store, business.id, changes, now=services.now_ms())
        updated = await businesses.by_id(services.store, business.id)
        assert updated is not None
        services.store.after_commit(BusinessChanged(business.username))
        await profile.on_profile_changed(services, updated)
        if "quote_policy" in data:
            await quotes.revoke_disallowed(services, updated, None)
    return updated


async def delete(request: Request) -> Response:
    services: Services = request.app.state.services
    business = await require_business(request, services, request.path_params["username"])
    async with services.store.transaction():
        await businesses.mark_deleted(services.store, business.id, now=services.now_ms())
        await profile.on_business_deleted(services, business)
        services.store.after_commit(BusinessChanged(business.username))
    log.info("deleted business %s", business.username)
    return Response(status_code=204)


async def rotate_token(request: Request) -> Response:
    services: Services = request.app.state.services
    business = await require_business(request, services, request.path_params["username"])
    token = new_owner_token()
    await businesses.set_token_hash(
        services.store, business.id, hash_token(token), now=services.now_ms()
    )
    log.info("rotated owner token of %s", business.username)
    return json_response({"owner_token": token})


routes = [
    Route("/api/v1/businesses", create, methods=["POST"]),
    Route("/api/v1/businesses", list_businesses, methods=["GET"]),
    Route("/api/v1/businesses/{username}", get_one, methods=["GET"]),
    Route("/api/v1/businesses/{username}", patch, methods=["PATCH"]),
    Route("/api/v1/businesses/{username}", delete, methods=["DELETE"]),
    Route("/api/v1/businesses/{username}/token", rotate_token, methods=["POST"]),
]
