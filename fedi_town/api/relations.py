"""Relationships, one person at a time: neighbours, questions waiting, the week at a glance.

Paths (admin or the business's owner; described in schemas/admin-api.openapi.yaml):
    GET    /api/v1/businesses/{username}/neighbours?limit=&offset=&sort=recent|name
    GET    /api/v1/businesses/{username}/neighbours/{actor_id}
    GET    /api/v1/businesses/{username}/questions?limit=&offset=
    POST   /api/v1/businesses/{username}/questions/{note_id}/dealt-with
    DELETE /api/v1/businesses/{username}/questions/{note_id}/dealt-with
    GET    /api/v1/businesses/{username}/week?start=YYYY-MM-DD

Computed from what federation delivered (``store.relations``). An account the business or
the instance blocks (by account or domain) is left out of every answer, and is 404 on its
own; a deleted account is gone from the rows themselves. Lists are small (one business's
neighbours), so they are filtered whole and paged by ``offset``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.api import views
from fedi_town.api.auth import require_business
from fedi_town.business import hours
from fedi_town.errors import BadRequest, NotFound
from fedi_town.protocol.ids import path_id, query_limit
from fedi_town.protocol.vocabulary import iso8601
from fedi_town.services import Services
from fedi_town.store import moderation, social
from fedi_town.store import relations as store
from fedi_town.store.businesses import Business
from fedi_town.web import json_response

_SORTS = ("recent", "name")
_DAY_MS = 86_400_000


async def _business(request: Request) -> tuple[Services, Business]:
    services: Services = request.app.state.services
    business = await require_business(request, services, request.path_params["username"])
    return services, business


def _offset(request: Request) -> int:
    raw = request.query_params.get("offset", "0")
    if not raw.isdigit() or len(raw) > 9:
        raise BadRequest("offset must be a whole number from 0")
    return int(raw)


T = TypeVar("T")


def _page(
    request: Request, found: Sequence[T], shown: Callable[[T], dict[str, Any]]
) -> dict[str, Any]:
    """The page of ``found`` the request asks for, each entry made by ``shown``: only the
    page's entries are built (a business may have met thousands of accounts)."""
    limit = query_limit(request.query_params.get("limit"), default=20, maximum=80)
    offset = _offset(request)
    items = [shown(entry) for entry in found[offset : offset + limit]]
    following = offset + limit if offset + limit < len(found) else None
    return {"items": items, "total": len(found), "next_offset": following}


async def _visible(services: Services, business: Business) -> list[tuple[Any, int]]:
    blocks = await moderation.block_list(services.store)
    return [
        (actor, at)
        for actor, at in await store.neighbours(services.store, business.id)
        if blocks.first(actor.uri, business.id) is None
    ]


async def list_neighbours(request: Request) -> Response:
    """Every account with a relationship; most recent activity first, or by name."""
    services, business = await _business(request)
    sort = request.query_params.get("sort", "recent")
    if sort not in _SORTS:
        raise BadRequest("sort must be recent or name")
    found = await _visible(services, business)
    if sort == "name":
        found.sort(key=lambda pair: views.account_name(pair[0]).casefold())

    def shown(pair: tuple[Any, int]) -> dict[str, Any]:
        actor, at = pair
        return {
            "id": str(actor.id),
            "account": views.account(actor),
            "last_activity_at": iso8601(at),
        }

    return json_response(_page(request, found, shown))


def _tally(tally: store.Tally) -> dict[str, Any]:
    return {
        "count": tally.count,
        "recent": [
            {
                "uri": item.uri,
                "at": iso8601(item.at),
                "content": item.content_html,
                "note_id": str(item.note_id) if item.note_id is not None else None,
            }
            for item in tally.recent
        ],
    }


async def get_neighbour(request: Request) -> Response:
    services, business = await _business(request)
    actor_id = path_id(request.path_params["actor_id"], "neighbour")
    found = {actor.id: (actor, at) for actor, at in await _visible(services, business)}
    if actor_id not in found:
        raise NotFound("no such neighbour")
    actor, at = found[actor_id]
    done = await store.activity(services.store, business.id, actor)
    return json_response(
        {
            "id": str(actor.id),
            "account": views.account(actor),
            "last_activity_at": iso8601(at),
            "follows_business_since": (
                iso8601(done.followed_at) if done.followed_at is not None else None
            ),
            "business_follows": done.following_state,
            "received": {
                "replies": _tally(done.notes),
                "likes": _tally(done.likes),
                "boosts": _tally(done.boosts),
            },
            "given": {
                "replies": _tally(done.replies_given),
                "likes": _tally(done.likes_given),
                "boosts": _tally(done.boosts_given),
            },
        }
    )


