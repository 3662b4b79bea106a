"""What a business gives: likes and boosts of any post, and taking them back.

Paths (admin or the business's owner; described in schemas/admin-api.openapi.yaml):
    GET    /api/v1/businesses/{username}/likes?limit=&max_id=    the posts it liked
    POST   /api/v1/businesses/{username}/likes       {object}    Like sent to the author
    DELETE /api/v1/businesses/{username}/likes?object=           Undo{Like} sent
    GET    /api/v1/businesses/{username}/boosts?limit=&max_id=   the posts it boosted
    POST   /api/v1/businesses/{username}/boosts      {object}    Announce to followers+author
    DELETE /api/v1/businesses/{username}/boosts?object=          Undo{Announce} sent
    GET    /api/v1/businesses/{username}/given?object=&object=   {uri: {liked, boosted}}

``object`` is a post's URL (a remote post, or one here) or the id of a post here. The work
and the refusals are in ``outbound.reactions``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.api import views
from fedi_town.api.auth import require_business
from fedi_town.errors import BadRequest
from fedi_town.outbound import reactions as commands
from fedi_town.protocol.vocabulary import iso8601
from fedi_town.schemas import validate
from fedi_town.services import Services
from fedi_town.store import given as given_store
from fedi_town.store.businesses import Business
from fedi_town.store.given import Given, Kind
from fedi_town.web import json_response, read_json

#: At most this many posts in one ``given`` question.
MAX_ASKED = 80
_PUBLIC_KIND: dict[str, str] = {given_store.LIKE: "like", given_store.ANNOUNCE: "boost"}


def reaction_view(row: Given) -> dict[str, Any]:
    """A like or boost the business gave."""
    return {
        "id": str(row.id),
        "kind": _PUBLIC_KIND[row.kind],
        "object": row.object_uri,
        "author": row.author_uri,
        "activity": row.activity_uri,
        "created_at": iso8601(row.created_at),
    }


async def _business(request: Request) -> tuple[Services, Business]:
    services: Services = request.app.state.services
    business = await require_business(request, services, request.path_params["username"])
    return services, business


async def _list(request: Request, kind: Kind) -> Response:
    services, business = await _business(request)
    limit, max_id = views.page_params(request)
    rows = await given_store.page(
        services.store, business.id, kind=kind, limit=limit, max_id=max_id
    )
    items = [reaction_view(r) for r in rows]
    return json_response({"items": items, "next_max_id": views.next_max_id(items, limit)})


async def _object_of(request: Request, services: Services) -> str:
    data = await read_json(request, services.settings.max_body_bytes)
    validate("reaction-create", data)
    return str(data["object"])


def _object_param(request: Request) -> str:
    value = request.query_params.get("object", "").strip()
    if not value:
        raise BadRequest("object (the post's URL or id) is required")
    if len(value) > 2000:
        raise BadRequest("object is longer than 2000 characters")
    return value


async def list_likes(request: Request) -> Response:
    return await _list(request, given_store.LIKE)


async def list_boosts(request: Request) -> Response:
    return await _list(request, given_store.ANNOUNCE)


async def create_like(request: Request) -> Response:
    services, business = await _business(request)
    row = await commands.like(services, business, await _object_of(request, services))
    return json_response(reaction_view(row), 201)


async def create_boost(request: Request) -> Response:
    services, business = await _business(request)
    row = await commands.boost(services, business, await _object_of(request, services))
    return json_response(reaction_view(row), 201)


async def delete_like(request: Request) -> Response:
    services, business = await _business(request)
    await commands.unlike(services, business, _object_param(request))
    return Response(status_code=204)


async def delete_boost(request: Request) -> Response:
    services, business = await _business(request)
    await commands.unboost(services, business, _object_param(request))
    return Response(status_code=204)


async def given(request: Request) -> Response:
    """Whether the business liked and boosted each post asked about (by its id)."""
    services, business = await _business(request)
    asked = [v for v in request.query_params.getlist("object") if v]
    if len(asked) > MAX_ASKED:
        raise BadRequest(f"at most {MAX_ASKED} objects at once")
    found = await given_store.given(services.store, business.id, asked)
    answer = {
        uri: {"liked": marks[given_store.LIKE], "boosted": marks[given_store.ANNOUNCE]}
        for uri, marks in found.items()
    }
    return json_response(answer)


_BASE = "/api/v1/businesses/{username}"

routes = [
    Route(f"{_BASE}/likes", list_likes, methods=["GET"]),
    Route(f"{_BASE}/likes", create_like, methods=["POST"]),
    Route(f"{_BASE}/likes", delete_like, methods=["DELETE"]),
    Route(f"{_BASE}/boosts", list_boosts, methods=["GET"]),
    Route(f"{_BASE}/boosts", create_boost, methods=["POST"]),
    Route(f"{_BASE}/boosts", delete_boost, methods=["DELETE"]),
    Route(f"{_BASE}/given", given, methods=["GET"]),
]
