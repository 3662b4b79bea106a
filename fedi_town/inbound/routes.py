"""Routes of the inbound side: the inboxes."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from fedi_town.inbound.inbox import InboxEndpoint
from fedi_town.services import Services


def inbox_endpoint(services: Services) -> InboxEndpoint:
    """This app's inbox endpoint (``fastpath`` calls it before Starlette routes)."""
    return services.parts.get(InboxEndpoint, lambda: InboxEndpoint(services))


class _RoutedInbox:
    """The inbox endpoint reached through Starlette's routing: what ``fastpath`` does
    not take first (an app built without it, as in some tests) still gets the same answer."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        services: Services = scope["app"].state.services
        await inbox_endpoint(services)(scope, receive, send)


#: The inbox paths, declared here so that other methods get 405; every POST to them is
#: answered by ``InboxEndpoint``, through ``fastpath`` before any routing.
inbox_routes: list[BaseRoute] = [
    Route("/users/{username}/inbox", _RoutedInbox(), methods=["POST"]),
    Route("/inbox", _RoutedInbox(), methods=["POST"]),
    Route("/actor/inbox", _RoutedInbox(), methods=["POST"]),
]
