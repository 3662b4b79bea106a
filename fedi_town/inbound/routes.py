"""Routes of the inbound side: the inboxes, and the owner/admin API over what came in."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fedi_town.inbound import admin_api, owner_api
from fedi_town.inbound.inbox import business_for_inbox, receive
from fedi_town.services import Services


async def personal_inbox(request: Request) -> Response:
    services: Services = request.app.state.services
    business_id = await business_for_inbox(services, request.path_params["username"])
    return await receive(request, business_id)


async def shared_inbox(request: Request) -> Response:
    return await receive(request, None)


#: The inboxes take bursts of thousands of POSTs: ``app.all_routes`` lists them first, so
#: Starlette does not try every other route's pattern on each of them.
inbox_routes: list[BaseRoute] = [
    Route("/users/{username}/inbox", personal_inbox, methods=["POST"]),
    Route("/inbox", shared_inbox, methods=["POST"]),
    Route("/actor/inbox", shared_inbox, methods=["POST"]),
]

routes: list[BaseRoute] = [
    *owner_api.routes,
    *admin_api.routes,
]
