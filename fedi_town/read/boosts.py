"""A business's boosts, each served at its id: ``/users/{username}/boosts/{id}``.

Mastodon fetches an Announce by its id when it meets it without a signature it can check
(a relay, a forwarded copy), so the boosts a business gives (``store.given``, kind announce)
are dereferenceable, as Mastodon's own reblogs are. A boost taken back is gone: 404, as for
an id that never was.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.errors import NotFound
from fedi_town.protocol.documents import Document
from fedi_town.protocol.ids import path_id
from fedi_town.read.cache import business_group
from fedi_town.read.lookup import live_business
from fedi_town.read.negotiate import serve_document
from fedi_town.services import Services
from fedi_town.store import given as given_store
from fedi_town.store.document_inputs import announce_document


async def boost(request: Request) -> Response:
    """The ``Announce`` the business sent, as it was sent."""
    services: Services = request.app.state.services

    async def build(fetcher: str | None) -> Document:
        business = await live_business(services, request)
        given_id = path_id(request.path_params["id"], "boost")
        found = await given_store.by_id(services.store, business.id, given_id)
        if found is None or found.kind != given_store.ANNOUNCE:
            raise NotFound("no such boost")
        return announce_document(services.urls, business.username, found)

    group = business_group(str(request.path_params["username"]))
    return await serve_document(request, build, cache_group=group)


routes = [Route("/users/{username}/boosts/{id}", boost, methods=["GET"])]
