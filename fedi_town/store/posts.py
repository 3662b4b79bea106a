"""Queries on a business's own posts (Notes): write, find, page, publish, pin, delete.

A post is published when ``published_at`` is set. A scheduled post waits with
``published_at`` NULL until ``scheduled_at``; ``claim_due`` publishes each one exactly once,
even with several workers: the conditional ``UPDATE … WHERE published_at IS NULL`` lets only
one transaction win a row (PostgreSQL re-checks the condition after waiting on the row
lock; SQLite serialises writers).

``mentions`` is JSON ``[{"href", "name"}]`` (actor id, ``@user@host``), ``hashtags`` JSON
``["tag"]`` and ``extra_inboxes`` JSON ``["inbox"]`` (the inboxes of mentioned and
replied-to actors, kept so a scheduled post and every edit reach them too).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fedi_town.store import announced
from fedi_town.store.db import Row, Store

#: Columns an owner's edit may change.
EDITABLE = (
    "content_source",
    "content_html",
    "spoiler_text",
    "sensitive",
    "language",
    "mentions",
    "hashtags",
    "extra_inboxes",
    "scheduled_at",
    "quote_policy",
)
_JSON_COLUMNS = frozenset({"mentions", "hashtags", "extra_inboxes"})


@dataclass(frozen=True)
class Post:
    """A post as stored."""

    id: int
    business_id: int
    uri: str
    content_source: str
    content_html: str
    spoiler_text: str
    sensitive: bool
    language: str | None
    visibility: str
    in_reply_to_uri: str | None
    mentions: list[dict[str, str]]
    hashtags: list[str]
    extra_inboxes: list[str]
    scheduled_at: int | None
    published_at: int | None
    edited_at: int | None
    pinned_at: int | None
    deleted_at: int | None
    created_at: int
    #: anyone | followers | nobody, or None: the business's setting
    quote_policy: str | None = None
    #: the post this one quotes, our QuoteRequest's id, pending | accepted | rejected, and
    #: the QuoteAuthorization its author granted
    quote_uri: str | None = None
    quote_request_uri: str | None = None
    quote_state: str | None = None
    quote_authorization: str | None = None

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


def from_row(row: Row) -> Post:
    return Post(
        id=int(row["id"]),
        business_id=int(row["business_id"]),
        uri=str(row["uri"]),
        content_source=str(row["content_source"]),
        content_html=str(row["content_html"]),
        spoiler_text=str(row["spoiler_text"] or ""),
        sensitive=bool(row["sensitive"]),
        language=row["language"],
        visibility=str(row["visibility"]),
        in_reply_to_uri=row["in_reply_to_uri"],
        mentions=json.loads(row["mentions"] or "[]"),
        hashtags=json.loads(row["hashtags"] or "[]"),
        extra_inboxes=json.loads(row.get("extra_inboxes") or "[]"),
        scheduled_at=row["scheduled_at"],
        published_at=row["published_at"],
        edited_at=row["edited_at"],
        pinned_at=row["pinned_at"],
        deleted_at=row["deleted_at"],
        created_at=int(row["created_at"]),
        quote_policy=row.get("quote_policy"),
        quote_uri=row.get("quote_uri"),
        quote_request_uri=row.get("quote_request_uri"),
        quote_state=row.get("quote_state"),
        quote_authorization=row.get("quote_authorization"),
    )


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


async def insert(
    store: Store,
    *,
    post_id: int,
    business_id: int,
    uri: str,
    content_source: str,
    content_html: str,
    spoiler_text: str,
    sensitive: bool,
    language: str | None,
    visibility: str,
    in_reply_to_uri: str | None,
    mentions: Sequence[Mapping[str, str]],
    hashtags: Sequence[str],
    extra_inboxes: Sequence[str],
    scheduled_at: int | None,
    published_at: int | None,
    now: int,
    quote_policy: str | None = None,
    quote_uri: str | None = None,
    quote_request_uri: str | None = None,
) -> Post:
    """Write a new post (call inside the transaction that also enqueues its Create); return
    it as stored, built from what was written instead of read back (a new post is neither
    edited, pinned nor deleted)."""
    await store.execute(
        """INSERT INTO posts (id, business_id, uri, content_source, content_html, spoiler_text,
            sensitive, language, visibility, in_reply_to_uri, mentions, hashtags,
            extra_inboxes, scheduled_at, published_at, created_at, quote_policy, quote_uri,
            quote_request_uri, quote_state)
        VALUES (:id, :b, :uri, :src, :html, :cw, :sensitive, :lang, :vis, :reply, :mentions,
            :tags, :inboxes, :scheduled, :published, :now, :quote, :quote_uri, :quote_request,
            :quote_state)""",
        {
            "id": post_id,
            "b": business_id,
            "uri": uri,
            "src": content_source,
            "html": content_html,
            "cw": spoiler_text,
            "sensitive": sensitive,
            "lang": language,
            "vis": visibility,
            "reply": in_reply_to_uri,
            "mentions": _dump(list(mentions)),
            "tags": _dump(list(hashtags)),
            "inboxes": _dump(list(extra_inboxes)),
            "scheduled": scheduled_at,
            "published": published_at,
            "now": now,
            "quote": quote_policy,
            "quote_uri": quote_uri,
            "quote_request": quote_request_uri,
            "quote_state": "pending" if quote_uri else None,
        },
    )
    return Post(
        id=post_id,
        business_id=business_id,
        uri=uri,
        content_source=content_source,
        content_html=content_html,
        spoiler_text=spoiler_text,
        sensitive=sensitive,
        language=language,
        visibility=visibility,
        in_reply_to_uri=in_reply_to_uri,
        mentions=[dict(m) for m in mentions],
        hashtags=list(hashtags),
        extra_inboxes=list(extra_inboxes),
        scheduled_at=scheduled_at,
        published_at=published_at,
        edited_at=None,
        pinned_at=None,
        deleted_at=None,
        created_at=now,
        quote_policy=quote_policy,
        quote_uri=quote_uri,
        quote_request_uri=quote_request_uri,
        quote_state="pending" if quote_uri else None,
    )


async def by_id(store: Store, business_id: int, post_id: int) -> Post | None:
    """A live (not deleted) post of this business, or None."""
    row = await store.fetch_one(
        "SELECT * FROM posts WHERE id = :id AND business_id = :b AND deleted_at IS NULL",
        {"id": post_id, "b": business_id},
    )
    return from_row(row) if row else None


async def by_id_any(store: Store, post_id: int) -> Post | None:
    """A live post with this id, of whichever business."""
    row = await store.fetch_one(
        "SELECT * FROM posts WHERE id = :id AND deleted_at IS NULL", {"id": post_id}
    )
    return from_row(row) if row else None


async def published_by_id(store: Store, post_id: int) -> Post | None:
    """A live published post with this id (any business), or None."""
    row = await store.fetch_one(
        "SELECT * FROM posts WHERE id = :id AND deleted_at IS NULL AND published_at IS NOT NULL",
        {"id": post_id},
    )
    return from_row(row) if row else None


async def by_uri(store: Store, uri: str) -> Post | None:
    """A live published post with this ``uri`` (any business), or None."""
    row = await store.fetch_one(
        "SELECT * FROM posts WHERE uri = :uri AND deleted_at IS NULL AND published_at IS NOT NULL",
        {"uri": uri},
    )
    return from_row(row) if row else None


async def published_by_uri(store: Store, uri: str) -> Post | None:
    """A published post with this ``uri``, deleted or not (a request about a deleted post
    gets a refusal, not silence)."""
    row = await store.fetch_one(
        "SELECT * FROM posts WHERE uri = :uri AND published_at IS NOT NULL", {"uri": uri}
    )
    return from_row(row) if row else None


async def was_deleted(store: Store, uri: str) -> bool:
    """Whether ``uri`` names a post of ours that was deleted."""
    found = await store.fetch_val(
        "SELECT 1 FROM posts WHERE uri = :uri AND deleted_at IS NOT NULL", {"uri": uri}
    )
    return found is not None


async def by_quote_request(store: Store, request_uri: str) -> Post | None:
    """The live post whose QuoteRequest has this id."""
    row = await store.fetch_one(
        "SELECT * FROM posts WHERE quote_request_uri = :r AND deleted_at IS NULL",
        {"r": request_uri},
    )
    return from_row(row) if row else None


async def by_quote_authorization(store: Store, stamp_uri: str) -> Post | None:
    """The live post carrying this stamp (the quote its author granted)."""
    row = await store.fetch_one(
        "SELECT * FROM posts WHERE quote_authorization = :s AND deleted_at IS NULL",
        {"s": stamp_uri},
    )
    return from_row(row) if row else None


async def set_quote_answer(
    store: Store, post_id: int, *, state: str, authorization: str | None
) -> None:
    """Record the quoted author's answer: accepted with its stamp, or rejected/revoked."""
    await store.execute(
        "UPDATE posts SET quote_state = :s, quote_authorization = :a WHERE id = :id",
        {"s": state, "a": authorization, "id": post_id},
    )


