"""Who the business deals with, as a Mastodon app sees it: followers, follow requests,
relationships, blocks. Decisions go through the owner API's own (``api/owner.py``), so a
request authorised from Ivory sends the same ``Accept{Follow}`` as one from the web app.

    GET  /api/v1/accounts/{id}/followers            the business's followers (any token)
    GET  /api/v1/accounts/{id}/following            whom the business follows
    GET  /api/v1/accounts/relationships?id[]=       read:follows
    GET  /api/v1/follow_requests                    read:follows
    POST /api/v1/follow_requests/{account}/authorize, /reject     write:follows
    GET  /api/v1/blocks                             read:blocks   the business's actor blocks
    POST /api/v1/accounts/{id}/follow, /unfollow    write:follows  the owner API's follow
                                                    (``outbound.following``): Follow, Undo
    POST /api/v1/accounts/{id}/block, /unblock      write:blocks
    GET  /api/v1/domain_blocks                      read:blocks   the business's domain blocks
    POST /api/v1/domain_blocks, DELETE /api/v1/domain_blocks   write:blocks (``domain``)

Mutes are ``mastodon/mutes.py``. The followers and follows of an
account elsewhere are not known here: empty lists. Account ids are remote actors' row
ids (or a business's id); paging is by the follow's or the block's id, as Mastodon does.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.api.owner import block as block_command
from fedi_town.api.owner import decide, normalise_domain
from fedi_town.errors import BadRequest, Conflict, NotFound, Unprocessable
from fedi_town.mastodon import params
from fedi_town.mastodon.auth import Grant, endpoint, json
from fedi_town.mastodon.entities import remote_account
from fedi_town.mastodon.paging import page_of, paged
from fedi_town.outbound import following as following_commands
from fedi_town.protocol.ids import path_id
from fedi_town.services import Services
from fedi_town.store import actors, businesses, endorsements, moderation, social
from fedi_town.store import following as following_store
from fedi_town.store import mutes as mute_store
from fedi_town.store.actors import RemoteActor
from fedi_town.store.businesses import Business

DEFAULT_LIMIT = 40
MAX_LIMIT = 80


async def _business_of(services: Services, raw: str) -> Business | None:
    """The business an account id names; None for an account elsewhere that we know
    (whose followers and follows we do not know: empty lists); 404 otherwise."""
    account_id = path_id(raw, "account")
    found = await businesses.by_id(services.store, account_id)
    if found is None and await actors.by_id(services.store, account_id) is not None:
        return None
    if found is None or found.deleted_at is not None or found.kind != "business":
        raise NotFound("Record not found")
    return found


async def actor_of(services: Services, raw: str) -> RemoteActor:
    """The actor an account id names: a remote actor we stored, or another business here
    (through its own ``remote_actors`` row, if it has one)."""
    account_id = path_id(raw, "account")
    found = await actors.by_id(services.store, account_id)
    if found is None:
        business = await businesses.by_id(services.store, account_id)
        if business is not None and business.deleted_at is None:
            found = await actors.by_uri(services.store, services.urls.actor(business.username))
    if found is None:
        raise NotFound("Record not found")
    return found


async def relationship(
    services: Services, business: Business, actor: RemoteActor
) -> dict[str, Any]:
    """Mastodon's Relationship between the business and ``actor`` (by the actor's id)."""
    store = services.store
    theirs = await social.follow_of(store, business.id, actor.id)
    ours = await following_store.of_actor(store, business.id, actor.id)
    blocked = await moderation.find_block(
        store, business_id=business.id, actor_uri=actor.uri, domain=None
    )
    domain_blocked = await moderation.find_block(
        store, business_id=business.id, actor_uri=None, domain=actor.domain
    )
    muted = await mute_store.of_actor(store, business.id, actor.id, now=services.now_ms())
    return {
        "id": str(actor.id),
        "following": ours is not None and ours.state == following_store.ACCEPTED,
        "showing_reblogs": ours is not None,
        "notifying": False,
        "languages": None,
        "followed_by": theirs is not None and theirs.state == "accepted",
        "blocking": blocked is not None,
        "blocked_by": False,
        "muting": muted is not None,
        "muting_notifications": muted is not None and muted.notifications,
        "requested": ours is not None and ours.state != following_store.ACCEPTED,
        "requested_by": theirs is not None and theirs.state == "pending",
        "domain_blocking": domain_blocked is not None,
        "endorsed": await endorsements.is_endorsed(store, business.id, actor.id),
        "note": "",
    }


def _empty_relationship(account_id: str) -> dict[str, Any]:
    return {
        "id": account_id,
        "following": False,
        "showing_reblogs": False,
        "notifying": False,
        "languages": None,
        "followed_by": False,
        "blocking": False,
        "blocked_by": False,
        "muting": False,
        "muting_notifications": False,
        "requested": False,
        "requested_by": False,
        "domain_blocking": False,
        "endorsed": False,
        "note": "",
    }


async def _follows(request: Request, grant: Grant | None, *, state: str, path: str) -> Response:
    """A page of follows of ``state`` (the followers, or the requests) as Accounts."""
    services: Services = request.app.state.services
    if "id" in request.path_params:
        business = await _business_of(services, str(request.path_params["id"]))
        if business is None:
            return json([])
    else:
        assert grant is not None
        business = grant.account()
    page = page_of(params.query(request), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    rows = await social.list_follows(
        services.store, business.id, state=state, limit=page.limit, max_id=page.max_id
    )
    items = [remote_account(services, actor) for _follow, actor in rows]
    return paged(services, path, page, items, [f.id for f, _ in rows], when_full=True)


@endpoint("read:accounts", token=False)
async def followers(request: Request, grant: Grant | None) -> Response:
    path = f"/api/v1/accounts/{request.path_params['id']}/followers"
    return await _follows(request, grant, state="accepted", path=path)


@endpoint("read:accounts", token=False)
async def following(request: Request, grant: Grant | None) -> Response:
    services: Services = request.app.state.services
    business = await _business_of(services, str(request.path_params["id"]))
    if business is None:
        return json([])
    page = page_of(params.query(request), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    rows = await following_store.page(
        services.store,
        business.id,
        limit=page.limit,
        max_id=page.max_id,
        state=following_store.ACCEPTED,
    )
    items = [remote_account(services, actor) for _f, actor in rows]
    path = f"/api/v1/accounts/{business.id}/following"
    return paged(services, path, page, items, [f.id for f, _ in rows], when_full=True)


@endpoint("read:follows")
async def follow_requests(request: Request, grant: Grant | None) -> Response:
    return await _follows(request, grant, state="pending", path="/api/v1/follow_requests")


async def _decide(request: Request, grant: Grant | None, *, accept: bool) -> Response:
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    actor = await actor_of(services, str(request.path_params["id"]))
    follow = await social.follow_of(services.store, business.id, actor.id)
    if follow is None or follow.state != "pending":
        raise NotFound("Record not found")
    await decide(services, business, follow.id, state="pending", accept=accept)
    return json(await relationship(services, business, actor))


@endpoint("write:follows")
async def authorize(request: Request, grant: Grant | None) -> Response:
    return await _decide(request, grant, accept=True)


@endpoint("write:follows")
async def reject(request: Request, grant: Grant | None) -> Response:
    return await _decide(request, grant, accept=False)


@endpoint("read:follows")
async def relationships(request: Request, grant: Grant | None) -> Response:
    """The Relationship with each ``id[]`` (an unknown id gets an all-false one, as
    Mastodon answers for an account it cannot see)."""
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    answers = []
    for raw in params.strings(params.query(request), "id")[:MAX_LIMIT]:
        try:
            actor = await actor_of(services, raw)
        except (NotFound, BadRequest):
            answers.append(_empty_relationship(raw[:40]))
            continue
        answers.append(await relationship(services, business, actor))
    return json(answers)


@endpoint("read:blocks")
async def blocks(request: Request, grant: Grant | None) -> Response:
    """The business's blocks of accounts, newest first (by block id)."""
    return await _block_page(request, grant, accounts=True)


