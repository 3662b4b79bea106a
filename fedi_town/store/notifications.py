"""Queries on notifications: what a business's owner is told about.

Each notification has a ``dedupe_key`` (UNIQUE) that names the fact it reports, so an
activity handled twice notifies once:

    follow:{follow id}              follow_request:{follow id}
    like:{actor id}:{post id}       announce:{actor id}:{post id}   (type like / boost)
    note:{note id}:{business id}    (type reply or mention)
    report:{report id}:{business id}
    quote:{stamp id}                (type quote: a granted quote of a post, with the quote)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fedi_town.store.actors import JOIN_COLUMNS
from fedi_town.store.db import Row, Store, new_id

TYPES = ("follow", "follow_request", "reply", "mention", "like", "boost", "report", "quote")


async def notify(
    store: Store,
    *,
    business_id: int,
    type: str,
    dedupe_key: str,
    actor_id: int | None = None,
    post_id: int | None = None,
    remote_note_id: int | None = None,
    report_id: int | None = None,
    now: int,
) -> bool:
    """Add a notification unless one with ``dedupe_key`` exists; True if one was added."""
    assert type in TYPES, type
    row = await store.fetch_one(
        "INSERT INTO notifications (id, business_id, type, actor_id, post_id, remote_note_id, "
        "report_id, dedupe_key, created_at) VALUES (:id, :b, :type, :a, :p, :n, :r, :k, :now) "
        "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
        {
            "id": new_id(now),
            "b": business_id,
            "type": type,
            "a": actor_id,
            "p": post_id,
            "n": remote_note_id,
            "r": report_id,
            "k": dedupe_key,
            "now": now,
        },
    )
    return row is not None


async def delete_by_key(store: Store, dedupe_key: str) -> None:
    await store.execute("DELETE FROM notifications WHERE dedupe_key = :k", {"k": dedupe_key})


async def page(
    store: Store,
    business_id: int,
    *,
    limit: int,
    max_id: int | None = None,
    types: Sequence[str] = (),
) -> list[Row]:
    """A page of notifications, newest first, joined with actor, post, note and report.

    Actor columns come prefixed ``a_`` (``store.actors.actor_from_row(row, "a_")``).
    """
    values: dict[str, Any] = {"b": business_id, "limit": limit}
    sql = (
        f"SELECT n.id, n.type, n.created_at, n.read_at, n.post_id, n.report_id, "  # noqa: S608
        f"n.remote_note_id, {JOIN_COLUMNS}, "
        "p.uri AS post_uri, r.uri AS note_uri, r.content_html AS note_content, "
        "r.url AS note_url, r.summary AS note_summary, r.visibility AS note_visibility, "
        "r.published_at AS note_published_at, rep.content AS report_content, "
        "rep.object_uris AS report_objects, rep.actor_uri AS report_actor, "
        "rep.created_at AS report_created_at "
        "FROM notifications n "
        "LEFT JOIN remote_actors a ON a.id = n.actor_id "
        "LEFT JOIN posts p ON p.id = n.post_id "
        "LEFT JOIN remote_notes r ON r.id = n.remote_note_id "
        "LEFT JOIN reports rep ON rep.id = n.report_id "
        "WHERE n.business_id = :b"
    )
    if max_id is not None:
        sql += " AND n.id < :max"
        values["max"] = max_id
    if types:
        names = []
        for i, kind in enumerate(types):
            names.append(f":t{i}")
            values[f"t{i}"] = kind
        sql += f" AND n.type IN ({', '.join(names)})"
    sql += " ORDER BY n.id DESC LIMIT :limit"
    return await store.fetch_all(sql, values)