async def _questions(services: Services, business: Business) -> list[store.Question]:
    blocks = await moderation.block_list(services.store)
    return [
        q
        for q in await store.waiting(services.store, business.id)
        if blocks.first(q.actor.uri, business.id) is None
    ]


async def list_questions(request: Request) -> Response:
    """Replies and mentions not answered nor dealt with, oldest first."""
    services, business = await _business(request)

    def shown(q: store.Question) -> dict[str, Any]:
        return {
            "id": str(q.note_id),
            "uri": q.uri,
            "url": q.url or q.uri,
            "in_reply_to": q.in_reply_to_uri,
            "content": q.content_html,
            "received_at": iso8601(q.received_at),
            "account": views.account(q.actor),
            "neighbour_id": str(q.actor.id),
        }

    return json_response(_page(request, await _questions(services, business), shown))


async def _note_id(request: Request, services: Services, business: Business) -> int:
    note_id = path_id(request.path_params["note_id"], "question")
    row = await social.note_for_business(services.store, note_id, business.id)
    if row is None:
        raise NotFound("no such reply or mention")
    return note_id


async def mark_dealt_with(request: Request) -> Response:
    services, business = await _business(request)
    note_id = await _note_id(request, services, business)
    async with services.store.transaction():
        await store.mark_dealt_with(services.store, business.id, note_id, now=services.now_ms())
    return Response(status_code=204)


async def undo_dealt_with(request: Request) -> Response:
    services, business = await _business(request)
    note_id = await _note_id(request, services, business)
    async with services.store.transaction():
        await store.unmark_dealt_with(services.store, business.id, note_id)
    return Response(status_code=204)


def _week_start(raw: str | None, services: Services, business: Business) -> tuple[int, date]:
    """The week's first instant (ms) in the business's time zone and its first day."""
    zone = hours.zone(business.timezone, services.settings.timezone)
    if raw is None:
        today = datetime.fromtimestamp(services.now_ms() / 1000, zone).date()
        first = today - timedelta(days=6)
    else:
        try:
            first = date.fromisoformat(raw)
        except ValueError:
            raise BadRequest("start must be a date, YYYY-MM-DD") from None
        if len(raw) != 10 or not 1970 <= first.year <= 9000:
            raise BadRequest("start must be a date, YYYY-MM-DD, from 1970")
    start = datetime(first.year, first.month, first.day, tzinfo=zone)
    return int(start.timestamp() * 1000), first


def _sentence(gave: int, posts: int) -> str:
    times = "time" if gave == 1 else "times"
    things = "post" if posts == 1 else "posts"
    if gave == 0 and posts == 0:
        return "A quiet week: no posts and nothing given back yet."
    if gave >= posts:
        return f"You gave back {gave} {times} for {posts} {things}: a good neighbour."
    return f"You gave back {gave} {times} for {posts} {things}."


async def get_week(request: Request) -> Response:
    """Counts of one week: what the business published and gave back, what it received."""
    services, business = await _business(request)
    start, first = _week_start(request.query_params.get("start"), services, business)
    last = first + timedelta(days=7)
    zone = hours.zone(business.timezone, services.settings.timezone)
    end = int(datetime(last.year, last.month, last.day, tzinfo=zone).timestamp() * 1000)
    rows = await store.week(services.store, business.id, start, end)
    blocks = await moderation.block_list(services.store)

    def shown(uris: list[str]) -> int:
        return sum(1 for u in uris if blocks.first(u, business.id) is None)

    replies, likes, boosts = (
        shown(rows.replies_given),
        shown(rows.likes_given),
        shown(rows.boosts_given),
    )
    received = [w for u, w in rows.received if blocks.first(u, business.id) is None]
    gave = replies + likes + boosts
    return json_response(
        {
            "start": first.isoformat(),
            "end": (last - timedelta(days=1)).isoformat(),
            "timezone": zone.key,
            "posts_published": rows.posts,
            "replies_given": replies,
            "likes_given": likes,
            "boosts_given": boosts,
            "new_followers": shown(rows.new_followers),
            "replies_received": len(received),
            "still_waiting": sum(1 for w in received if w),
            "gave_back": gave,
            "sentence": _sentence(gave, rows.posts),
        }
    )


_BASE = "/api/v1/businesses/{username}"

routes = [
    Route(f"{_BASE}/neighbours", list_neighbours, methods=["GET"]),
    Route(f"{_BASE}/neighbours/{{actor_id}}", get_neighbour, methods=["GET"]),
    Route(f"{_BASE}/questions", list_questions, methods=["GET"]),
    Route(f"{_BASE}/questions/{{note_id}}/dealt-with", mark_dealt_with, methods=["POST"]),
    Route(f"{_BASE}/questions/{{note_id}}/dealt-with", undo_dealt_with, methods=["DELETE"]),
    Route(f"{_BASE}/week", get_week, methods=["GET"]),
]
