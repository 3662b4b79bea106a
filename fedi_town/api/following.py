"""Who a business follows: follow by handle or actor URL, list, unfollow.

Paths (admin or the business's owner; described in schemas/admin-api.openapi.yaml):
    GET    /api/v1/businesses/{username}/following?limit=&max_id=&state=
    POST   /api/v1/businesses/{username}/following        {account}: Follow sent, pending
    DELETE /api/v1/businesses/{username}/following/{id}   Undo{Follow} sent

A follow is ``pending`` until the other side's Accept arrives, then ``accepted``; a Reject
removes it. The work is in ``outbound.following``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.api import views
from fedi_town.api.auth import require_business
from fedi_town.errors import BadRequest
from fedi_town.outbound import following as commands
from fedi_town.protocol.ids import path_id
from fedi_town.schemas import validate
from fedi_town.services import Services
from fedi_town.store import following as following_store
from fedi_town.store.businesses import Business
from fedi_town.web import json_response, read_json

_STATES = ("pending", "accepted")


async def _business(request: Request) -> tuple[Services, Business]:
    services: Services = request.app.state.services
    business = await require_business(request, services, request.path_params["username"])
    return services, business


async def list_following(request: Request) -> Response:
    """Newest first; ``state`` keeps only pending or only accepted follows."""
    services, business = await _business(request)
    limit, max_id = views.page_params(request)
    state = request.query_params.get("state")
    if state is not None and state not in _STATES:
        raise BadRequest("state must be pending or accepted")
    rows = await following_store.page(
        services.store, business.id, limit=limit, max_id=max_id, state=state
    )
    items = [views.following(f, a) for f, a in rows]
    return json_response({"items": items, "next_max_id": views.next_max_id(items, limit)})


async def create_following(request: Request) -> Response:
    services, business = await _business(request)
    data = await read_json(request, services.settings.max_body_bytes)
    validate("following-create", data)
    row, actor = await commands.follow(services, business, data["account"])
    return json_response(views.following(row, actor), 201)


async def delete_following(request: Request) -> Response:
    services, business = await _business(request)
    await commands.unfollow(services, business, path_id(request.path_params["id"], "follow"))
    return Response(status_code=204)


_BASE = "/api/v1/businesses/{username}"

routes = [
    Route(f"{_BASE}/following", list_following, methods=["GET"]),
    Route(f"{_BASE}/following", create_following, methods=["POST"]),
    Route(f"{_BASE}/following/{{id}}", delete_following, methods=["DELETE"]),
]