async def page(store: Store, business_id: int, *, max_id: int | None, limit: int) -> list[Post]:
    """Live posts newest first (scheduled ones included), ids below ``max_id``."""
    rows = await announced.page(store, "posts", business_id, max_id=max_id, limit=limit)
    return [from_row(r) for r in rows]


async def update(store: Store, post_id: int, changes: Mapping[str, Any]) -> None:
    """Apply ``changes`` (keys from ``EDITABLE``, plus ``edited_at``)."""
    sets = []
    values: dict[str, Any] = {"id": post_id}
    for key, value in changes.items():
        if key not in EDITABLE and key != "edited_at":
            raise KeyError(key)
        sets.append(f"{key} = :{key}")
        values[key] = _dump(value) if key in _JSON_COLUMNS else value
    if sets:
        await store.execute(f"UPDATE posts SET {', '.join(sets)} WHERE id = :id", values)  # noqa: S608


async def mark_deleted(store: Store, post_id: int, now: int) -> None:
    """Soft delete a published post: its URL answers 410 from now on.

    Likes and boosts of it, and the owner's notifications about them, go with it (as on
    Mastodon); replies stay, they belong to their authors.
    """
    await store.execute(
        "UPDATE posts SET deleted_at = :now, pinned_at = NULL WHERE id = :id",
        {"now": now, "id": post_id},
    )
    await store.execute(
        "DELETE FROM notifications WHERE post_id = :id AND type IN ('like', 'boost')",
        {"id": post_id},
    )
    await store.execute("DELETE FROM interactions WHERE post_id = :id", {"id": post_id})
    await store.execute("DELETE FROM post_versions WHERE post_id = :id", {"id": post_id})


