"""Queries on the accounts a business features on its profile (Mastodon's endorsements,
"feature on profile" in Mastodon 4.4): remote actors it follows.

    add(store, business_id, actor_id, now)    False if already featured
    remove(store, business_id, actor_id)      False if it was not
    is_endorsed(store, business_id, actor_id)
    page(store, business_id, limit, max_id)   [(row id, actor)], newest first
"""

from __future__ import annotations

from fedi_town.store.actors import JOIN_COLUMNS, RemoteActor, actor_from_row
from fedi_town.store.db import Store, new_id


async def add(store: Store, business_id: int, actor_id: int, *, now: int) -> bool:
    inserted = await store.write(
        "INSERT INTO endorsements (id, business_id, actor_id, created_at) "
        "VALUES (:id, :b, :a, :now) ON CONFLICT (business_id, actor_id) DO NOTHING RETURNING id",
        {"id": new_id(now), "b": business_id, "a": actor_id, "now": now},
    )
    return bool(inserted)


async def remove(store: Store, business_id: int, actor_id: int) -> bool:
    found = await store.write(
        "DELETE FROM endorsements WHERE business_id = :b AND actor_id = :a RETURNING id",
        {"b": business_id, "a": actor_id},
    )
    return bool(found)


async def is_endorsed(store: Store, business_id: int, actor_id: int) -> bool:
    found = await store.fetch_val(
        "SELECT 1 FROM endorsements WHERE business_id = :b AND actor_id = :a",
        {"b": business_id, "a": actor_id},
    )
    return found is not None


async def page(
    store: Store, business_id: int, *, limit: int, max_id: int | None = None
) -> list[tuple[int, RemoteActor]]:
    """The business's endorsed accounts, newest first, older than ``max_id`` (a row id)."""
    values: dict[str, int] = {"b": business_id, "limit": limit}
    older = ""
    if max_id is not None:
        older = "AND e.id < :max "
        values["max"] = max_id
    rows = await store.fetch_all(
        f"SELECT e.id AS e_id, {JOIN_COLUMNS} FROM endorsements e "  # noqa: S608
        f"JOIN remote_actors a ON a.id = e.actor_id WHERE e.business_id = :b {older}"
        "ORDER BY e.id DESC LIMIT :limit",
        values,
    )
    return [(int(r["e_id"]), actor_from_row(r, "a_")) for r in rows]
