"""From a URL's ``{username}`` to the business it names: 404, 410, or a canonical redirect.

Usernames match case-insensitively, but ids are compared as strings (interop F4), so a URL
spelled in another case is redirected to the owner's spelling instead of being served.
"""

from __future__ import annotations

from starlette.requests import Request

from fedi_town.errors import Gone, NotFound
from fedi_town.protocol import activities
from fedi_town.protocol.usernames import is_username
from fedi_town.read.negotiate import MovedTo, TombstoneGone
from fedi_town.services import Services
from fedi_town.store import businesses
from fedi_town.store.businesses import Business


def _canonical_url(services: Services, request: Request, given: str, canonical: str) -> str:
    path = request.url.path
    prefix = "/users/" if path.startswith("/users/") else "/@"
    new_path = prefix + canonical + path[len(prefix) + len(given) :]
    query = request.url.query
    return services.urls.base + new_path + (f"?{query}" if query else "")


async def find_business(services: Services, request: Request) -> Business:
    """The business named by the ``username`` path parameter, deleted ones included.

    Raises ``NotFound`` when there is none and ``MovedTo`` when the case differs.
    """
    given = str(request.path_params["username"])
    if not is_username(given):  # NUL, unicode, 10,000 characters: never a lookup
        raise NotFound("no business by that name")
    business = await businesses.by_username(services.store, given, include_deleted=True)
    if business is None:
        raise NotFound(f"no business named {given!r}")
    if business.username != given:
        raise MovedTo(_canonical_url(services, request, given, business.username))
    return business


async def live_business(services: Services, request: Request) -> Business:
    """Like ``find_business``, and a deleted business is a plain 410."""
    business = await find_business(services, request)
    if business.deleted_at is not None:
        raise Gone(f"{business.username} has left")
    return business


def actor_tombstone(services: Services, business: Business) -> TombstoneGone:
    """The 410 a deleted business's actor URL answers with."""
    assert business.deleted_at is not None
    document = activities.tombstone(
        services.urls.actor(business.username), "Organization", int(business.deleted_at)
    )
    return TombstoneGone(document, f"{business.username} has left")
