"""A business moves to another server, as Mastodon accounts do (docs/moving.md).

    set_aliases(services, business, values)   name the owner's other accounts: the actor's
                                              ``alsoKnownAs`` (each resolved and fetched)
    move(services, business, value)           ``Move`` to every follower, then ``movedTo``

The rules are Mastodon's (``Form::Migration``, ``MoveService``; and, on the receiving side,
``ActivityPub::Activity::Move``, which follows the new account over only if it names the
old one in ``alsoKnownAs``):

- the target is fetched now, never from a cache, and must name this business's actor id in
  its ``alsoKnownAs``: otherwise no follower would move, so nothing is sent (422);
- a business moves once (409); not to itself, nor to an account that moved on (422);
- in one transaction: ``movedTo`` is recorded, followers get the ``Update`` of the actor
  (now with ``movedTo``) and then ``Move{actor: old, object: old, target: new}``, through
  the delivery queue. From then on the business posts no more (``commands.create_post``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from fedi_town.errors import Conflict, FediTownError, ProblemError, Unprocessable
from fedi_town.outbound import profile
from fedi_town.protocol import activities
from fedi_town.protocol.reading import id_of, is_http_url
from fedi_town.remote import actors as remote_actors
from fedi_town.services import Services
from fedi_town.store import businesses, outbox
from fedi_town.store.actors import RemoteActor
from fedi_town.store.businesses import Business
from fedi_town.store.db import new_id
from fedi_town.store.effects import BusinessChanged

log = logging.getLogger(__name__)

#: ``@user@host`` (the leading ``@`` optional), as people copy a handle.
_HANDLE = re.compile(r"\A@?([A-Za-z0-9_.\-]+)@([A-Za-z0-9.\-]+(?::[0-9]{1,5})?)\Z")

#: How many other accounts a business may name (Mastodon sets no small limit; a handful
#: covers every real move).
MAX_ALIASES = 10


def _unprocessable(pointer: str, message: str) -> Unprocessable:
    return Unprocessable(message, errors=[{"pointer": pointer, "message": message}])


async def find_account(services: Services, value: str, pointer: str) -> RemoteActor:
    """The account ``value`` names (an actor id, a profile URL or ``@user@host``), fetched
    now and stored; 422 naming ``pointer`` when it cannot be found."""
    value = value.strip()
    fetcher = services.fetcher()
    try:
        if is_http_url(value):
            uri = value
        else:
            match = _HANDLE.match(value)
            if match is None:
                raise _unprocessable(
                    pointer, "write a handle like @shop@mastodon.example or an account's URL"
                )
            uri = await remote_actors.resolve_handle(fetcher, match.group(1), match.group(2))
        # A profile page's URL answers with the actor, whose id is another URL: ask that.
        document = await remote_actors.fetch_document(fetcher, uri, check_id=False)
        actor_id = id_of(document)
        if actor_id is None or not is_http_url(actor_id):
            raise remote_actors.BadActorDocument("the answer has no id")
        return await remote_actors.fetch_actor(fetcher, actor_id)
    except ProblemError:
        raise
    except FediTownError as exc:
        log.info("could not find account for %s: %s", pointer, exc.__class__.__name__)
        raise _unprocessable(pointer, f"no account was found at {value}") from None


async def set_aliases(services: Services, business: Business, values: list[str]) -> Business:
    """Make ``values`` (each resolved to an actor id) the business's ``alsoKnownAs``, and
    send followers the changed actor. An empty list clears it."""
    if len(values) > MAX_ALIASES:
        raise _unprocessable("/also_known_as", f"at most {MAX_ALIASES} accounts")
    own = services.urls.actor(business.username)
    aliases: list[str] = []
    for n, value in enumerate(values):
        account = await find_account(services, value, f"/also_known_as/{n}")
        if account.uri == own:
            raise _unprocessable(f"/also_known_as/{n}", "this is the business itself")
        if account.uri not in aliases:
            aliases.append(account.uri)
    store = services.store
    async with store.transaction():  # the change and its Update, or neither
        await businesses.set_also_known_as(store, business.id, aliases, now=services.now_ms())
        updated = await businesses.by_id(store, business.id)
        assert updated is not None
        store.after_commit(BusinessChanged(business.username))
        await profile.on_profile_changed(services, updated)
    log.info("business %s names %d other account(s)", business.username, len(aliases))
    return updated


@dataclass(frozen=True)
class Moved:
    """A move just made: the business as it now is, and how many inboxes get the Move."""

    business: Business
    inboxes: int


def _already_moved(business: Business) -> Conflict:
    return Conflict(f"this business already moved to {business.moved_to}")


async def move(services: Services, business: Business, value: str) -> Moved:
    """Move ``business`` to the account ``value`` names (docstring of the module)."""
    if business.moved_to is not None:
        raise _already_moved(business)
    own = services.urls.actor(business.username)
    target = await find_account(services, value, "/target")
    if target.uri == own:
        raise _unprocessable("/target", "a business cannot move to itself")
    if target.moved_to is not None:
        raise _unprocessable("/target", f"{target.uri} has itself moved to {target.moved_to}")
    if own not in target.also_known_as:
        raise _unprocessable(
            "/target",
            f"{target.uri} does not name {own} in alsoKnownAs: on the new account, add this "
            "one as an alias (Mastodon: Settings, Account, Moving from a different account) "
            "first, or no follower would move",
        )
    store = services.store
    now = services.now_ms()
    async with store.transaction():
        if not await businesses.mark_moved(store, business.id, target.uri, now=now):
            current = await businesses.by_id(store, business.id)
            raise _already_moved(current or business)
        moved = await businesses.by_id(store, business.id)
        assert moved is not None
        await profile.on_profile_changed(services, moved)  # the actor now says movedTo
        body = activities.move(
            id=services.urls.activity(business.username, new_id(now)), actor=own, target=target.uri
        )
        inboxes = await outbox.follower_inboxes(store, business.id)
        await outbox.enqueue(store, business_id=business.id, body=body, inboxes=inboxes, now=now)
        store.after_commit(BusinessChanged(business.username))
    log.info(
        "business %s moved to %s: Move to %d inboxes", business.username, target.uri, len(inboxes)
    )
    return Moved(moved, len(inboxes))
