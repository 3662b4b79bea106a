"""A business follows someone, or stops: Follow and Undo{Follow}, through the delivery queue.

    find_account(services, business, account)   ``@user@host`` or an actor URL -> the actor
    follow(services, business, account)         pending follow + Follow queued, one transaction
    unfollow(services, business, following_id)  follow deleted + Undo{Follow} queued
    end_follows(services, rows)                 what a new block does to follows it covers

The network work (WebFinger, fetching the actor, both through the SSRF-guarded client) comes
first, outside the transaction; another business here is looked up in the database and its
activities never leave the instance (``outbound.deliver`` hands them to the local inbox).
The follow stays ``pending`` until the other side's Accept (``inbound.handlers.follows``).

An account that cannot be followed is refused with 422 and the reason in words for the
owner (``audience.why_unresolved``: unknown, deleted, blocked, private or unreachable host);
the business itself, too. A second follow of the same account is 409; nothing is written.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from fedi_town.errors import Conflict, FediTownError, NotFound, Unprocessable
from fedi_town.outbound.audience import Unresolved, resolve_mention, why_unresolved
from fedi_town.protocol import activities
from fedi_town.protocol.reading import is_http_url
from fedi_town.remote import actors as remote_actors
from fedi_town.services import Services
from fedi_town.store import actors as store_actors
from fedi_town.store import businesses, local_actors, moderation, outbox
from fedi_town.store import following as following_store
from fedi_town.store.actors import RemoteActor
from fedi_town.store.businesses import Business
from fedi_town.store.db import new_id
from fedi_town.store.effects import FollowersChanged
from fedi_town.store.following import Following
from fedi_town.text.compose import MentionRef

log = logging.getLogger(__name__)

_HANDLE = re.compile(r"\A@?([^@\s/:]+)(?:@([^@\s/]+))?\Z")
_POINTER = "/account"


def _refused(detail: str, message: str) -> Unprocessable:
    return Unprocessable(detail, errors=[{"pointer": _POINTER, "message": message}])


def _unresolved(found: Unresolved) -> Unprocessable:
    return Unprocessable(
        f"cannot follow {found.handle}: {found.reason}",
        errors=[{"pointer": _POINTER, "message": found.reason, "code": found.code}],
    )


async def _by_handle(services: Services, business: Business, ref: MentionRef) -> RemoteActor:
    found = await resolve_mention(services, ref, business.id)
    if isinstance(found, Unresolved):
        raise _unresolved(found)
    return await _actor_at(services, found.mention.href)


async def _actor_at(services: Services, uri: str) -> RemoteActor:
    """The stored actor ``uri`` (a business here is written from the database)."""
    local = await local_actors.business_at(services.store, services.urls, uri)
    if local is not None:
        return await local_actors.as_actor(
            services.store, services.urls, local, now=services.now_ms()
        )
    actor = await store_actors.by_uri(services.store, uri)
    if actor is None:  # resolve_mention stored it; only a race with a Delete gets here
        raise _refused(f"{uri} is no longer known", "That account cannot be found any more.")
    return actor


async def _by_url(services: Services, business: Business, uri: str) -> RemoteActor:
    if local_actors.username_at(services.urls, uri) is not None:
        if await local_actors.business_at(services.store, services.urls, uri) is None:
            domain = services.urls.domain
            raise _refused(f"no business at {uri}", f"No account by that name on {domain}.")
        return await _actor_at(services, uri)
    if uri.startswith(services.urls.base + "/"):
        raise _refused(f"{uri} is not an account", "That address is not an account here.")
    host = urlsplit(uri).netloc.lower()
    block = await moderation.blocking(services.store, uri, business.id)
    if block is not None:
        raise _refused(f"cannot follow {uri}: blocked", "That account or its server is blocked.")
    try:
        return await remote_actors.known_or_fetch(services.fetcher(), uri)
    except FediTownError as exc:
        code, reason = why_unresolved(exc, host)
        log.info("follow of %s refused: %s (%s)", uri, code, type(exc).__name__)
        raise Unprocessable(
            f"cannot follow {uri}: {reason}",
            errors=[{"pointer": _POINTER, "message": reason, "code": code}],
        ) from None


async def find_account(services: Services, business: Business, account: str) -> RemoteActor:
    """The actor named by ``@user@host``, ``@user`` (a business here) or an actor URL."""
    value = account.strip()
    if is_http_url(value):
        return await _by_url(services, business, value)
    match = _HANDLE.match(value)
    if match is None:
        raise _refused(
            "account must be a @user@host handle or an actor URL",
            "Write a handle like @alice@mastodon.example, or the address of their profile.",
        )
    return await _by_handle(services, business, MentionRef(match.group(1), match.group(2)))


async def follow(
    services: Services, business: Business, account: str
) -> tuple[Following, RemoteActor]:
    """Follow ``account``: a pending follow and its Follow, queued in one transaction."""
    actor = await find_account(services, business, account)
    urls = services.urls
    if actor.uri == urls.actor(business.username):
        raise _refused("a business cannot follow itself", "That is this business's own account.")
    store = services.store
    now = services.now_ms()
    async with store.transaction():
        existing = await following_store.of_actor(store, business.id, actor.id)
        if existing is not None:
            already = "already follows" if existing.state == "accepted" else "already asked"
            raise Conflict(f"{business.username} {already} {actor.handle or actor.uri}")
        row = await following_store.insert(
            store,
            business_id=business.id,
            actor_id=actor.id,
            follow_uri=urls.activity(business.username, new_id(now)),
            now=now,
        )
        body = activities.follow(
            id=row.follow_uri, actor=urls.actor(business.username), object=actor.uri
        )
        inbox = actor.inbox or actor.shared_inbox
        await outbox.enqueue(
            store, business_id=business.id, body=body, inboxes=[inbox] if inbox else [], now=now
        )
    log.info("%s asked to follow %s", business.username, actor.uri)
    return row, actor


async def _queue_undo(
    services: Services, business: Business, row: Following, actor: RemoteActor
) -> None:
    """Undo{Follow} to the followed actor; call inside the transaction that deletes ``row``."""
    urls = services.urls
    now = services.now_ms()
    sender = urls.actor(business.username)
    followed = activities.follow(id=row.follow_uri, actor=sender, object=actor.uri)
    body = activities.undo(
        id=urls.activity(business.username, new_id(now)), actor=sender, activity=followed
    )
    inbox = actor.inbox or actor.shared_inbox
    await outbox.enqueue(
        services.store,
        business_id=business.id,
        body=body,
        inboxes=[inbox] if inbox else [],
        now=now,
    )


async def unfollow(services: Services, business: Business, following_id: int) -> RemoteActor:
    """Stop following (or withdraw the request): the row goes, Undo{Follow} is queued."""
    store = services.store
    async with store.transaction():
        found = await following_store.by_id(store, business.id, following_id)
        if found is None:
            raise NotFound(f"{business.username} does not follow that account")
        row, actor = found
        await following_store.delete(store, row.id)
        await _queue_undo(services, business, row, actor)
        store.after_commit(FollowersChanged())
    log.info("%s unfollowed %s", business.username, actor.uri)
    return actor


async def end_follows(services: Services, rows: Sequence[tuple[Following, RemoteActor]]) -> None:
    """End each follow (a block now covers it), Undo{Follow} queued; call in the block's
    transaction."""
    senders: dict[int, Business | None] = {}
    for row, actor in rows:
        if row.business_id not in senders:
            senders[row.business_id] = await businesses.by_id(services.store, row.business_id)
        business = senders[row.business_id]
        await following_store.delete(services.store, row.id)
        if business is not None and business.deleted_at is None:
            await _queue_undo(services, business, row, actor)
    if rows:
        services.store.after_commit(FollowersChanged())
