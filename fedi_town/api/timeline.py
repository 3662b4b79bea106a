"""The home timeline: the posts and boosts of the accounts a business follows.

Path (admin or the business's owner; described in schemas/admin-api.openapi.yaml):
    GET /api/v1/businesses/{username}/timeline?limit=&max_id=&min_id=

Newest first, ``{items, next_max_id, prev_min_id}``: pass ``next_max_id`` as ``max_id``
for older entries, ``prev_min_id`` as ``min_id`` for newer ones. What is stored and for how
long is ``store.timeline``'s (FEDERATION.md, "Home timeline"). An entry whose author or
booster the business or the instance blocks is left out (its follow ended at the block; a
booster's post of a blocked author stays stored but hidden), so a page may hold fewer than
``limit`` items while ``next_max_id`` still leads on.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.api import views
from fedi_town.api.auth import require_business
from fedi_town.protocol.ids import query_id
from fedi_town.services import Services
from fedi_town.store import given, moderation
from fedi_town.store import timeline as timeline_store
from fedi_town.web import json_response


async def home_timeline(request: Request) -> Response:
    services: Services = request.app.state.services
    business = await require_business(request, services, request.path_params["username"])
    limit, max_id = views.page_params(request)
    min_id = query_id(request.query_params.get("min_id"), "min_id")
    entries = await timeline_store.page(
        services.store, business.id, limit=limit, max_id=max_id, min_id=min_id
    )
    blocks = await moderation.block_list(services.store)
    shown = [
        e
        for e in entries
        if blocks.first(e.author.uri, business.id) is None
        and (e.booster is None or blocks.first(e.booster.uri, business.id) is None)
    ]
    marks = await given.given(services.store, business.id, [e.note_uri for e in shown])
    return json_response(
        {
            "items": [views.timeline_entry(e, marks.get(e.note_uri)) for e in shown],
            "next_max_id": str(entries[-1].id) if len(entries) == limit else None,
            "prev_min_id": str(entries[0].id) if entries else None,
        }
    )


routes = [
    Route("/api/v1/businesses/{username}/timeline", home_timeline, methods=["GET"]),
]
