"""Admin API for quote requests waiting for the owner (FEP-044f manual approval, the
``ask`` quote policy), described in schemas/admin-api.openapi.yaml:

    GET  /api/v1/businesses/{username}/quote_requests               newest first
    POST /api/v1/businesses/{username}/quote_requests/{id}/approve  Accept + stamp
    POST /api/v1/businesses/{username}/quote_requests/{id}/deny     Reject

Each item names who asks, our post and their quoting post (sanitised when stored). The
decision (``outbound.quotes.decide_request``) answers ``{"state": "approved" | "denied"}``:
approving a request that can no longer be granted (post deleted or made private, the
requester blocked) denies it.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.api import views
from fedi_town.api.auth import require_business
from fedi_town.outbound import quotes as quote_commands
from fedi_town.protocol.ids import path_id
from fedi_town.protocol.vocabulary import iso8601
from fedi_town.services import Services
from fedi_town.store import actors as store_actors
from fedi_town.store import posts as post_store
from fedi_town.store import quotes as quote_store
from fedi_town.store import social
from fedi_town.store.businesses import Business
from fedi_town.web import json_response


async def _business(request: Request) -> tuple[Services, Business]:
    services: Services = request.app.state.services
    business = await require_business(request, services, request.path_params["username"])
    return services, business


async def _item(
    services: Services, business: Business, item: quote_store.Pending
) -> dict[str, Any]:
    store = services.store
    actor = await store_actors.by_id(store, item.actor_id)
    post = await post_store.by_id(store, business.id, item.post_id)
    note = await social.note_by_uri(store, item.quote_uri)
    return {
        "id": str(item.id),
        "created_at": iso8601(item.created_at),
        "account": views.account(actor) if actor is not None else None,
        "post": {"id": str(item.post_id), "uri": post.uri if post is not None else None},
        "quote": {
            "uri": item.quote_uri,
            "url": (note.url if note is not None else None) or item.quote_uri,
            "content": note.content_html if note is not None else "",
            "summary": note.summary if note is not None else None,
        },
    }


async def list_requests(request: Request) -> Response:
    services, business = await _business(request)
    limit, max_id = views.page_params(request)
    found = await quote_store.pending_of_business(
        services.store, business.id, limit=limit, max_id=max_id
    )
    items = [await _item(services, business, p) for p in found]
    return json_response({"items": items, "next_max_id": views.next_max_id(items, limit)})


async def _decide(request: Request, *, approve: bool) -> Response:
    services, business = await _business(request)
    request_id = path_id(request.path_params["id"], "quote request")
    state = await quote_commands.decide_request(services, business, request_id, approve=approve)
    return json_response({"id": str(request_id), "state": state})


async def approve(request: Request) -> Response:
    return await _decide(request, approve=True)


async def deny(request: Request) -> Response:
    return await _decide(request, approve=False)


_BASE = "/api/v1/businesses/{username}/quote_requests"

routes = [
    Route(_BASE, list_requests, methods=["GET"]),
    Route(_BASE + "/{id}/approve", approve, methods=["POST"]),
    Route(_BASE + "/{id}/deny", deny, methods=["POST"]),
]
