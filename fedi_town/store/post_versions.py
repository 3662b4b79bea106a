"""The versions of an edited post (table ``post_versions``), for a Mastodon app's edit
history (``GET /api/v1/statuses/{id}/history``).

``commands.edit_post`` is the one path every edit takes (admin API, owner web app,
Mastodon API): at the first edit of a published post it writes the original (at its
publication time), then each edit writes the new version (at its ``edited_at``). A post
never edited has no rows: its history is the post itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from fedi_town.store.db import Store, new_id


@dataclass(frozen=True)
class Version:
    """One version of a post: what a reader saw from ``created_at`` on."""

    id: int
    post_id: int
    content_html: str
    spoiler_text: str
    sensitive: bool
    media_ids: list[int]
    created_at: int


async def add(
    store: Store,
    post_id: int,
    *,
    content_html: str,
    spoiler_text: str,
    sensitive: bool,
    media_ids: Sequence[int],
    at: int,
) -> None:
    """Record a version shown from ``at`` on."""
    await store.execute(
        "INSERT INTO post_versions (id, post_id, content_html, spoiler_text, sensitive, "
        "media_ids, created_at) VALUES (:id, :p, :c, :s, :sens, :m, :at)",
        {
            "id": new_id(at),
            "p": post_id,
            "c": content_html,
            "s": spoiler_text,
            "sens": sensitive,
            "m": json.dumps([int(m) for m in media_ids]),
            "at": at,
        },
    )


async def count(store: Store, post_id: int) -> int:
    return int(
        await store.fetch_val(
            "SELECT COUNT(*) FROM post_versions WHERE post_id = :p", {"p": post_id}
        )
        or 0
    )


async def of_post(store: Store, post_id: int) -> list[Version]:
    """Every version of a post, oldest first."""
    rows = await store.fetch_all(
        "SELECT * FROM post_versions WHERE post_id = :p ORDER BY created_at, id", {"p": post_id}
    )
    return [
        Version(
            id=int(r["id"]),
            post_id=int(r["post_id"]),
            content_html=str(r["content_html"]),
            spoiler_text=str(r["spoiler_text"] or ""),
            sensitive=bool(r["sensitive"]),
            media_ids=[int(m) for m in json.loads(r["media_ids"] or "[]")],
            created_at=int(r["created_at"]),
        )
        for r in rows
    ]