async def discard_unpublished(store: Store, post_id: int) -> bool:
    """Remove a post that was never published (a cancelled schedule); True if removed."""
    gone = await store.fetch_val(
        "DELETE FROM posts WHERE id = :id AND published_at IS NULL RETURNING id", {"id": post_id}
    )
    return gone is not None


async def due_ids(store: Store, now: int, limit: int = 50) -> list[int]:
    """Scheduled posts whose time has come (a business that moved away publishes none)."""
    rows = await store.fetch_all(
        "SELECT id FROM posts WHERE published_at IS NULL AND deleted_at IS NULL "
        "AND scheduled_at IS NOT NULL AND scheduled_at <= :now "
        "AND business_id NOT IN (SELECT id FROM businesses WHERE moved_to IS NOT NULL) "
        "ORDER BY scheduled_at, id LIMIT :limit",
        {"now": now, "limit": limit},
    )
    return [int(r["id"]) for r in rows]


async def claim_publication(store: Store, post_id: int, now: int) -> Post | None:
    """Mark a due scheduled post published; the post if this call won it, else None.

    Call inside a transaction that also enqueues the Create, so winning and announcing are
    one step.
    """
    won = await store.fetch_val(
        "UPDATE posts SET published_at = :now WHERE id = :id AND published_at IS NULL "
        "AND deleted_at IS NULL RETURNING id",
        {"now": now, "id": post_id},
    )
    if won is None:
        return None
    row = await store.fetch_one("SELECT * FROM posts WHERE id = :id", {"id": post_id})
    return from_row(row) if row else None


async def pinned_count(store: Store, business_id: int) -> int:
    value = await store.fetch_val(
        "SELECT COUNT(*) FROM posts WHERE business_id = :b AND pinned_at IS NOT NULL "
        "AND deleted_at IS NULL",
        {"b": business_id},
    )
    return int(value or 0)


async def set_pinned(store: Store, post_id: int, pinned_at: int | None) -> None:
    await store.execute(
        "UPDATE posts SET pinned_at = :at WHERE id = :id", {"at": pinned_at, "id": post_id}
    )
