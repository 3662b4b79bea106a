"""The instance's own timelines: every business's public posts, and those with a hashtag.

    GET /api/v1/timelines/public           local=true (or not: only local posts are kept
                                           here); remote=true is empty; only_media
    GET /api/v1/timelines/tag/{hashtag}    local posts with the hashtag; all[] and
                                           none[] as Mastodon reads them (any[] widens
                                           nothing: only the hashtag's posts are read)

Both answer without a token (Mastodon's default), newest first, with Mastodon's paging.
Posts from elsewhere are not kept as a timeline, so the federated timeline is the local one.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.mastodon import params
from fedi_town.mastodon.auth import Grant, endpoint, json
from fedi_town.mastodon.entities import business_account, post_status
from fedi_town.mastodon.paging import Page, page_of, paged
from fedi_town.mastodon.reactions import mark_for
from fedi_town.services import Services
from fedi_town.store import businesses, post_lists
from fedi_town.store.businesses import Business
from fedi_town.store.posts import Post

DEFAULT_LIMIT = 20
MAX_LIMIT = 40


async def statuses_of(services: Services, posts: list[Post]) -> list[dict[str, Any]]:
    """Statuses of posts of several businesses (each business read once)."""
    owners: dict[int, Business | None] = {}
    accounts: dict[int, dict[str, Any]] = {}
    items = []
    for post in posts:
        if post.business_id not in owners:
            owners[post.business_id] = await businesses.by_id(services.store, post.business_id)
        owner = owners[post.business_id]
        if owner is None or owner.kind != "business":
            continue
        if owner.id not in accounts:
            accounts[owner.id] = await business_account(services, owner)
        items.append(await post_status(services, owner, post, account=accounts[owner.id]))
    return items


async def _timeline(
    services: Services,
    wanted: post_lists.Filter,
    page: Page,
    path: str,
    extra: list[tuple[str, str]],
    grant: Grant | None,
) -> Response:
    found = await post_lists.page(
        services.store,
        wanted,
        limit=page.limit,
        max_id=page.max_id,
        since_id=page.since_id,
        min_id=page.min_id,
    )
    items = await mark_for(services, grant, await statuses_of(services, found))
    return paged(services, path, page, items, [p.id for p in found], extra=extra)


@endpoint("read:statuses", token=False)
async def public(request: Request, grant: Grant | None) -> Response:
    services: Services = request.app.state.services
    query = params.query(request)
    page = page_of(query, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    if params.flag(query, "remote"):
        return json([])
    only_media = bool(params.flag(query, "only_media"))
    wanted = post_lists.Filter(business_id=None, visibilities=("public",), only_media=only_media)
    extra = [("local", "true")] + ([("only_media", "true")] if only_media else [])
    return await _timeline(services, wanted, page, "/api/v1/timelines/public", extra, grant)


@endpoint("read:statuses", token=False)
async def tag(request: Request, grant: Grant | None) -> Response:
    """Posts with the hashtag (and all of ``all[]``, none of ``none[]``, checked on the
    page read)."""
    services: Services = request.app.state.services
    query = params.query(request)
    page = page_of(query, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    hashtag = str(request.path_params["hashtag"]).lstrip("#")
    if params.flag(query, "remote") or not hashtag or len(hashtag) > 100:
        return json([])
    only_media = bool(params.flag(query, "only_media"))
    wanted = post_lists.Filter(
        business_id=None, visibilities=("public",), only_media=only_media, tagged=hashtag
    )
    found = await post_lists.page(
        services.store,
        wanted,
        limit=page.limit,
        max_id=page.max_id,
        since_id=page.since_id,
        min_id=page.min_id,
    )
    all_of = {t.casefold() for t in params.strings(query, "all")}
    none_of = {t.casefold() for t in params.strings(query, "none")}
    kept = []
    for post in found:
        tags = {t.casefold() for t in post.hashtags} | {hashtag.casefold()}
        if all_of - tags or (none_of & tags):
            continue
        kept.append(post)
    path = f"/api/v1/timelines/tag/{hashtag}"
    items = await mark_for(services, grant, await statuses_of(services, kept))
    return paged(services, path, page, items, [p.id for p in found])


routes = [
    Route("/api/v1/timelines/public", public, methods=["GET"]),
    Route("/api/v1/timelines/tag/{hashtag}", tag, methods=["GET"]),
]
