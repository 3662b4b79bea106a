"""The high-street directory: a ``businesses`` row with kind 'directory', and who its members are.

The directory is an actor like a business (keys, WebFinger, inbox, followers all work the same
way) that never logs in and is never listed as a business. At most one is live; the instance
admin creates it (``outbound.directory``). A business is a *member* when it is live, of kind
'business', in the directory (``in_directory``, the owner's opt-out) and discoverable (the
owner's "feature me in directories", as Mastodon means it): members are listed on the front
page and their public posts are boosted by the directory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fedi_town.errors import Conflict
from fedi_town.store import businesses
from fedi_town.store.businesses import Business
from fedi_town.store.db import Store

KIND = "directory"

#: Stored instead of an owner token's hash: a SHA-256 hex digest never contains ":", so no
#: token logs in as the directory.
NO_LOGIN = "directory:no-login"


def is_member(business: Business) -> bool:
    """Listed on the front page and boosted by the directory."""
    return (
        business.kind == "business"
        and business.deleted_at is None
        and business.in_directory
        and business.discoverable
    )


async def find(store: Store) -> Business | None:
    """The live directory, or None."""
    row = await store.fetch_one(
        "SELECT username FROM businesses WHERE kind = :k AND deleted_at IS NULL "
        "ORDER BY id LIMIT 1",
        {"k": KIND},
    )
    return None if row is None else await businesses.by_username(store, str(row["username"]))


async def create(
    store: Store,
    *,
    username: str,
    display_name: str,
    summary: str,
    sealed_private_key: str,
    public_key_pem: str,
    now: int,
) -> Business | None:
    """Insert the directory; None when the username (any case, deleted rows too) is taken,
    ``Conflict`` when a live directory exists (one per instance, also a unique index).

    Written as a business, then marked: kind 'directory', not in the directory itself,
    not indexable (it has no posts of its own), no owner login.
    """
    async with store.transaction():
        if not store.is_sqlite:  # two admins at once: the second waits, then sees the first
            await store.fetch_val("SELECT pg_advisory_xact_lock(7202612)")
        if await find(store) is not None:
            raise Conflict("the instance has a directory already")
        created = await businesses.create(
            store,
            username=username,
            profile={"display_name": display_name, "summary": summary, "indexable": False},
            owner_token_hash=NO_LOGIN,
            sealed_private_key=sealed_private_key,
            public_key_pem=public_key_pem,
            now=now,
        )
        if created is None:
            return None
        await store.execute(
            "UPDATE businesses SET kind = :k, in_directory = :no WHERE id = :id",
            {"k": KIND, "no": False, "id": created.id},
        )
    return await businesses.by_id(store, created.id)


async def members(store: Store) -> list[Business]:
    """Every member business, by username."""
    return [b for b in await businesses.list_all(store) if is_member(b)]


@dataclass(frozen=True)
class SentAnnounce:
    """A directory's boost of a post, as sent, and the inboxes that may hold it."""

    business_id: int
    body: dict[str, Any]
    inboxes: list[str]


async def announces_of(store: Store, post_id: int) -> list[SentAnnounce]:
    """Every Announce of ``post_id`` queued so far, with the inboxes it was sent to (done)
    or at least attempted at (a timed-out attempt may have arrived)."""
    rows = await store.fetch_all(
        "SELECT id, business_id, body FROM outgoing_activities "
        "WHERE post_id = :p AND type = 'Announce' ORDER BY id",
        {"p": post_id},
    )
    found = []
    for row in rows:
        inboxes = await store.fetch_all(
            "SELECT inbox FROM deliveries WHERE activity_id = :a "
            "AND (state = 'done' OR attempts > 0) ORDER BY inbox",
            {"a": row["id"]},
        )
        found.append(
            SentAnnounce(
                int(row["business_id"]), json.loads(row["body"]), [str(r["inbox"]) for r in inboxes]
            )
        )
    return found
