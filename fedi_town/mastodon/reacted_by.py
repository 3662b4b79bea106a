"""Who favourited or reblogged a status, for a Mastodon app:

    GET /api/v1/statuses/{id}/favourited_by   read:accounts (or no token for a public post)
    GET /api/v1/statuses/{id}/reblogged_by    the same

The accounts come from the likes and boosts a post of a business here received
(``interactions``), newest first, paged by the like's or boost's id (``max_id``, Link
``next``; Mastodon pages these by the favourite's or reblog's id too). A remote note
answers ``[]``: who liked it elsewhere is not known here.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.mastodon import params
from fedi_town.mastodon.auth import Grant, endpoint, json
from fedi_town.mastodon.entities import remote_account
from fedi_town.mastodon.paging import page_of, paged
from fedi_town.mastodon.reactions import status_for
from fedi_town.services import Services
from fedi_town.store import post_activity
from fedi_town.store import posts as post_store

DEFAULT_LIMIT = 40
MAX_LIMIT = 80


async def _accounts(request: Request, grant: Grant | None, kind: str, word: str) -> Response:
    services: Services = request.app.state.services
    raw = str(request.path_params["id"])
    status = await status_for(services, grant, raw)
    page = page_of(params.query(request), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    post = await post_store.by_uri(services.store, status["uri"])
    if post is None:
        return json([])
    rows = await post_activity.interactions(
        services.store, post.id, limit=page.limit, max_id=page.max_id, kind=kind
    )
    items = [remote_account(services, row.actor) for row in rows]
    path = f"/api/v1/statuses/{status['id']}/{word}"
    ids = [row.id for row in rows]
    return paged(services, path, page, items, ids, older_only=True, when_full=True)


@endpoint("read:accounts", token=False)
async def favourited_by(request: Request, grant: Grant | None) -> Response:
    return await _accounts(request, grant, "like", "favourited_by")


@endpoint("read:accounts", token=False)
async def reblogged_by(request: Request, grant: Grant | None) -> Response:
    return await _accounts(request, grant, "announce", "reblogged_by")


_STATUS = "/api/v1/statuses/{id}"

routes = [
    Route(f"{_STATUS}/favourited_by", favourited_by, methods=["GET"]),
    Route(f"{_STATUS}/reblogged_by", reblogged_by, methods=["GET"]),
]
