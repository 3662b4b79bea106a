"""Accounts a business muted from a Mastodon app (table ``mutes``).

A mute hides the account's posts and boosts from the business's home timeline and, with
``notifications``, its notifications from the Mastodon API; it sends nothing (the account
is not told). ``expires_at`` (epoch ms, None for never) ends it: a mute past it counts as
gone, and is deleted the next time the business's mutes are listed or changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fedi_town.store.actors import JOIN_COLUMNS, RemoteActor, actor_from_row
from fedi_town.store.db import Store, new_id

#: The SQL condition "this mute is still on at :now" for a ``mutes`` row ``m``.
LIVE = "(m.expires_at IS NULL OR m.expires_at > :now)"


@dataclass(frozen=True)
class Mute:
    id: int
    business_id: int
    actor_id: int
    notifications: bool
    expires_at: int | None
    created_at: int


def _mute(row: Mapping[str, Any], prefix: str = "") -> Mute:
    return Mute(
        id=int(row[prefix + "id"]),
        business_id=int(row[prefix + "business_id"]),
        actor_id=int(row[prefix + "actor_id"]),
        notifications=bool(row[prefix + "notifications"]),
        expires_at=row[prefix + "expires_at"],
        created_at=int(row[prefix + "created_at"]),
    )


async def mute(
    store: Store,
    business_id: int,
    actor_id: int,
    *,
    notifications: bool,
    expires_at: int | None,
    now: int,
) -> None:
    """Mute an account (again: the new ``notifications`` and expiry replace the old)."""
    async with store.transaction():
        await store.execute(
            "DELETE FROM mutes WHERE business_id = :b AND actor_id = :a",
            {"b": business_id, "a": actor_id},
        )
        await store.execute(
            "INSERT INTO mutes (id, business_id, actor_id, notifications, expires_at, "
            "created_at) VALUES (:id, :b, :a, :n, :e, :now)",
            {
                "id": new_id(now),
                "b": business_id,
                "a": actor_id,
                "n": notifications,
                "e": expires_at,
                "now": now,
            },
        )


async def unmute(store: Store, business_id: int, actor_id: int) -> bool:
    """End a mute; False if there was none."""
    return bool(
        await store.write_count(
            "DELETE FROM mutes WHERE business_id = :b AND actor_id = :a",
            {"b": business_id, "a": actor_id},
        )
    )


async def of_actor(store: Store, business_id: int, actor_id: int, *, now: int) -> Mute | None:
    """The business's live mute of an actor, if any."""
    row = await store.fetch_one(
        f"SELECT * FROM mutes m WHERE m.business_id = :b AND m.actor_id = :a AND {LIVE}",  # noqa: S608
        {"b": business_id, "a": actor_id, "now": now},
    )
    return _mute(row) if row is not None else None


async def muted_uris(store: Store, business_id: int, *, now: int) -> set[str]:
    """The actor ids (ActivityPub) of every account the business mutes now."""
    rows = await store.fetch_all(
        "SELECT a.uri FROM mutes m JOIN remote_actors a ON a.id = m.actor_id "  # noqa: S608
        f"WHERE m.business_id = :b AND {LIVE}",
        {"b": business_id, "now": now},
    )
    return {str(r["uri"]) for r in rows}


async def page(
    store: Store, business_id: int, *, limit: int, max_id: int | None, now: int
) -> list[tuple[Mute, RemoteActor]]:
    """The business's live mutes, newest first, ids below ``max_id``; expired ones are
    deleted first."""
    await store.execute(
        "DELETE FROM mutes WHERE business_id = :b AND expires_at IS NOT NULL "
        "AND expires_at <= :now",
        {"b": business_id, "now": now},
    )
    values: dict[str, Any] = {"b": business_id, "limit": limit}
    sql = (
        "SELECT m.id AS m_id, m.business_id AS m_business_id, m.actor_id AS m_actor_id, "  # noqa: S608
        "m.notifications AS m_notifications, m.expires_at AS m_expires_at, "
        f"m.created_at AS m_created_at, {JOIN_COLUMNS} "
        "FROM mutes m JOIN remote_actors a ON a.id = m.actor_id WHERE m.business_id = :b"
    )
    if max_id is not None:
        sql += " AND m.id < :max"
        values["max"] = max_id
    rows = await store.fetch_all(sql + " ORDER BY m.id DESC LIMIT :limit", values)
    return [(_mute(r, "m_"), actor_from_row(r, "a_")) for r in rows]


async def delete_all_of(store: Store, business_id: int) -> None:
    """A deleted business's mutes."""
    await store.execute("DELETE FROM mutes WHERE business_id = :b", {"b": business_id})
