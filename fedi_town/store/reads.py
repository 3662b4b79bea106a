"""Queries of the read side: posts and their pages, pins, tags, followers, media, replies, counts.

Only published (``published_at`` set), non-deleted posts are listed; a single post is found
whatever its state so the caller can answer 404 (scheduled) or 410 (deleted). Lists are
newest first, ordered by ``(published_at, id)`` so pages are stable.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fedi_town.store.db import Store
from fedi_town.store.media import Media
from fedi_town.store.media import from_row as _media
from fedi_town.store.posts import Post
from fedi_town.store.posts import from_row as _post

#: Visibilities anybody may read (served unsigned, shown on web pages).
PUBLIC_VISIBILITIES = ("public", "unlisted")


@dataclass(frozen=True)
class Reply:
    """A remote Note replying to one of our posts, with its author for display."""

    uri: str
    url: str | None
    content_html: str
    summary: str | None
    published_at: int
    actor_uri: str
    actor_url: str | None
    actor_username: str | None
    actor_domain: str
    actor_display_name: str | None
    #: as stored (JSON): the poll or None, the custom emoji and the attachments
    poll: dict[str, Any] | None = None
    emojis: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)


def _json_list(raw: Any) -> list[Any]:
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        return []
    return value if isinstance(value, list) else []


def _in_list(prefix: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """``:p0, :p1, ...`` and their values, for an ``IN (...)`` of known length."""
    names = [f"{prefix}{i}" for i in range(len(values))]
    return ", ".join(f":{n}" for n in names), dict(zip(names, values, strict=True))


_LISTED = "published_at IS NOT NULL AND deleted_at IS NULL"


# --- posts ----------------------------------------------------------------------------------


async def post_by_id(store: Store, business_id: int, post_id: int) -> Post | None:
    """The post with this id of this business, in any state (scheduled, deleted, ...)."""
    row = await store.fetch_one(
        "SELECT * FROM posts WHERE id = :id AND business_id = :b", {"id": post_id, "b": business_id}
    )
    return _post(row) if row else None


async def count_posts(
    store: Store, business_id: int, visibilities: Sequence[str] = PUBLIC_VISIBILITIES
) -> int:
    marks, values = _in_list("v", visibilities)
    value = await store.fetch_val(
        f"SELECT COUNT(*) FROM posts WHERE business_id = :b AND {_LISTED} "  # noqa: S608
        f"AND visibility IN ({marks})",
        {"b": business_id, **values},
    )
    return int(value or 0)


async def posts_page(
    store: Store,
    business_id: int,
    *,
    limit: int,
    offset: int = 0,
    visibilities: Sequence[str] = PUBLIC_VISIBILITIES,
) -> list[Post]:
    """Published posts of a business, newest first."""
    marks, values = _in_list("v", visibilities)
    rows = await store.fetch_all(
        f"SELECT * FROM posts WHERE business_id = :b AND {_LISTED} "  # noqa: S608
        f"AND visibility IN ({marks}) "
        "ORDER BY published_at DESC, id DESC LIMIT :limit OFFSET :offset",
        {"b": business_id, "limit": limit, "offset": offset, **values},
    )
    return [_post(r) for r in rows]


async def outbox_entries(
    store: Store, business_id: int, *, limit: int, offset: int = 0
) -> list[tuple[str, int]]:
    """The outbox, newest first: ``("post", id)`` for a public or unlisted post, ``("boost",
    id)`` for a boost the business gave (``store.given``)."""
    marks, values = _in_list("v", PUBLIC_VISIBILITIES)
    rows = await store.fetch_all(
        f"SELECT 'post' AS entry, id, published_at AS at FROM posts WHERE business_id = :b "  # noqa: S608
        f"AND {_LISTED} AND visibility IN ({marks}) "
        "UNION ALL SELECT 'boost' AS entry, id, created_at AS at FROM given_reactions "
        "WHERE business_id = :b AND kind = 'announce' "
        "ORDER BY at DESC, id DESC LIMIT :limit OFFSET :offset",
        {"b": business_id, "limit": limit, "offset": offset, **values},
    )
    return [(str(r["entry"]), int(r["id"])) for r in rows]


async def pinned_posts(store: Store, business_id: int, *, limit: int = 20) -> list[Post]:
    """Pinned public/unlisted posts, most recently pinned first (the ``featured`` collection)."""
    marks, values = _in_list("v", PUBLIC_VISIBILITIES)
    rows = await store.fetch_all(
        f"SELECT * FROM posts WHERE business_id = :b AND {_LISTED} "  # noqa: S608
        f"AND pinned_at IS NOT NULL AND visibility IN ({marks}) "
        "ORDER BY pinned_at DESC, id DESC LIMIT :limit",
        {"b": business_id, "limit": limit, **values},
    )
    return [_post(r) for r in rows]


async def tagged_posts(store: Store, business_id: int, tag: str, *, limit: int = 40) -> list[Post]:
    """Public posts of a business carrying ``tag`` (case-insensitive), newest first.

    ``hashtags`` is a JSON list in TEXT: SQL narrows the candidates with LIKE, Python makes the
    exact, case-insensitive comparison.
    """
    wanted = tag.casefold()
    patterns = {json.dumps(tag.lower()), json.dumps(tag.lower(), ensure_ascii=False)}
    values: dict[str, Any] = {"b": business_id, "v": "public"}
    likes = []
    for i, pattern in enumerate(sorted(patterns)):
        escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        values[f"p{i}"] = f"%{escaped}%"
        likes.append(f"LOWER(hashtags) LIKE :p{i} ESCAPE '\\'")
    rows = await store.fetch_all(
        f"SELECT * FROM posts WHERE business_id = :b AND {_LISTED} "  # noqa: S608
        f"AND visibility = :v AND ({' OR '.join(likes)}) "
        "ORDER BY published_at DESC, id DESC LIMIT :limit",
        {**values, "limit": limit * 4},
    )
    posts = [_post(r) for r in rows]
    return [p for p in posts if wanted in {t.casefold() for t in p.hashtags}][:limit]


async def count_local_posts(store: Store) -> int:
    """Published, non-deleted posts of live businesses (NodeInfo ``localPosts``)."""
    value = await store.fetch_val(
        "SELECT COUNT(*) FROM posts p JOIN businesses b ON b.id = p.business_id "
        "WHERE p.published_at IS NOT NULL AND p.deleted_at IS NULL AND b.deleted_at IS NULL"
    )
    return int(value or 0)


async def count_live_businesses(store: Store) -> int:
    """Live businesses (NodeInfo ``users``): the directory, an automated actor, is not one."""
    value = await store.fetch_val(
        "SELECT COUNT(*) FROM businesses WHERE deleted_at IS NULL AND kind = 'business'"
    )
    return int(value or 0)


# --- media ----------------------------------------------------------------------------------


async def media_by_ids(store: Store, media_ids: Iterable[int | None]) -> dict[int, Media]:
    """Media rows by id (avatars, headers); unknown ids are simply absent."""
    ids = sorted({i for i in media_ids if i is not None})
    if not ids:
        return {}
    marks, values = _in_list("m", ids)
    rows = await store.fetch_all(f"SELECT * FROM media WHERE id IN ({marks})", values)  # noqa: S608
    return {int(r["id"]): _media(r) for r in rows}


async def media_for_posts(store: Store, post_ids: Iterable[int]) -> dict[int, list[Media]]:
    """Attachments of each post, in the order the owner gave."""
    ids = sorted(set(post_ids))
    if not ids:
        return {}
    marks, values = _in_list("p", ids)
    rows = await store.fetch_all(
        f"SELECT * FROM media WHERE post_id IN ({marks}) ORDER BY position, id",  # noqa: S608
        values,
    )
    found: dict[int, list[Media]] = {}
    for row in rows:
        found.setdefault(int(row["post_id"]), []).append(_media(row))
    return found


async def media_type_of_path(store: Store, path: str) -> str | None:
    """The stored media type of an uploaded file, or None when no upload has this path."""
    value = await store.fetch_val(
        "SELECT media_type FROM media WHERE path = :p ORDER BY id LIMIT 1", {"p": path}
    )
    return None if value is None else str(value)


# --- followers ------------------------------------------------------------------------------


async def count_followers(store: Store, business_id: int) -> int:
    value = await store.fetch_val(
        "SELECT COUNT(*) FROM follows WHERE business_id = :b AND state = :s",
        {"b": business_id, "s": "accepted"},
    )
    return int(value or 0)


async def followers_page(store: Store, business_id: int, *, limit: int, offset: int) -> list[str]:
    """Actor ids of accepted followers, newest follow first."""
    rows = await store.fetch_all(
        "SELECT a.uri FROM follows f JOIN remote_actors a ON a.id = f.actor_id "
        "WHERE f.business_id = :b AND f.state = :s "
        "ORDER BY f.created_at DESC, f.id DESC LIMIT :limit OFFSET :offset",
        {"b": business_id, "s": "accepted", "limit": limit, "offset": offset},
    )
    return [str(r["uri"]) for r in rows]


async def is_follower(store: Store, business_id: int, actor_uri: str) -> bool:
    """Whether ``actor_uri`` follows the business (accepted)."""
    found = await store.fetch_val(
        "SELECT 1 FROM follows f JOIN remote_actors a ON a.id = f.actor_id "
        "WHERE f.business_id = :b AND f.state = :s AND a.uri = :u",
        {"b": business_id, "s": "accepted", "u": actor_uri},
    )
    return bool(found)


# --- interactions and replies ---------------------------------------------------------------


async def interaction_counts(store: Store, post_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """``{post_id: {"like": n, "announce": m}}`` (missing kinds count 0)."""
    ids = sorted(set(post_ids))
    counts: dict[int, dict[str, int]] = {i: {"like": 0, "announce": 0} for i in ids}
    if not ids:
        return counts
    marks, values = _in_list("p", ids)
    rows = await store.fetch_all(
        f"SELECT post_id, kind, COUNT(*) AS n FROM interactions "  # noqa: S608
        f"WHERE post_id IN ({marks}) GROUP BY post_id, kind",
        values,
    )
    for row in rows:
        counts[int(row["post_id"])][str(row["kind"])] = int(row["n"])
    return counts


#: Replies shown and counted: public/unlisted ones, from actors not gone and not blocked by
#: the instance or by the business. A constant: every value in it is a bound parameter.
_VISIBLE_REPLIES = """FROM remote_notes n JOIN remote_actors a ON a.id = n.actor_id
    WHERE n.in_reply_to_uri = :uri AND n.visibility IN (:v0, :v1) AND a.gone_at IS NULL
    AND NOT EXISTS (SELECT 1 FROM blocks k
        WHERE (k.business_id IS NULL OR k.business_id = :b)
        AND (k.actor_uri = a.uri OR k.domain = a.domain))"""


def _reply_values(post_uri: str, business_id: int) -> dict[str, Any]:
    return {"uri": post_uri, "b": business_id, "v0": "public", "v1": "unlisted"}


async def count_all_replies(store: Store, post_uri: str) -> int:
    """Every stored reply to a post, hidden ones too: what its owner is shown."""
    value = await store.fetch_val(
        "SELECT COUNT(*) FROM remote_notes WHERE in_reply_to_uri = :uri", {"uri": post_uri}
    )
    return int(value or 0)


async def count_replies(store: Store, post_uri: str, business_id: int) -> int:
    sql = f"SELECT COUNT(*) {_VISIBLE_REPLIES}"
    value = await store.fetch_val(sql, _reply_values(post_uri, business_id))
    return int(value or 0)


async def reply_counts(store: Store, post_uris: Iterable[str], business_id: int) -> dict[str, int]:
    """``{post_uri: visible replies}`` for many posts in one query (0 when none)."""
    uris = sorted(set(post_uris))
    counts = dict.fromkeys(uris, 0)
    if not uris:
        return counts
    marks, values = _in_list("r", uris)
    where = _VISIBLE_REPLIES.replace("n.in_reply_to_uri = :uri", f"n.in_reply_to_uri IN ({marks})")
    rows = await store.fetch_all(
        f"SELECT n.in_reply_to_uri AS uri, COUNT(*) AS n {where} GROUP BY n.in_reply_to_uri",
        {**values, "b": business_id, "v0": "public", "v1": "unlisted"},
    )
    for row in rows:
        counts[str(row["uri"])] = int(row["n"])
    return counts


async def reply_uris(
    store: Store, post_uri: str, business_id: int, *, limit: int, offset: int
) -> list[str]:
    """Ids of the replies to a post, oldest first (a conversation reads down)."""
    sql = f"SELECT n.uri {_VISIBLE_REPLIES} ORDER BY n.published_at, n.id"
    rows = await store.fetch_all(
        sql + " LIMIT :limit OFFSET :offset",
        {**_reply_values(post_uri, business_id), "limit": limit, "offset": offset},
    )
    return [str(r["uri"]) for r in rows]


_REPLY_COLUMNS = (
    "n.uri, n.url, n.content_html, n.summary, n.published_at, n.poll, n.emojis, "
    "n.attachments, a.uri AS actor_uri, "
    "a.url AS actor_url, a.username, a.domain, a.display_name"
)


async def replies_for_display(
    store: Store, post_uri: str, business_id: int, *, limit: int = 50
) -> list[Reply]:
    """Replies with their authors, oldest first, for the post page."""
    sql = f"SELECT {_REPLY_COLUMNS} {_VISIBLE_REPLIES} ORDER BY n.published_at, n.id"
    rows = await store.fetch_all(
        sql + " LIMIT :limit", {**_reply_values(post_uri, business_id), "limit": limit}
    )
    return [_reply(r) for r in rows]


def _reply(row: Mapping[str, Any]) -> Reply:
    return Reply(
        uri=row["uri"],
        url=row["url"],
        content_html=row["content_html"],
        summary=row["summary"],
        published_at=int(row["published_at"]),
        actor_uri=row["actor_uri"],
        actor_url=row["actor_url"],
        actor_username=row["username"],
        actor_domain=row["domain"],
        actor_display_name=row["display_name"],
        poll=json.loads(row["poll"]) if row["poll"] else None,
        emojis=json.loads(row["emojis"] or "[]"),
        attachments=json.loads(row["attachments"] or "[]"),
    )


async def last_published_at(store: Store, business_id: int) -> int | None:
    """When the business last published a post still up (Mastodon's ``last_status_at``)."""
    value = await store.fetch_val(
        "SELECT MAX(published_at) FROM posts WHERE business_id = :b AND deleted_at IS NULL",
        {"b": business_id},
    )
    return int(value) if value is not None else None
