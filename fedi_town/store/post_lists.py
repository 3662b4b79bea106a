"""Lists of published posts for the Mastodon client API: a business's (with Mastodon's
filters), every business's public ones (the local timeline), by hashtag, and the replies
around a post (a thread's ancestors and descendants).

Paging is by post id (a snowflake: newer is larger), with Mastodon's ``max_id`` (older
than), ``since_id`` (newer than, the newest ones) and ``min_id`` (newer than, the ones
right after it, still answered newest first).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fedi_town.store.actors import JOIN_COLUMNS
from fedi_town.store.db import Row, Store
from fedi_town.store.posts import Post, from_row


@dataclass(frozen=True)
class Filter:
    """Which posts: of one business (None: of every live business), of these
    visibilities, and Mastodon's ``exclude_replies``, ``only_media``, ``pinned`` and
    ``tagged``."""

    business_id: int | None
    visibilities: Sequence[str]
    exclude_replies: bool = False
    only_media: bool = False
    pinned: bool = False
    tagged: str | None = None


def _in(prefix: str, values: Sequence[str], into: dict[str, Any]) -> str:
    names = []
    for i, value in enumerate(values):
        names.append(f":{prefix}{i}")
        into[f"{prefix}{i}"] = value
    return ", ".join(names)


async def page(
    store: Store,
    wanted: Filter,
    *,
    limit: int,
    max_id: int | None = None,
    since_id: int | None = None,
    min_id: int | None = None,
) -> list[Post]:
    """A page of published, live posts matching ``wanted``, newest first."""
    values: dict[str, Any] = {"limit": limit * 4 if wanted.tagged else limit}
    sql = (
        "SELECT p.* FROM posts p JOIN businesses b ON b.id = p.business_id "  # noqa: S608
        "WHERE p.published_at IS NOT NULL AND p.deleted_at IS NULL AND b.deleted_at IS NULL "
        f"AND p.visibility IN ({_in('v', wanted.visibilities, values)})"
    )
    if wanted.business_id is not None:
        sql += " AND p.business_id = :b"
        values["b"] = wanted.business_id
    if wanted.exclude_replies:
        sql += " AND p.in_reply_to_uri IS NULL"
    if wanted.only_media:
        sql += " AND EXISTS (SELECT 1 FROM media m WHERE m.post_id = p.id)"
    if wanted.pinned:
        sql += " AND p.pinned_at IS NOT NULL"
    if wanted.tagged:
        tag = wanted.tagged.lower()
        escaped = json.dumps(tag, ensure_ascii=False)
        escaped = escaped.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        sql += " AND LOWER(p.hashtags) LIKE :tag ESCAPE '\\'"
        values["tag"] = f"%{escaped}%"
    for name, value, op in (("max", max_id, "<"), ("since", since_id, ">"), ("min", min_id, ">")):
        if value is not None:
            sql += f" AND p.id {op} :{name}"
            values[name] = value
    ascending = min_id is not None
    sql += f" ORDER BY p.id {'ASC' if ascending else 'DESC'} LIMIT :limit"
    posts = [from_row(r) for r in await store.fetch_all(sql, values)]
    if wanted.tagged:
        folded = wanted.tagged.casefold()
        posts = [p for p in posts if folded in {t.casefold() for t in p.hashtags}]
    posts = posts[:limit]
    return list(reversed(posts)) if ascending else posts


async def own_replies_to(store: Store, uri: str) -> list[Post]:
    """Published posts of businesses here that answer ``uri``, oldest first."""
    rows = await store.fetch_all(
        "SELECT * FROM posts WHERE in_reply_to_uri = :u AND published_at IS NOT NULL "
        "AND deleted_at IS NULL ORDER BY id LIMIT 100",
        {"u": uri},
    )
    return [from_row(r) for r in rows]


async def notes_replying_to(store: Store, uri: str) -> list[Row]:
    """Stored remote notes that answer ``uri``, oldest first, with their authors' columns
    prefixed ``a_``."""
    return await store.fetch_all(
        f"SELECT n.*, {JOIN_COLUMNS} FROM remote_notes n "  # noqa: S608
        "JOIN remote_actors a ON a.id = n.actor_id WHERE n.in_reply_to_uri = :u "
        "ORDER BY n.published_at, n.id LIMIT 100",
        {"u": uri},
    )


async def note_by_uri(store: Store, uri: str) -> Row | None:
    """A stored remote note with its author's columns prefixed ``a_``."""
    return await store.fetch_one(
        f"SELECT n.*, {JOIN_COLUMNS} FROM remote_notes n "  # noqa: S608
        "JOIN remote_actors a ON a.id = n.actor_id WHERE n.uri = :u",
        {"u": uri},
    )


async def public_note(store: Store, note_id: int) -> Row | None:
    """A stored remote note anyone may see (public or unlisted), with its author's columns
    prefixed ``a_``: one found by search, say, that reached no business."""
    return await store.fetch_one(
        f"SELECT n.*, {JOIN_COLUMNS} FROM remote_notes n "  # noqa: S608
        "JOIN remote_actors a ON a.id = n.actor_id WHERE n.id = :id "
        "AND n.visibility IN ('public', 'unlisted')",
        {"id": note_id},
    )


async def public_notes_of(
    store: Store, actor_id: int, *, limit: int, max_id: int | None = None
) -> list[Row]:
    """A remote actor's stored public and unlisted notes, newest first (by row id), with
    the author's columns prefixed ``a_``."""
    values: dict[str, Any] = {"a": actor_id, "limit": limit}
    sql = (
        f"SELECT n.*, {JOIN_COLUMNS} FROM remote_notes n "  # noqa: S608
        "JOIN remote_actors a ON a.id = n.actor_id WHERE n.actor_id = :a "
        "AND n.visibility IN ('public', 'unlisted')"
    )
    if max_id is not None:
        sql += " AND n.id < :max"
        values["max"] = max_id
    return await store.fetch_all(sql + " ORDER BY n.id DESC LIMIT :limit", values)


@dataclass(frozen=True)
class TagUse:
    """How often a business used a hashtag in its public and unlisted posts, and when
    last (``GET /api/v1/featured_tags``, and the suggestions)."""

    name: str
    count: int
    last_at: int


#: The posts looked at for hashtag use (the newest ones).
TAG_USE_POSTS = 1000


async def tag_uses(store: Store, business_id: int) -> dict[str, TagUse]:
    """Lower-cased hashtag → its use in the business's newest published public and
    unlisted posts (the spelling of the newest post that used it)."""
    rows = await store.fetch_all(
        "SELECT hashtags, published_at FROM posts WHERE business_id = :b "
        "AND published_at IS NOT NULL AND deleted_at IS NULL "
        "AND visibility IN ('public', 'unlisted') ORDER BY id DESC LIMIT :n",
        {"b": business_id, "n": TAG_USE_POSTS},
    )
    found: dict[str, TagUse] = {}
    for row in rows:
        for tag in json.loads(row["hashtags"] or "[]"):
            key = str(tag).lower()
            seen = found.get(key)
            if seen is None:
                found[key] = TagUse(str(tag), 1, int(row["published_at"]))
            else:
                found[key] = TagUse(seen.name, seen.count + 1, seen.last_at)
    return found
