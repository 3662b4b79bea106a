"""Scheduled posts from a Mastodon app: the admin API's scheduling (``scheduled_at`` on
``commands.create_post``; the worker publishes when due), in Mastodon's ScheduledStatus
shape.

    POST   /api/v1/statuses with scheduled_at     write:statuses → a ScheduledStatus
    GET    /api/v1/scheduled_statuses             read:statuses  soonest first
    GET    /api/v1/scheduled_statuses/{id}        read:statuses
    PUT    /api/v1/scheduled_statuses/{id}        write:statuses  a new scheduled_at
    DELETE /api/v1/scheduled_statuses/{id}        write:statuses  dropped; nothing is sent
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.errors import NotFound, Unprocessable
from fedi_town.mastodon import params
from fedi_town.mastodon.auth import Grant, endpoint, json
from fedi_town.mastodon.entities import VISIBILITY_OUT, iso, media_attachment
from fedi_town.outbound import commands
from fedi_town.protocol.ids import path_id
from fedi_town.services import Services
from fedi_town.store import media as media_store
from fedi_town.store import posts as post_store
from fedi_town.store.businesses import Business
from fedi_town.store.media import Media
from fedi_town.store.posts import Post

#: Scheduled posts listed at most (a business has a handful).
MAX_LISTED = 200


def scheduled_status(
    services: Services, post: Post, media: list[Media], application_id: int | None = None
) -> dict[str, Any]:
    """Mastodon's ScheduledStatus for a post not published yet."""
    return {
        "id": str(post.id),
        "scheduled_at": iso(post.scheduled_at),
        "params": {
            "text": post.content_source,
            "poll": None,
            "media_ids": [str(m.id) for m in media] or None,
            "sensitive": post.sensitive,
            "spoiler_text": post.spoiler_text or None,
            "visibility": VISIBILITY_OUT.get(post.visibility, "direct"),
            "in_reply_to_id": None,
            "language": post.language,
            "application_id": application_id,
            "scheduled_at": None,
            "idempotency": None,
            "with_rate_limit": False,
        },
        "media_attachments": [media_attachment(services, m) for m in media],
    }


async def _scheduled(request: Request, grant: Grant | None) -> tuple[Services, Business, Post]:
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    post_id = path_id(str(request.path_params["id"]), "scheduled status")
    post = await post_store.by_id(services.store, business.id, post_id)
    if post is None or post.is_published:
        raise NotFound("Record not found")
    return services, business, post


@endpoint("read:statuses")
async def list_scheduled(request: Request, grant: Grant | None) -> Response:
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    found = await post_store.page(services.store, business.id, max_id=None, limit=MAX_LISTED)
    waiting = sorted((p for p in found if not p.is_published), key=lambda p: p.scheduled_at or 0)
    media = await media_store.of_posts(services.store, [p.id for p in waiting])
    return json([scheduled_status(services, p, media.get(p.id, [])) for p in waiting])


@endpoint("read:statuses")
async def get_one(request: Request, grant: Grant | None) -> Response:
    services, _business, post = await _scheduled(request, grant)
    media = await media_store.of_post(services.store, post.id)
    return json(scheduled_status(services, post, media))


@endpoint("write:statuses")
async def reschedule(request: Request, grant: Grant | None) -> Response:
    services, business, post = await _scheduled(request, grant)
    values = await params.read(request, services.settings.max_body_bytes)
    when = params.text(values, "scheduled_at")
    if not when:
        raise Unprocessable("Validation failed: scheduled_at can't be blank")
    edited = await commands.edit_post(services, business, post, {"scheduled_at": when})
    media = await media_store.of_post(services.store, post.id)
    return json(scheduled_status(services, edited.post, media))


@endpoint("write:statuses")
async def cancel(request: Request, grant: Grant | None) -> Response:
    services, business, post = await _scheduled(request, grant)
    await commands.delete_post(services, business, post)
    return json({})


_ONE = "/api/v1/scheduled_statuses/{id}"

routes = [
    Route("/api/v1/scheduled_statuses", list_scheduled, methods=["GET"]),
    Route(_ONE, get_one, methods=["GET"]),
    Route(_ONE, reschedule, methods=["PUT"]),
    Route(_ONE, cancel, methods=["DELETE"]),
]