@endpoint("read:blocks")
async def domain_blocks(request: Request, grant: Grant | None) -> Response:
    return await _block_page(request, grant, accounts=False)


async def _block_page(request: Request, grant: Grant | None, *, accounts: bool) -> Response:
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    page = page_of(params.query(request), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    items: list[Any] = []
    ids: list[int] = []
    max_id = page.max_id
    # Blocks of the other kind share the id sequence: read on until a page is full.
    while len(items) < page.limit:
        found = await moderation.list_blocks(
            services.store, business_id=business.id, limit=page.limit, max_id=max_id
        )
        for block in found:
            if len(items) == page.limit:
                break
            if accounts and block.actor_uri is not None:
                actor = await actors.by_uri(services.store, block.actor_uri)
                if actor is not None:
                    items.append(remote_account(services, actor))
                    ids.append(block.id)
            elif not accounts and block.domain is not None:
                items.append(block.domain)
                ids.append(block.id)
        if len(found) < page.limit:
            break
        max_id = found[-1].id
    path = "/api/v1/blocks" if accounts else "/api/v1/domain_blocks"
    return paged(services, path, page, items, ids, when_full=True)


@endpoint("write:follows")
async def follow_account(request: Request, grant: Grant | None) -> Response:
    """Follow the account (``requested`` until its Accept arrives); following it already
    answers the Relationship, as Mastodon does."""
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    raw = str(request.path_params["id"])
    other = await businesses.by_id(services.store, path_id(raw, "account"))
    if other is not None and other.deleted_at is None and other.kind == "business":
        uri = services.urls.actor(other.username)  # a business here: its actor is written
    else:
        uri = (await actor_of(services, raw)).uri
    try:
        await following_commands.follow(services, business, uri)
    except Conflict:
        pass
    answer = await relationship(services, business, await actor_of(services, raw))
    return json({**answer, "id": raw})  # the id asked for, as the app matches on it


@endpoint("write:follows")
async def unfollow_account(request: Request, grant: Grant | None) -> Response:
    """Stop following (or withdraw the request): Undo{Follow}; not following is fine."""
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    actor = await actor_of(services, str(request.path_params["id"]))
    found = await following_store.of_actor(services.store, business.id, actor.id)
    if found is not None:
        try:
            await following_commands.unfollow(services, business, found.id)
        except NotFound:
            pass  # ended meanwhile (a Reject, another unfollow)
    return json(await relationship(services, business, actor))


@endpoint("write:blocks")
async def block_account(request: Request, grant: Grant | None) -> Response:
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    actor = await actor_of(services, str(request.path_params["id"]))
    await block_command(services, business, actor_uri=actor.uri, domain=None)
    return json(await relationship(services, business, actor))


@endpoint("write:blocks")
async def unblock_account(request: Request, grant: Grant | None) -> Response:
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    actor = await actor_of(services, str(request.path_params["id"]))
    found = await moderation.find_block(
        services.store, business_id=business.id, actor_uri=actor.uri, domain=None
    )
    if found is not None:
        await moderation.delete_block(services.store, business_id=business.id, block_id=found.id)
    return json(await relationship(services, business, actor))


async def _domain(request: Request, services: Services) -> str:
    values = await params.read(request, services.settings.max_body_bytes)
    raw = params.text(values, "domain").strip()
    if not raw or "/" in raw or "@" in raw:
        raise Unprocessable("Validation failed: Domain can't be blank or is not a domain")
    return normalise_domain(raw)


@endpoint("write:blocks")
async def block_domain(request: Request, grant: Grant | None) -> Response:
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    domain = await _domain(request, services)
    if domain == services.urls.domain.lower():
        raise Unprocessable("Validation failed: this instance's own domain cannot be blocked")
    await block_command(services, business, actor_uri=None, domain=domain)
    return json({})


@endpoint("write:blocks")
async def unblock_domain(request: Request, grant: Grant | None) -> Response:
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    domain = await _domain(request, services)
    found = await moderation.find_block(
        services.store, business_id=business.id, actor_uri=None, domain=domain
    )
    if found is not None:
        await moderation.delete_block(services.store, business_id=business.id, block_id=found.id)
    return json({})


routes = [
    Route("/api/v1/accounts/relationships", relationships, methods=["GET"]),
    Route("/api/v1/accounts/{id}/followers", followers, methods=["GET"]),
    Route("/api/v1/accounts/{id}/following", following, methods=["GET"]),
    Route("/api/v1/accounts/{id}/follow", follow_account, methods=["POST"]),
    Route("/api/v1/accounts/{id}/unfollow", unfollow_account, methods=["POST"]),
    Route("/api/v1/accounts/{id}/block", block_account, methods=["POST"]),
    Route("/api/v1/accounts/{id}/unblock", unblock_account, methods=["POST"]),
    Route("/api/v1/follow_requests", follow_requests, methods=["GET"]),
    Route("/api/v1/follow_requests/{id}/authorize", authorize, methods=["POST"]),
    Route("/api/v1/follow_requests/{id}/reject", reject, methods=["POST"]),
    Route("/api/v1/blocks", blocks, methods=["GET"]),
    Route("/api/v1/domain_blocks", domain_blocks, methods=["GET"]),
    Route("/api/v1/domain_blocks", block_domain, methods=["POST"]),
    Route("/api/v1/domain_blocks", unblock_domain, methods=["DELETE"]),
]
