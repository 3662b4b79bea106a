"""The instance admin's high-street directory: the one actor that boosts every member.

Paths (admin token; described in schemas/admin-api.openapi.yaml):
    GET    /api/v1/admin/directory     the directory, or 404 when there is none
    PUT    /api/v1/admin/directory     {username, display_name, summary?}: create it (201)
                                       or rename it (200; the username is fixed)
    DELETE /api/v1/admin/directory     followers get Delete{actor}; 204

The directory is not a business for the businesses API: it is not listed there, and
``/api/v1/businesses/{username}`` does not reach it (``api.auth.require_business``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.api.auth import require_admin
from fedi_town.errors import NotFound
from fedi_town.outbound import directory
from fedi_town.protocol.vocabulary import iso8601
from fedi_town.services import Services
from fedi_town.store import businesses
from fedi_town.store import directory as store_directory
from fedi_town.store.businesses import Business
from fedi_town.web import json_response, read_json

PATH = "/api/v1/admin/directory"


async def directory_view(services: Services, found: Business) -> dict[str, Any]:
    """The admin API's JSON for the directory (no key material)."""
    urls = services.urls
    counts = await businesses.counts(services.store, found.id)
    members = await store_directory.members(services.store)
    return {
        "id": str(found.id),
        "username": found.username,
        "handle": urls.handle(found.username),
        "actor_id": urls.actor(found.username),
        "url": urls.profile_page(found.username),
        "display_name": found.display_name,
        "summary": found.summary,
        "followers_count": counts["followers"],
        "members_count": len(members),
        "created_at": iso8601(found.created_at),
        "updated_at": iso8601(found.updated_at),
    }


async def _admin(request: Request) -> Services:
    services: Services = request.app.state.services
    await require_admin(request, services)
    return services


async def get_directory(request: Request) -> Response:
    services = await _admin(request)
    found = await store_directory.find(services.store)
    if found is None:
        raise NotFound("there is no directory; create one with PUT")
    return json_response(await directory_view(services, found))


async def put_directory(request: Request) -> Response:
    services = await _admin(request)
    data = await read_json(request, services.settings.max_body_bytes)
    found, created = await directory.put(services, data)
    body = await directory_view(services, found)
    if created:
        return json_response(body, 201, headers={"Location": PATH})
    return json_response(body)


async def delete_directory(request: Request) -> Response:
    services = await _admin(request)
    await directory.remove(services)
    return Response(status_code=204)


routes = [
    Route(PATH, get_directory, methods=["GET"]),
    Route(PATH, put_directory, methods=["PUT"]),
    Route(PATH, delete_directory, methods=["DELETE"]),
]
