"""Owner API for moving a business to another server (docs/moving.md).

Paths (described in schemas/admin-api.openapi.yaml):
    PUT    /api/v1/businesses/{username}/aliases   admin or owner: the accounts this one is
                                                   also known as (an account moving here)
    POST   /api/v1/businesses/{username}/move      admin or owner: Move followers to the
                                                   new account; then this one posts no more
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.api.auth import require_business
from fedi_town.outbound import moves
from fedi_town.schemas import validate
from fedi_town.services import Services
from fedi_town.web import json_response, read_json


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


async def put_aliases(request: Request) -> Response:
    services: Services = request.app.state.services
    business = await require_business(request, services, request.path_params["username"])
    data = await read_json(request, services.settings.max_body_bytes)
    validate("business-aliases", data)
    updated = await moves.set_aliases(services, business, list(data["also_known_as"]))
    return json_response({"also_known_as": list(updated.also_known_as)})


async def move(request: Request) -> Response:
    services: Services = request.app.state.services
    business = await require_business(request, services, request.path_params["username"])
    data = await read_json(request, services.settings.max_body_bytes)
    validate("business-move", data)
    moved = await moves.move(services, business, data["target"])
    return json_response(
        {
            "moved_to": moved.business.moved_to,
            "moved_at": _iso(moved.business.moved_at),
            "inboxes": moved.inboxes,
        }
    )


routes = [
    Route("/api/v1/businesses/{username}/aliases", put_aliases, methods=["PUT"]),
    Route("/api/v1/businesses/{username}/move", move, methods=["POST"]),
]
