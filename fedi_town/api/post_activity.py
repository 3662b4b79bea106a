"""Admin API for what happened around a post (owner or admin token), described in
schemas/admin-api.openapi.yaml:

    GET /api/v1/businesses/{username}/posts/{id}/replies        the remote notes replying
    GET /api/v1/businesses/{username}/posts/{id}/interactions   likes and boosts (?kind=)

Both page newest first with ``limit`` and ``max_id`` (``next_max_id`` in the answer), like the
other owner lists. The owner sees every reply stored, followers-only and direct ones too;
each item carries its author as an ``Account``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.api import views
from fedi_town.api.auth import require_business
from fedi_town.errors import BadRequest, NotFound
from fedi_town.protocol.ids import path_id
from fedi_town.protocol.vocabulary import iso8601
from fedi_town.read import note_view
from fedi_town.services import Services
from fedi_town.store import post_activity
from fedi_town.store import posts as post_store
from fedi_town.store.posts import Post
from fedi_town.text.emoji import emojify
from fedi_town.web import json_response


async def _post(request: Request) -> tuple[Services, Post]:
    services: Services = request.app.state.services
    business = await require_business(request, services, request.path_params["username"])
    post_id = path_id(request.path_params["id"], "post")
    post = await post_store.by_id(services.store, business.id, post_id)
    if post is None:
        raise NotFound("no such post")
    return services, post


def reply_json(
    reply: post_activity.PostReply, kept: dict[str, str] | None = None, now_ms: int = 0
) -> dict[str, Any]:
    """A reply as the owner sees it; ``kept`` maps the icon URL of each cached custom emoji
    to its ``/proxy/emoji/...`` path (read/note_view.py), ``now_ms`` closes polls."""
    emojis = note_view.shortcodes(reply.emojis, kept or {})
    return {
        "id": str(reply.id),
        "uri": reply.uri,
        "url": reply.url or reply.uri,
        "content_html": emojify(reply.content_html, emojis),
        "spoiler_text": reply.summary or "",
        "spoiler_html": note_view.summary_html(reply.summary, emojis) or "",
        "visibility": reply.visibility,
        "published_at": iso8601(reply.published_at),
        "edited_at": iso8601(reply.edited_at),
        "account": views.account(reply.actor),
        "emojis": [{"shortcode": code, "url": path} for code, path in emojis.items()],
        "poll": note_view.poll_json(reply.poll, now_ms) if reply.poll else None,
        "attachments": reply.attachments,
    }


def interaction_json(item: post_activity.PostInteraction) -> dict[str, Any]:
    return {
        "id": str(item.id),
        "kind": item.kind,
        "created_at": iso8601(item.created_at),
        "account": views.account(item.actor),
    }


async def replies(request: Request) -> Response:
    services, post = await _post(request)
    limit, max_id = views.page_params(request)
    found = await post_activity.replies(services.store, post.uri, limit=limit, max_id=max_id)
    kept = await note_view.kept_emoji(services.store, [r.emojis for r in found])
    items = [reply_json(r, kept, services.now_ms()) for r in found]
    return json_response({"items": items, "next_max_id": views.next_max_id(items, limit)})


async def interactions(request: Request) -> Response:
    services, post = await _post(request)
    limit, max_id = views.page_params(request)
    kind = request.query_params.get("kind") or None
    if kind is not None and kind not in post_activity.KINDS:
        raise BadRequest(
            f"kind must be one of {', '.join(post_activity.KINDS)}",
            errors=[{"parameter": "kind", "message": "not like or announce"}],
        )
    found = await post_activity.interactions(
        services.store, post.id, limit=limit, max_id=max_id, kind=kind
    )
    items = [interaction_json(i) for i in found]
    return json_response({"items": items, "next_max_id": views.next_max_id(items, limit)})


_POST = "/api/v1/businesses/{username}/posts/{id}"

routes = [
    Route(f"{_POST}/replies", replies, methods=["GET"]),
    Route(f"{_POST}/interactions", interactions, methods=["GET"]),
]
