"""Admin API for posts (owner or admin token), described in schemas/admin-api.openapi.yaml:

POST   /api/v1/businesses/{username}/posts                    write (now or scheduled)
POST   /api/v1/businesses/{username}/posts/preview            what a write would make; no write
GET    /api/v1/businesses/{username}/posts                    newest first, max_id/limit
GET    /api/v1/businesses/{username}/posts/{id}
PATCH  /api/v1/businesses/{username}/posts/{id}               edit → Update{Note}
DELETE /api/v1/businesses/{username}/posts/{id}               → Delete{Tombstone}
POST   /api/v1/businesses/{username}/posts/{id}/pin           featured (≤ 5)
POST   /api/v1/businesses/{username}/posts/{id}/unpin
GET    /api/v1/businesses/{username}/posts/{id}/deliveries    who it reached

The answers to a write (POST, PATCH) and to a preview add ``unresolved_mentions``: each
mention left as text, ``{handle, code, reason}`` (``outbound.audience.Unresolved``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.api.auth import require_business
from fedi_town.errors import NotFound
from fedi_town.outbound import commands
from fedi_town.outbound.audience import Unresolved
from fedi_town.protocol.ids import path_id, query_id, query_limit
from fedi_town.protocol.vocabulary import iso8601
from fedi_town.services import Services
from fedi_town.store import deliveries as delivery_store
from fedi_town.store import media as media_store
from fedi_town.store import posts as post_store
from fedi_town.store import reads
from fedi_town.store.businesses import Business
from fedi_town.store.media import Media
from fedi_town.store.posts import Post
from fedi_town.web import json_response, read_json

DEFAULT_LIMIT = 20
MAX_LIMIT = 40


def media_view(services: Services, media: Media) -> dict[str, Any]:
    return {
        "id": str(media.id),
        "type": "image",
        "url": services.urls.media(media.path),
        "media_type": media.media_type,
        "width": media.width,
        "height": media.height,
        "blurhash": media.blurhash,
        "description": media.description,
        "size_bytes": media.size_bytes,
        "post_id": str(media.post_id) if media.post_id is not None else None,
        "created_at": iso8601(media.created_at),
    }


#: The interactions of a post just written: none yet.
NO_INTERACTIONS: Mapping[str, int] = {"replies": 0, "like": 0, "announce": 0}


async def post_view(
    services: Services, business: Business, post: Post, media: list[Media] | None = None
) -> dict[str, Any]:
    """The admin API's JSON for a stored post (its media unless given, and its counts)."""
    if media is None:
        media = await media_store.of_post(services.store, post.id)
    counts = (await reads.interaction_counts(services.store, [post.id]))[post.id]
    replies = await reads.count_all_replies(services.store, post.uri)
    return post_json(services, business, post, media, {**counts, "replies": replies})


def post_json(
    services: Services,
    business: Business,
    post: Post,
    media: Sequence[Media],
    counts: Mapping[str, int],
) -> dict[str, Any]:
    """The admin API's JSON for ``post`` with these attachments and its interaction counts
    (``replies``, ``like``, ``announce``)."""
    return {
        "id": str(post.id),
        "uri": post.uri,
        "url": services.urls.post_page(business.username, post.id),
        "content": post.content_source,
        "content_html": post.content_html,
        "visibility": post.visibility,
        "spoiler_text": post.spoiler_text,
        "sensitive": post.sensitive,
        "quote_policy": post.quote_policy,
        "quote": {
            "uri": post.quote_uri,
            "state": post.quote_state,
            "authorization": post.quote_authorization,
        }
        if post.quote_uri
        else None,
        "language": post.language,
        "in_reply_to": post.in_reply_to_uri,
        "mentions": post.mentions,
        "hashtags": post.hashtags,
        "replies_count": counts["replies"],
        "likes_count": counts["like"],
        "boosts_count": counts["announce"],
        "created_at": iso8601(post.created_at),
        "published_at": iso8601(post.published_at),
        "scheduled_at": iso8601(post.scheduled_at),
        "scheduled": not post.is_published,
        "edited_at": iso8601(post.edited_at),
        "pinned": post.pinned_at is not None,
        "media": [media_view(services, m) for m in media],
    }


async def _business_and_post(request: Request) -> tuple[Services, Business, Post]:
    services: Services = request.app.state.services
    business = await require_business(request, services, request.path_params["username"])
    post_id = path_id(request.path_params["id"], "post")
    post = await post_store.by_id(services.store, business.id, post_id)
    if post is None:
        raise NotFound("no such post")
    return services, business, post


def unresolved_json(unresolved: Sequence[Unresolved]) -> list[dict[str, str]]:
    return [u.as_json() for u in unresolved]


