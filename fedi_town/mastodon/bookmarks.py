"""Bookmarks from a Mastodon app: statuses the business keeps to read again. Private to
the business (nothing is sent), shared by all its apps, as a Mastodon user's are.

    POST /api/v1/statuses/{id}/bookmark, /unbookmark   write:bookmarks   answers the Status
    GET  /api/v1/bookmarks                             read:bookmarks    newest bookmark
                                                                         first, paged by the
                                                                         bookmark's id (Link)

A status is any the business can see (``reactions.status_of``); bookmarking twice, or
taking back what was never kept, answers the Status. A bookmarked status no longer stored
(its author deleted it) is left out of the list.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.mastodon import params
from fedi_town.mastodon.auth import Grant, endpoint
from fedi_town.mastodon.paging import page_of, paged
from fedi_town.mastodon.reactions import answer_marked, mark, status_at, target
from fedi_town.services import Services
from fedi_town.store import bookmarks as bookmark_store

DEFAULT_LIMIT = 20
MAX_LIMIT = 40


@endpoint("write:bookmarks")
async def bookmark(request: Request, grant: Grant | None) -> Response:
    services, business, status = await target(request, grant)
    await bookmark_store.add(services.store, business.id, status["uri"], now=services.now_ms())
    return await answer_marked(services, business, status)


@endpoint("write:bookmarks")
async def unbookmark(request: Request, grant: Grant | None) -> Response:
    services, business, status = await target(request, grant)
    await bookmark_store.remove(services.store, business.id, status["uri"])
    return await answer_marked(services, business, status)


@endpoint("read:bookmarks")
async def bookmarks(request: Request, grant: Grant | None) -> Response:
    """The business's bookmarks, newest first: ``max_id``/``min_id``/``limit`` name
    bookmark ids, as in Mastodon's Link header."""
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    page = page_of(params.query(request), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    rows = await bookmark_store.page(
        services.store,
        business.id,
        limit=page.limit,
        max_id=page.max_id,
        min_id=page.min_id or page.since_id,
    )
    items = []
    for row in rows:
        status = await status_at(services, business, row.status_uri)
        if status is not None:
            items.append(status)
    await mark(services, business, items)
    return paged(services, "/api/v1/bookmarks", page, items, [row.id for row in rows])


_STATUS = "/api/v1/statuses/{id}"

routes = [
    Route(f"{_STATUS}/bookmark", bookmark, methods=["POST"]),
    Route(f"{_STATUS}/unbookmark", unbookmark, methods=["POST"]),
    Route("/api/v1/bookmarks", bookmarks, methods=["GET"]),
]
