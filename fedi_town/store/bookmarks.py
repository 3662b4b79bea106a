"""Statuses a business bookmarked from a Mastodon app (table ``bookmarks``).

A bookmark is private to the business: nothing is sent. The status is named by its
ActivityPub id (one of our posts or a stored remote note), as ``given_reactions`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fedi_town.store.db import Store, new_id


@dataclass(frozen=True)
class Bookmark:
    id: int
    status_uri: str
    created_at: int


async def add(store: Store, business_id: int, status_uri: str, *, now: int) -> None:
    """Bookmark a status (twice is once)."""
    await store.execute(
        "INSERT INTO bookmarks (id, business_id, status_uri, created_at) "
        "VALUES (:id, :b, :u, :now) ON CONFLICT (business_id, status_uri) DO NOTHING",
        {"id": new_id(now), "b": business_id, "u": status_uri, "now": now},
    )


async def remove(store: Store, business_id: int, status_uri: str) -> bool:
    """Take a bookmark away; False if there was none."""
    return bool(
        await store.write_count(
            "DELETE FROM bookmarks WHERE business_id = :b AND status_uri = :u",
            {"b": business_id, "u": status_uri},
        )
    )


async def marked(store: Store, business_id: int, uris: Sequence[str]) -> set[str]:
    """Which of ``uris`` the business bookmarked."""
    if not uris:
        return set()
    names = {f"u{i}": u for i, u in enumerate(dict.fromkeys(uris))}
    rows = await store.fetch_all(
        "SELECT status_uri FROM bookmarks WHERE business_id = :b "  # noqa: S608
        f"AND status_uri IN ({', '.join(':' + n for n in names)})",
        {"b": business_id, **names},
    )
    return {str(r["status_uri"]) for r in rows}


async def page(
    store: Store, business_id: int, *, limit: int, max_id: int | None, min_id: int | None
) -> list[Bookmark]:
    """Bookmarks newest first: older than ``max_id``; with ``min_id``, the ``limit`` right
    after it."""
    values: dict[str, Any] = {"b": business_id, "limit": limit}
    sql = "SELECT id, status_uri, created_at FROM bookmarks WHERE business_id = :b"
    if max_id is not None:
        sql += " AND id < :max"
        values["max"] = max_id
    if min_id is not None:
        sql += " AND id > :min"
        values["min"] = min_id
    order = "ASC" if min_id is not None else "DESC"
    rows = await store.fetch_all(sql + f" ORDER BY id {order} LIMIT :limit", values)
    found = [Bookmark(int(r["id"]), str(r["status_uri"]), int(r["created_at"])) for r in rows]
    return sorted(found, key=lambda b: b.id, reverse=True)


async def delete_all_of(store: Store, business_id: int) -> None:
    """A deleted business's bookmarks."""
    await store.execute("DELETE FROM bookmarks WHERE business_id = :b", {"b": business_id})
