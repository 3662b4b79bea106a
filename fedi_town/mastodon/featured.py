"""What a business features on its profile, as a Mastodon app sees it: hashtags and
accounts ("feature on profile" in Mastodon 4.4).

    GET    /api/v1/featured_tags                  read:accounts   the business's featured tags
    POST   /api/v1/featured_tags                  write:accounts  ``name``
    DELETE /api/v1/featured_tags/{id}             write:accounts
    GET    /api/v1/featured_tags/suggestions      read:accounts   its most used tags not featured
    GET    /api/v1/accounts/{id}/featured_tags    none            a business's featured tags
    GET    /api/v1/endorsements                   read:accounts   accounts it features
    POST   /api/v1/accounts/{id}/pin, /unpin      write:accounts  (also /endorse, /unendorse)
    GET    /api/v1/accounts/{id}/endorsements     none            a business's endorsements

Featured tags are the business's own list (``businesses.featured_tags``, the actor's
``featuredTags`` collection, also set by the admin API), changed through the admin API's
``change_business`` so followers get the same ``Update``. A tag's id is a number derived
from its lower-cased name (the list has no rows of its own), so it stays the same while
the tag is featured. Only an account the business follows can be featured, as Mastodon
requires.
"""

from __future__ import annotations

import zlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.api.businesses import change_business
from fedi_town.errors import NotFound, Unprocessable
from fedi_town.mastodon import params
from fedi_town.mastodon.auth import Grant, endpoint, json
from fedi_town.mastodon.entities import date_only, remote_account
from fedi_town.mastodon.paging import page_of, paged
from fedi_town.mastodon.relations import actor_of, relationship
from fedi_town.protocol.ids import path_id
from fedi_town.services import Services
from fedi_town.store import businesses, endorsements, post_lists
from fedi_town.store import following as following_store
from fedi_town.store.businesses import Business

#: Mastodon's ``FeaturedTag::LIMIT`` (and the admin API's ``maxItems``).
MAX_FEATURED_TAGS = 10
SUGGESTIONS = 10
DEFAULT_LIMIT = 40
MAX_LIMIT = 80


def tag_id(name: str) -> str:
    """The id of a featured tag: stable for its name, whatever its case."""
    return str(zlib.crc32(name.lower().encode()) + 1)


async def _featured(services: Services, business: Business) -> list[dict[str, Any]]:
    uses = await post_lists.tag_uses(services.store, business.id)
    items = []
    for name in business.featured_tags:
        use = uses.get(name.lower())
        items.append(
            {
                "id": tag_id(name),
                "name": name,
                "url": services.urls.tag_page(business.username, name),
                "statuses_count": str(use.count if use else 0),
                "last_status_at": date_only(use.last_at) if use else None,
            }
        )
    return items


@endpoint("read:accounts")
async def list_tags(request: Request, grant: Grant | None) -> Response:
    assert grant is not None
    services: Services = request.app.state.services
    return json(await _featured(services, grant.account()))


async def _business_named(request: Request, services: Services) -> Business | None:
    """The business the path's account id names; None for an account elsewhere that we
    know (404 for an unknown one)."""
    account_id = path_id(str(request.path_params["id"]), "account")
    business = await businesses.by_id(services.store, account_id)
    if business is None or business.deleted_at is not None or business.kind != "business":
        await actor_of(services, str(account_id))  # 404 for an unknown account
        return None
    return business


@endpoint("read:accounts", token=False)
async def account_tags(request: Request, grant: Grant | None) -> Response:
    """A business's featured tags; ``[]`` for an account elsewhere that we know."""
    services: Services = request.app.state.services
    business = await _business_named(request, services)
    return json([] if business is None else await _featured(services, business))


@endpoint("write:accounts")
async def add_tag(request: Request, grant: Grant | None) -> Response:
    """Feature ``name`` (with or without ``#``); featuring one already featured answers it."""
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    values = await params.read(request, services.settings.max_body_bytes)
    name = params.text(values, "name").strip().removeprefix("#")
    if not name:
        raise Unprocessable("Validation failed: Tag can't be blank")
    current = list(business.featured_tags)
    if name.lower() not in {t.lower() for t in current}:
        if len(current) >= MAX_FEATURED_TAGS:
            raise Unprocessable(
                f"Validation failed: You cannot feature more than {MAX_FEATURED_TAGS} hashtags"
            )
        business = await change_business(services, business, {"featured_tags": [*current, name]})
    items = await _featured(services, business)
    return json(next(i for i in items if i["name"].lower() == name.lower()))


