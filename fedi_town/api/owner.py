"""The owner's view of what comes in: notifications, followers, requests, blocks, reports.

Paths (admin or the business's owner; described in schemas/admin-api.openapi.yaml):
    GET    /api/v1/businesses/{username}/notifications?limit=&max_id=&types=
    GET    /api/v1/businesses/{username}/followers?limit=&max_id=
    DELETE /api/v1/businesses/{username}/followers/{id}              Reject{Follow} sent
    GET    /api/v1/businesses/{username}/follow_requests?limit=&max_id=
    POST   /api/v1/businesses/{username}/follow_requests/{id}/accept Accept{Follow} sent
    POST   /api/v1/businesses/{username}/follow_requests/{id}/reject Reject{Follow} sent
    GET    /api/v1/businesses/{username}/blocks
    POST   /api/v1/businesses/{username}/blocks                      {actor} or {domain}
    DELETE /api/v1/businesses/{username}/blocks/{id}
    GET    /api/v1/businesses/{username}/reports
"""

from __future__ import annotations

import json
import logging
import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.api import views
from fedi_town.api.auth import require_business
from fedi_town.errors import FediTownError, NotFound, Unprocessable
from fedi_town.inbound.follow_answers import enqueue_accept, enqueue_reject, follow_object
from fedi_town.outbound import following as following_commands
from fedi_town.protocol.ids import path_id
from fedi_town.read import note_view
from fedi_town.remote import actors as remote_actors
from fedi_town.schemas import validate
from fedi_town.services import Services
from fedi_town.store import actors as store_actors
from fedi_town.store import following as following_store
from fedi_town.store import moderation, notifications, social
from fedi_town.store.businesses import Business
from fedi_town.store.effects import FollowersChanged
from fedi_town.web import json_response, read_json

log = logging.getLogger(__name__)

_HANDLE = re.compile(r"\A@?([^@\s/]+)@([^@\s/]+)\Z")


async def _business(request: Request) -> tuple[Services, Business]:
    services: Services = request.app.state.services
    business = await require_business(request, services, request.path_params["username"])
    return services, business


def _path_id(request: Request, what: str) -> int:
    return path_id(request.path_params["id"], what)


async def list_notifications(request: Request) -> Response:
    services, business = await _business(request)
    limit, max_id = views.page_params(request)
    rows = await notifications.page(
        services.store, business.id, limit=limit, max_id=max_id, types=views.type_filter(request)
    )
    reactions = [{"url": r["reaction_url"]} for r in rows if r["reaction_url"]]
    kept = await note_view.kept_emoji(
        services.store, [json.loads(r["note_emojis"] or "[]") for r in rows] + [reactions]
    )
    now = services.now_ms()
    items = [views.notification(r, kept, now) for r in rows]
    return json_response({"items": items, "next_max_id": views.next_max_id(items, limit)})


async def _follow_page(request: Request, state: str) -> Response:
    services, business = await _business(request)
    limit, max_id = views.page_params(request)
    rows = await social.list_follows(
        services.store, business.id, state=state, limit=limit, max_id=max_id
    )
    items = [views.follow(f, a) for f, a in rows]
    if state == "accepted":  # whether the business follows them back (pending, accepted)
        back = await following_store.states_of(services.store, business.id, [a.id for _, a in rows])
        for item, (_, actor) in zip(items, rows, strict=True):
            item["you_follow"] = back.get(actor.id)
    return json_response({"items": items, "next_max_id": views.next_max_id(items, limit)})


async def list_followers(request: Request) -> Response:
    return await _follow_page(request, "accepted")


async def list_follow_requests(request: Request) -> Response:
    return await _follow_page(request, "pending")


async def decide(
    services: Services, business: Business, follow_id: int, *, state: str, accept: bool
) -> social.Follow | None:
    """Accept or reject a follow request, or remove a follower (reject an accepted one);
    the accepted follow, or None when it was rejected. The Mastodon client API's
    ``follow_requests/{id}/authorize`` and ``reject`` come here too."""
    store = services.store
    async with store.transaction():
        follow = await social.follow_by_id(store, business.id, follow_id)
        if follow is None or follow.state != state:
            what = "follow request" if state == "pending" else "follower"
            raise NotFound(f"no such {what}")
        actor = await store_actors.by_id(store, follow.actor_id)
        assert actor is not None
        embedded = follow_object(follow, business, actor, services.urls)
        if accept:
            await social.set_follow_state(store, follow.id, "accepted", now=services.now_ms())
            await enqueue_accept(services, business, actor, embedded)
        else:
            await social.delete_follow(store, follow.id)
            await enqueue_reject(services, business, actor, embedded)
        services.store.after_commit(FollowersChanged())
    log.info(
        "%s %s %s of %s",
        business.username,
        "accepted" if accept else "rejected",
        "follow request" if state == "pending" else "follower",
        actor.uri,
    )
    if accept:
        return await social.follow_by_id(store, business.id, follow_id)
    return None


async def _decide(request: Request, *, state: str, accept: bool) -> Response:
    services, business = await _business(request)
    follow_id = _path_id(request, "follow request" if state == "pending" else "follower")
    updated = await decide(services, business, follow_id, state=state, accept=accept)
    if updated is not None:
        actor = await store_actors.by_id(services.store, updated.actor_id)
        assert actor is not None
        return json_response(views.follow(updated, actor))
    return Response(status_code=204)


async def accept_request(request: Request) -> Response:
    return await _decide(request, state="pending", accept=True)


