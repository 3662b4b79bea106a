"""Muting accounts from a Mastodon app, as Mastodon does: nothing is sent, the account is
not told; its posts and boosts leave the business's home timeline and, with
``notifications`` (the default), its notifications leave the Mastodon API (the owner app
still lists them: it is shared by the business's people).

    POST /api/v1/accounts/{id}/mute     write:mutes   ``notifications`` (default true),
                                                      ``duration`` (seconds; 0 or none:
                                                      until unmuted); answers the
                                                      Relationship
    POST /api/v1/accounts/{id}/unmute   write:mutes
    GET  /api/v1/mutes                  read:mutes    muted accounts, newest mute first,
                                                      with ``mute_expires_at``; paged by
                                                      the mute's id (Link)

A mute past its expiry (by the services clock) no longer counts anywhere.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.errors import Unprocessable
from fedi_town.mastodon import params
from fedi_town.mastodon.auth import Grant, endpoint, json
from fedi_town.mastodon.entities import iso, remote_account
from fedi_town.mastodon.paging import page_of, paged
from fedi_town.mastodon.relations import actor_of, relationship
from fedi_town.services import Services
from fedi_town.store import mutes as mute_store

DEFAULT_LIMIT = 40
MAX_LIMIT = 80
#: The longest mute one can ask for, ten years (Mastodon takes any number; this keeps the
#: expiry well inside 64 bits).
MAX_DURATION = 10 * 365 * 24 * 3600


def _duration(values: dict[str, Any]) -> int | None:
    """``duration`` in seconds; None for none or 0 (until unmuted); 422 for a word."""
    raw = params.text(values, "duration").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 12:
        raise Unprocessable("Validation failed: Duration is not a number")
    seconds = int(raw)
    if seconds > MAX_DURATION:
        raise Unprocessable("Validation failed: Duration is too long")
    return seconds or None


@endpoint("write:mutes")
async def mute(request: Request, grant: Grant | None) -> Response:
    """Mute the account (again: the new choices replace the old ones)."""
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    actor = await actor_of(services, str(request.path_params["id"]))
    if actor.uri == services.urls.actor(business.username):
        raise Unprocessable("Validation failed: you cannot mute yourself")
    values = await params.read(request, services.settings.max_body_bytes)
    duration = _duration(values)
    notifications = params.flag(values, "notifications")
    now = services.now_ms()
    await mute_store.mute(
        services.store,
        business.id,
        actor.id,
        notifications=True if notifications is None else notifications,
        expires_at=now + duration * 1000 if duration else None,
        now=now,
    )
    return json(await relationship(services, business, actor))


@endpoint("write:mutes")
async def unmute(request: Request, grant: Grant | None) -> Response:
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    actor = await actor_of(services, str(request.path_params["id"]))
    await mute_store.unmute(services.store, business.id, actor.id)
    return json(await relationship(services, business, actor))


@endpoint("read:mutes")
async def mutes(request: Request, grant: Grant | None) -> Response:
    """The accounts the business mutes now, newest mute first."""
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    page = page_of(params.query(request), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    rows = await mute_store.page(
        services.store, business.id, limit=page.limit, max_id=page.max_id, now=services.now_ms()
    )
    items = [
        {**remote_account(services, actor), "mute_expires_at": iso(found.expires_at)}
        for found, actor in rows
    ]
    ids = [found.id for found, _actor in rows]
    return paged(services, "/api/v1/mutes", page, items, ids, older_only=True, when_full=True)


routes = [
    Route("/api/v1/accounts/{id}/mute", mute, methods=["POST"]),
    Route("/api/v1/accounts/{id}/unmute", unmute, methods=["POST"]),
    Route("/api/v1/mutes", mutes, methods=["GET"]),
]
