"""Actor URLs: each business as an ``Organization`` (or its profile page), the instance actor.

The documents come from ``store.document_inputs`` (shared with ``Update{actor}``); the
ActivityPub answers are kept in memory (``read.cache``) until the profile changes.

A deleted business answers 410 with a ``Tombstone``, except while its ``Delete{actor}`` is
still being delivered: then, as Mastodon serves an account it is deleting, a bare actor
with ``suspended: true`` and its ``publicKey`` (200, never cached), so a server that has no
copy of the key can verify the ``Delete``. A 410 would not do: Mastodon and Fedify read no
key from an error answer.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.protocol.activities import delete_actor
from fedi_town.protocol.documents import Document
from fedi_town.read import pages
from fedi_town.read.cache import FETCHER_DEPENDENT, INSTANCE, business_group
from fedi_town.read.lookup import actor_tombstone, find_business
from fedi_town.read.negotiate import serve_document
from fedi_town.services import Services
from fedi_town.store import outbox
from fedi_town.store.document_inputs import (
    actor_document,
    departing_actor_document,
    instance_actor_document,
)


async def business_actor(request: Request) -> Response:
    """``/users/{username}``: the actor, or the profile page for a browser.

    Also at ``/@{username}`` (the profile URL): a server that was given that URL gets the
    actor, sees its ``id`` differ and fetches the ``id`` (as Mastodon does).
    """
    services: Services = request.app.state.services
    username = str(request.path_params["username"])

    async def build(fetcher: str | None) -> Document:
        business = await find_business(services, request)
        if business.deleted_at is not None:
            actor = services.urls.actor(business.username)
            if not await outbox.still_delivering(services.store, delete_actor(actor)["id"]):
                raise actor_tombstone(services, business)
            request.scope[FETCHER_DEPENDENT] = True  # only until the last delivery ends
            zone = services.settings.timezone
            return departing_actor_document(services.urls, business, zone)
        return await actor_document(
            services.store,
            services.urls,
            business,
            now=services.now_ms(),
            default_zone=services.settings.timezone,
        )

    return await serve_document(
        request,
        build,
        page=lambda: pages.profile(request),
        cache_group=business_group(username),
    )


async def instance_actor(request: Request) -> Response:
    """``/actor``: always served, unsigned, so peers can verify our signed GETs."""
    services: Services = request.app.state.services

    async def build(fetcher: str | None) -> Document:
        return instance_actor_document(
            services.urls,
            name=services.settings.instance_name,
            public_key_pem=services.started_instance_key().public_pem,
        )

    return await serve_document(request, build, guarded=False, cache_group=INSTANCE)


routes = [
    Route("/users/{username}", business_actor, methods=["GET"]),
    Route("/@{username}", business_actor, methods=["GET"]),
    Route("/actor", instance_actor, methods=["GET"]),
]