async def reject_request(request: Request) -> Response:
    return await _decide(request, state="pending", accept=False)


async def remove_follower(request: Request) -> Response:
    return await _decide(request, state="accepted", accept=False)


def normalise_domain(raw: str) -> str:
    """A domain as blocks store it: lowercase, IDNA, no trailing dot, optional port."""
    text = raw.strip().rstrip(".").lower()
    host, _, port = text.partition(":")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise Unprocessable(
            "not a domain name",
            errors=[{"pointer": "/domain", "message": "This is not a domain name."}],
        ) from None
    return f"{host}:{port}" if port else host


async def resolve_actor(services: Services, value: str) -> str:
    """An actor id from an actor URI or a ``@user@host`` handle (known, else WebFinger)."""
    value = value.strip()
    if value.startswith(("https://", "http://")):
        return value
    match = _HANDLE.match(value)
    if match is None:
        raise Unprocessable(
            "actor must be an actor URI or a @user@host handle",
            errors=[
                {
                    "pointer": "/actor",
                    "message": "Write a handle like @alice@mastodon.example, "
                    "or the address of their profile.",
                }
            ],
        )
    username, domain = match.group(1), match.group(2).lower()
    known = await store_actors.by_handle(services.store, username, domain)
    if known is not None:
        return known.uri
    try:
        return await remote_actors.resolve_handle(services.fetcher(), username, domain)
    except FediTownError as exc:
        log.info("could not resolve @%s@%s: %s", username, domain, exc.__class__.__name__)
        raise Unprocessable(
            f"could not find @{username}@{domain}",
            errors=[
                {
                    "pointer": "/actor",
                    "message": f"Nobody called @{username}@{domain} was found. Check the spelling.",
                }
            ],
        ) from None


async def list_blocks(request: Request) -> Response:
    services, business = await _business(request)
    limit, max_id = views.page_params(request)
    blocks = await moderation.list_blocks(
        services.store, business_id=business.id, limit=limit, max_id=max_id
    )
    items = [views.block(b) for b in blocks]
    return json_response({"items": items, "next_max_id": views.next_max_id(items, limit)})


async def block(
    services: Services, business: Business, *, actor_uri: str | None, domain: str | None
) -> tuple[moderation.Block, bool]:
    """Block an actor or a domain: their follows end (with a Reject{Follow} each), so do the
    business's follows of them (with an Undo{Follow} each), and what they send is refused
    from now on. The block, and whether it is new. (The Mastodon client API's account
    and domain blocks come here too.)"""
    store = services.store
    async with store.transaction():
        found, created = await moderation.add_block(
            store,
            business_id=business.id,
            actor_uri=actor_uri,
            domain=domain,
            now=services.now_ms(),
        )
        removed = await social.follows_from(
            store, business_id=business.id, actor_uri=actor_uri, domain=domain
        )
        for follow, actor in removed:
            await social.delete_follow(store, follow.id)
            embedded = follow_object(follow, business, actor, services.urls)
            await enqueue_reject(services, business, actor, embedded)
        followed = await following_store.matching(
            store, business_id=business.id, actor_uri=actor_uri, domain=domain
        )
        await following_commands.end_follows(services, followed)
    moderation.blocks_changed(store)  # committed: no check may keep the list from before
    services.store.after_commit(FollowersChanged())
    log.info(
        "%s blocked %s (%d follow(s) removed)", business.username, actor_uri or domain, len(removed)
    )
    return found, created


async def create_block(request: Request) -> Response:
    services, business = await _business(request)
    data = await read_json(request, services.settings.max_body_bytes)
    validate("block-create", data)
    actor_uri = await resolve_actor(services, data["actor"]) if "actor" in data else None
    domain = normalise_domain(data["domain"]) if "domain" in data else None
    found, created = await block(services, business, actor_uri=actor_uri, domain=domain)
    return json_response(views.block(found), 201 if created else 200)


async def delete_block(request: Request) -> Response:
    services, business = await _business(request)
    deleted = await moderation.delete_block(
        services.store, business_id=business.id, block_id=_path_id(request, "block")
    )
    if not deleted:
        raise NotFound("no such block")
    return Response(status_code=204)


async def list_reports(request: Request) -> Response:
    services, business = await _business(request)
    limit, max_id = views.page_params(request)
    reports = await moderation.list_reports(
        services.store, business_id=business.id, limit=limit, max_id=max_id
    )
    items = [views.report(r) for r in reports]
    return json_response({"items": items, "next_max_id": views.next_max_id(items, limit)})


_BASE = "/api/v1/businesses/{username}"

routes = [
    Route(f"{_BASE}/notifications", list_notifications, methods=["GET"]),
    Route(f"{_BASE}/followers", list_followers, methods=["GET"]),
    Route(f"{_BASE}/followers/{{id}}", remove_follower, methods=["DELETE"]),
    Route(f"{_BASE}/follow_requests", list_follow_requests, methods=["GET"]),
    Route(f"{_BASE}/follow_requests/{{id}}/accept", accept_request, methods=["POST"]),
    Route(f"{_BASE}/follow_requests/{{id}}/reject", reject_request, methods=["POST"]),
    Route(f"{_BASE}/blocks", list_blocks, methods=["GET"]),
    Route(f"{_BASE}/blocks", create_block, methods=["POST"]),
    Route(f"{_BASE}/blocks/{{id}}", delete_block, methods=["DELETE"]),
    Route(f"{_BASE}/reports", list_reports, methods=["GET"]),
]
