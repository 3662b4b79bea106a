"""The apps signed in as a business (Mastodon clients: docs/mastodon-api.md), and taking
one's access back.

    GET  /app/{username}/apps
    POST /app/{username}/apps/{id}/revoke     the app is signed out at once
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.webapp.client import api_for
from fedi_town.webapp.guard import business_of, signed_in
from fedi_town.webapp.render import page, read_form, see_other


def apps_url(username: str) -> str:
    return f"/app/{username}/apps"


async def apps_page(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    answer = await api_for(request, visitor, business).get(
        f"/api/v1/businesses/{business.username}/apps"
    )
    tokens = answer.data["items"] if answer.ok else []
    return page(request, visitor, "app/apps.html", {"business": business, "tokens": tokens})


async def revoke(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    await read_form(request, visitor)
    token_id = str(request.path_params["id"])[:20]
    answer = await api_for(request, visitor, business).delete(
        f"/api/v1/businesses/{business.username}/apps/{token_id}"
    )
    done = "The app is signed out." if answer.ok else answer.detail or "That did not work."
    return see_other(request, apps_url(business.username), done)


routes = [
    Route("/app/{username}/apps", apps_page, methods=["GET"]),
    Route("/app/{username}/apps/{id}/revoke", revoke, methods=["POST"]),
]
