"""What happened around one of our posts, for its owner: the replies to it and who liked or
boosted it, each with the remote actor who did it.

Unlike the public post page (``reads.replies_for_display``), the owner sees every stored
reply, followers-only and direct ones included, as the reply count of the admin API does.
Pages are newest first by row id (snowflakes, so the order they reached us); ``max_id`` is
exclusive. Actor columns come prefixed ``a_`` (``actors.actor_from_row(row, "a_")``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fedi_town.store.actors import JOIN_COLUMNS, RemoteActor, actor_from_row
from fedi_town.store.db import Store

#: The kinds of ``interactions`` rows: a Like, an Announce (a boost).
KINDS = ("like", "announce")


@dataclass(frozen=True)
class PostReply:
    """A remote note replying to one of our posts, and its author."""

    id: int
    uri: str
    url: str | None
    content_html: str  # sanitised when it was stored
    summary: str | None
    visibility: str
    published_at: int
    edited_at: int | None
    actor: RemoteActor
    #: as stored (JSON): the poll or None, the custom emoji and the attachments
    poll: dict[str, Any] | None = None
    emojis: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class PostInteraction:
    """A like or boost of one of our posts, and who gave it."""

    id: int
    kind: str
    created_at: int
    actor: RemoteActor


def _page(
    sql: str, values: dict[str, Any], max_id: int | None, limit: int
) -> tuple[str, dict[str, Any]]:
    if max_id is not None:
        sql += " AND x.id < :max_id"
        values["max_id"] = max_id
    return sql + " ORDER BY x.id DESC LIMIT :limit", {**values, "limit": limit}


def _reply(row: Mapping[str, Any]) -> PostReply:
    return PostReply(
        id=int(row["id"]),
        uri=str(row["uri"]),
        url=row["url"],
        content_html=str(row["content_html"]),
        summary=row["summary"],
        visibility=str(row["visibility"]),
        published_at=int(row["published_at"]),
        edited_at=row["edited_at"],
        actor=actor_from_row(row, "a_"),
        poll=json.loads(row["poll"]) if row["poll"] else None,
        emojis=json.loads(row["emojis"] or "[]"),
        attachments=json.loads(row["attachments"] or "[]"),
    )


async def replies(
    store: Store, post_uri: str, *, limit: int, max_id: int | None = None
) -> list[PostReply]:
    """Every stored reply to the post ``post_uri``, newest first."""
    sql, values = _page(
        "SELECT x.id, x.uri, x.url, x.content_html, x.summary, x.visibility, "  # noqa: S608
        f"x.published_at, x.edited_at, x.poll, x.emojis, x.attachments, "
        f"{JOIN_COLUMNS} "
        "FROM remote_notes x JOIN remote_actors a ON a.id = x.actor_id "
        "WHERE x.in_reply_to_uri = :uri",
        {"uri": post_uri},
        max_id,
        limit,
    )
    return [_reply(r) for r in await store.fetch_all(sql, values)]


async def interactions(
    store: Store,
    post_id: int,
    *,
    limit: int,
    max_id: int | None = None,
    kind: str | None = None,
) -> list[PostInteraction]:
    """The likes and boosts of the post (only ``kind`` when given), newest first."""
    where = "WHERE x.post_id = :post"
    values: dict[str, Any] = {"post": post_id}
    if kind is not None:
        where += " AND x.kind = :kind"
        values["kind"] = kind
    sql, values = _page(
        f"SELECT x.id, x.kind, x.created_at, {JOIN_COLUMNS} "  # noqa: S608
        f"FROM interactions x JOIN remote_actors a ON a.id = x.actor_id {where}",
        values,
        max_id,
        limit,
    )
    return [
        PostInteraction(int(r["id"]), str(r["kind"]), int(r["created_at"]), actor_from_row(r, "a_"))
        for r in await store.fetch_all(sql, values)
    ]
