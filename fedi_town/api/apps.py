"""Admin API for the Mastodon-client apps signed in as a business (owner or admin token),
described in schemas/admin-api.openapi.yaml:

    GET    /api/v1/businesses/{username}/apps         the live tokens, newest first
    DELETE /api/v1/businesses/{username}/apps/{id}    revoke one: the app is signed out

The tokens themselves are never shown (only their hashes are stored); see
docs/mastodon-api.md for how an app gets one.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.api.auth import require_business
from fedi_town.errors import NotFound
from fedi_town.protocol.ids import path_id
from fedi_town.protocol.vocabulary import iso8601
from fedi_town.services import Services
from fedi_town.store import oauth as oauth_store
from fedi_town.store.oauth import Token
from fedi_town.web import json_response


def token_view(token: Token) -> dict[str, Any]:
    return {
        "id": str(token.id),
        "app_name": token.app_name,
        "app_website": token.app_website,
        "scopes": token.scopes,
        "created_at": iso8601(token.created_at),
        "last_used_at": iso8601(token.last_used_at),
    }


async def list_apps(request: Request) -> Response:
    services: Services = request.app.state.services
    business = await require_business(request, services, request.path_params["username"])
    tokens = await oauth_store.tokens_of_business(services.store, business.id)
    return json_response({"items": [token_view(t) for t in tokens]})


async def revoke(request: Request) -> Response:
    services: Services = request.app.state.services
    business = await require_business(request, services, request.path_params["username"])
    token_id = path_id(request.path_params["id"], "app token")
    if not await oauth_store.revoke_token(
        services.store, token_id, business_id=business.id, now=services.now_ms()
    ):
        raise NotFound("no such app token")
    return Response(status_code=204)


routes = [
    Route("/api/v1/businesses/{username}/apps", list_apps, methods=["GET"]),
    Route("/api/v1/businesses/{username}/apps/{id}", revoke, methods=["DELETE"]),
]