@endpoint("write:accounts")
async def remove_tag(request: Request, grant: Grant | None) -> Response:
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    wanted = str(request.path_params["id"])
    kept = [t for t in business.featured_tags if tag_id(t) != wanted]
    if len(kept) == len(business.featured_tags):
        raise NotFound("Record not found")
    await change_business(services, business, {"featured_tags": kept})
    return json({})


@endpoint("read:accounts")
async def suggestions(request: Request, grant: Grant | None) -> Response:
    """The business's most used hashtags (newest posts) that it does not feature, as Tags."""
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    featured = {t.lower() for t in business.featured_tags}
    uses = await post_lists.tag_uses(services.store, business.id)
    best = sorted(
        (u for key, u in uses.items() if key not in featured),
        key=lambda u: (-u.count, -u.last_at),
    )[:SUGGESTIONS]
    return json(
        [
            {
                "id": tag_id(u.name),
                "name": u.name,
                "url": services.urls.tag_page(business.username, u.name),
                "history": [],
                "following": False,
                "featuring": False,
            }
            for u in best
        ]
    )


# -- endorsements ----------------------------------------------------------------------------


async def _endorsed(
    request: Request, services: Services, business: Business, path: str
) -> Response:
    page = page_of(params.query(request), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    rows = await endorsements.page(
        services.store, business.id, limit=page.limit, max_id=page.max_id
    )
    items = [remote_account(services, actor) for _i, actor in rows]
    return paged(services, path, page, items, [i for i, _ in rows], when_full=True)


@endpoint("read:accounts")
async def own_endorsements(request: Request, grant: Grant | None) -> Response:
    assert grant is not None
    services: Services = request.app.state.services
    return await _endorsed(request, services, grant.account(), "/api/v1/endorsements")


@endpoint("read:accounts", token=False)
async def account_endorsements(request: Request, grant: Grant | None) -> Response:
    """The accounts a business features (Mastodon 4.4); ``[]`` for an account elsewhere."""
    services: Services = request.app.state.services
    business = await _business_named(request, services)
    if business is None:
        return json([])
    path = f"/api/v1/accounts/{business.id}/endorsements"
    return await _endorsed(request, services, business, path)


@endpoint("write:accounts")
async def endorse(request: Request, grant: Grant | None) -> Response:
    """Feature an account the business follows on its profile; answers the Relationship."""
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    actor = await actor_of(services, str(request.path_params["id"]))
    follow = await following_store.of_actor(services.store, business.id, actor.id)
    if follow is None or follow.state != following_store.ACCEPTED:
        raise Unprocessable(
            "Validation failed: You must be already following the person you want to endorse"
        )
    await endorsements.add(services.store, business.id, actor.id, now=services.now_ms())
    return json(await relationship(services, business, actor))


@endpoint("write:accounts")
async def unendorse(request: Request, grant: Grant | None) -> Response:
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    actor = await actor_of(services, str(request.path_params["id"]))
    await endorsements.remove(services.store, business.id, actor.id)
    return json(await relationship(services, business, actor))


routes = [
    Route("/api/v1/featured_tags", list_tags, methods=["GET"]),
    Route("/api/v1/featured_tags", add_tag, methods=["POST"]),
    Route("/api/v1/featured_tags/suggestions", suggestions, methods=["GET"]),
    Route("/api/v1/featured_tags/{id}", remove_tag, methods=["DELETE"]),
    Route("/api/v1/accounts/{id}/featured_tags", account_tags, methods=["GET"]),
    Route("/api/v1/endorsements", own_endorsements, methods=["GET"]),
    Route("/api/v1/accounts/{id}/endorsements", account_endorsements, methods=["GET"]),
    Route("/api/v1/accounts/{id}/pin", endorse, methods=["POST"]),
    Route("/api/v1/accounts/{id}/unpin", unendorse, methods=["POST"]),
    Route("/api/v1/accounts/{id}/endorse", endorse, methods=["POST"]),
    Route("/api/v1/accounts/{id}/unendorse", unendorse, methods=["POST"]),
]