def preview_json(services: Services, draft: commands.Draft) -> dict[str, Any]:
    """The admin API's JSON for a post not written: how it would read, and who it reaches."""
    composition = draft.composition
    return {
        "content_html": composition.html,
        "mentions": composition.mentions,
        "unresolved_mentions": unresolved_json(composition.unresolved),
        "hashtags": composition.hashtags,
        "spoiler_text": draft.spoiler_text,
        "sensitive": draft.sensitive,
        "visibility": draft.visibility,
        "language": draft.language,
        "in_reply_to": draft.reply.uri if draft.reply else None,
        "scheduled_at": iso8601(draft.scheduled_at),
        "characters": len(draft.content),
        "max_characters": commands.MAX_CONTENT,
        "media": [media_view(services, m) for m in draft.media],
    }


async def create(request: Request) -> Response:
    services: Services = request.app.state.services
    business = await require_business(request, services, request.path_params["username"])
    data = await read_json(request, services.settings.max_body_bytes)
    created = await commands.create_post(services, business, data)
    location = f"/api/v1/businesses/{business.username}/posts/{created.post.id}"
    view = post_json(services, business, created.post, created.media, NO_INTERACTIONS)
    view["unresolved_mentions"] = unresolved_json(created.unresolved)
    return json_response(view, 201, headers={"Location": location})


async def preview(request: Request) -> Response:
    """The create body checked and composed as a write would, with nothing stored or sent."""
    services: Services = request.app.state.services
    business = await require_business(request, services, request.path_params["username"])
    data = await read_json(request, services.settings.max_body_bytes)
    draft = await commands.draft_post(services, business, data)
    return json_response(preview_json(services, draft))


async def list_posts(request: Request) -> Response:
    services: Services = request.app.state.services
    business = await require_business(request, services, request.path_params["username"])
    params = request.query_params
    limit = query_limit(params.get("limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    max_id = query_id(params.get("max_id"), "max_id")
    found = await post_store.page(services.store, business.id, max_id=max_id, limit=limit)
    media = await media_store.of_posts(services.store, [p.id for p in found])
    items = [await post_view(services, business, p, media[p.id]) for p in found]
    next_url = None
    if len(found) == limit:
        next_url = (
            f"/api/v1/businesses/{business.username}/posts?max_id={found[-1].id}&limit={limit}"
        )
    return json_response({"items": items, "next": next_url})


async def get_one(request: Request) -> Response:
    services, business, post = await _business_and_post(request)
    return json_response(await post_view(services, business, post))


async def patch(request: Request) -> Response:
    services, business, post = await _business_and_post(request)
    data = await read_json(request, services.settings.max_body_bytes)
    edited = await commands.edit_post(services, business, post, data)
    view = await post_view(services, business, edited.post)
    view["unresolved_mentions"] = unresolved_json(edited.unresolved)
    return json_response(view)


async def delete(request: Request) -> Response:
    services, business, post = await _business_and_post(request)
    await commands.delete_post(services, business, post)
    return Response(status_code=204)


async def pin(request: Request) -> Response:
    services, business, post = await _business_and_post(request)
    changed = await commands.set_pinned(services, business, post, True)
    return json_response(await post_view(services, business, changed))


async def unpin(request: Request) -> Response:
    services, business, post = await _business_and_post(request)
    changed = await commands.set_pinned(services, business, post, False)
    return json_response(await post_view(services, business, changed))


def _delivery_state(row: Any) -> str:
    state = str(row["state"])
    return {"done": "delivered"}.get(state, state)


async def deliveries(request: Request) -> Response:
    services, _business, post = await _business_and_post(request)
    rows = await delivery_store.of_post(services.store, post.id)
    totals = {"delivered": 0, "pending": 0, "failed": 0, "cancelled": 0}
    items = []
    for row in rows:
        state = _delivery_state(row)
        totals[state] = totals.get(state, 0) + 1
        items.append(
            {
                "activity": row["activity_type"],
                "inbox": row["inbox"],
                "host": row["host"],
                "state": state,
                "attempts": int(row["attempts"]),
                "last_status": row["last_status"],
                "last_error": row["last_error"],
                "next_attempt_at": iso8601(row["next_attempt_at"]) if state == "pending" else None,
                "delivered_at": iso8601(row["done_at"]) if state == "delivered" else None,
            }
        )
    return json_response({"totals": totals, "items": items})


_POST = "/api/v1/businesses/{username}/posts/{id}"

routes = [
    Route("/api/v1/businesses/{username}/posts", create, methods=["POST"]),
    Route("/api/v1/businesses/{username}/posts/preview", preview, methods=["POST"]),
    Route("/api/v1/businesses/{username}/posts", list_posts, methods=["GET"]),
    Route(_POST, get_one, methods=["GET"]),
    Route(_POST, patch, methods=["PATCH"]),
    Route(_POST, delete, methods=["DELETE"]),
    Route(f"{_POST}/pin", pin, methods=["POST"]),
    Route(f"{_POST}/unpin", unpin, methods=["POST"]),
    Route(f"{_POST}/deliveries", deliveries, methods=["GET"]),
]
