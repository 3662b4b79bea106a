"""Queries on the home timeline: the posts and boosts of the accounts a business follows.

A post is one shared ``remote_notes`` row (also used for replies and mentions); each
business that sees it has a ``timeline`` row naming the note, with ``entry_uri`` the note's
id for a post or the ``Announce``'s id for a boost (and ``boosted_by``, the booster). So a
note two businesses follow is stored once, a note boosted twice shows twice, and an edit or
a Delete of the note reaches every timeline at once.

Rows are added only for businesses whose follow of the author (or booster) is accepted
(``followers_of``); ending a follow removes that account's rows (``store.following``); the
worker's cleanup deletes rows older than ``FEDI_TOWN_TIMELINE_DAYS`` and then the notes
nothing shows any more (``store.retention``).

Adding an entry records a ``timeline`` stream event, and removing a boost (or deleting a
note, ``store.social``) a ``delete``, in the same transaction, so apps connected to the
business's ``user`` stream hear of it (``mastodon/streaming.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fedi_town.store import stream_events
from fedi_town.store.actors import JOIN_COLUMNS, RemoteActor, actor_from_row
from fedi_town.store.db import Row, Store, new_id
from fedi_town.store.following import ACCEPTED


@dataclass(frozen=True)
class Entry:
    """One item of a home timeline: a note, its author, and who boosted it (if a boost)."""

    id: int
    business_id: int
    entry_uri: str
    created_at: int
    note_id: int
    note_uri: str
    content_html: str
    summary: str | None
    url: str | None
    visibility: str
    in_reply_to_uri: str | None
    published_at: int
    edited_at: int | None
    attachments: list[dict[str, Any]]
    author: RemoteActor
    booster: RemoteActor | None
    #: the business has a (live) post in reply to the note
    replied: bool


async def followers_of(store: Store, actor_id: int) -> list[int]:
    """Businesses whose follow of the actor is accepted: whose timelines its posts reach."""
    rows = await store.fetch_all(
        "SELECT business_id FROM following WHERE actor_id = :a AND state = :s",
        {"a": actor_id, "s": ACCEPTED},
    )
    return [int(r["business_id"]) for r in rows]


async def followers_of_many(store: Store, actor_ids: Iterable[int]) -> dict[int, list[int]]:
    """``followers_of`` for each of ``actor_ids`` in one query (an actor nobody follows maps
    to an empty list)."""
    names = {f"a{i}": actor_id for i, actor_id in enumerate(dict.fromkeys(actor_ids))}
    found: dict[int, list[int]] = {actor_id: [] for actor_id in names.values()}
    if not names:
        return found
    rows = await store.fetch_all(
        "SELECT actor_id, business_id FROM following "  # noqa: S608
        f"WHERE state = :s AND actor_id IN ({', '.join(':' + k for k in names)})",
        {**names, "s": ACCEPTED},
    )
    for row in rows:
        found[int(row["actor_id"])].append(int(row["business_id"]))
    return found


async def add(
    store: Store,
    *,
    business_id: int,
    note_id: int,
    entry_uri: str,
    boosted_by: int | None,
    now: int,
) -> bool:
    """Show a note (a post, or a boost by ``boosted_by``) to a business, and tell its
    streaming apps; False if it is already there under this ``entry_uri``."""
    entry_id = new_id(now)
    added = await store.write_count(
        "INSERT INTO timeline (id, business_id, note_id, entry_uri, boosted_by, created_at) "
        "VALUES (:id, :b, :n, :u, :by, :now) ON CONFLICT (business_id, entry_uri) DO NOTHING",
        {
            "id": entry_id,
            "b": business_id,
            "n": note_id,
            "u": entry_uri,
            "by": boosted_by,
            "now": now,
        },
    )
    if added:
        await stream_events.record(
            store, event="timeline", business_id=business_id, ref_id=entry_id, public=False, now=now
        )
    return added > 0


async def stream_deletes(store: Store, where: str, values: Mapping[str, Any], *, now: int) -> None:
    """Tell the streaming apps of each business that the timeline rows matching ``where``
    (on ``timeline``) are about to go: a ``delete`` of the status id apps know them by
    (the note's for a post, the entry's for a boost). Call in the deleting transaction."""
    rows = await store.fetch_all(
        f"SELECT id, business_id, note_id, boosted_by FROM timeline WHERE {where}",  # noqa: S608
        dict(values),
    )
    for r in rows:
        shown_as = int(r["id"]) if r["boosted_by"] is not None else int(r["note_id"])
        await stream_events.record(
            store,
            event="delete",
            business_id=int(r["business_id"]),
            ref_id=shown_as,
            public=False,
            now=now,
        )


async def remove_boost(
    store: Store, *, booster_id: int, announce_uri: str | None, note_id: int | None, now: int
) -> int:
    """Remove a boost by ``booster_id``: by its Announce's id, else by the boosted note;
    how many timeline rows went (each a ``delete`` for streaming apps)."""
    if announce_uri is not None:
        await stream_deletes(
            store,
            "boosted_by = :by AND entry_uri = :u",
            {"by": booster_id, "u": announce_uri},
            now=now,
        )
        removed = await store.write_count(
            "DELETE FROM timeline WHERE boosted_by = :by AND entry_uri = :u",
            {"by": booster_id, "u": announce_uri},
        )
        if removed or note_id is None:
            return removed
    if note_id is None:
        return 0
    await stream_deletes(
        store, "boosted_by = :by AND note_id = :n", {"by": booster_id, "n": note_id}, now=now
    )
    return await store.write_count(
        "DELETE FROM timeline WHERE boosted_by = :by AND note_id = :n",
        {"by": booster_id, "n": note_id},
    )


_BOOSTER_COLUMNS = JOIN_COLUMNS.replace("a.", "o.").replace(" AS a_", " AS o_")

_SELECT = (
    "SELECT t.id AS t_id, t.business_id AS t_business_id, t.entry_uri AS t_entry_uri, "  # noqa: S608
    "t.created_at AS t_created_at, n.id AS n_id, n.uri AS n_uri, "
    "n.content_html AS n_content_html, n.summary AS n_summary, n.url AS n_url, "
    "n.visibility AS n_visibility, n.in_reply_to_uri AS n_in_reply_to_uri, "
    "n.published_at AS n_published_at, n.edited_at AS n_edited_at, "
    "n.attachments AS n_attachments, "
    f"{JOIN_COLUMNS}, {_BOOSTER_COLUMNS}, "
    "EXISTS (SELECT 1 FROM posts p WHERE p.in_reply_to_uri = n.uri "
    "AND p.business_id = t.business_id AND p.deleted_at IS NULL) AS replied "
    "FROM timeline t JOIN remote_notes n ON n.id = t.note_id "
    "JOIN remote_actors a ON a.id = n.actor_id "
    "LEFT JOIN remote_actors o ON o.id = t.boosted_by "
    "WHERE t.business_id = :b"
)


def _entry(row: Mapping[str, Any]) -> Entry:
    attachments = json.loads(row["n_attachments"] or "[]")
    return Entry(
        id=int(row["t_id"]),
        business_id=int(row["t_business_id"]),
        entry_uri=str(row["t_entry_uri"]),
        created_at=int(row["t_created_at"]),
        note_id=int(row["n_id"]),
        note_uri=str(row["n_uri"]),
        content_html=str(row["n_content_html"]),
        summary=row["n_summary"],
        url=row["n_url"],
        visibility=str(row["n_visibility"]),
        in_reply_to_uri=row["n_in_reply_to_uri"],
        published_at=int(row["n_published_at"]),
        edited_at=int(row["n_edited_at"]) if row["n_edited_at"] is not None else None,
        attachments=attachments if isinstance(attachments, list) else [],
        author=actor_from_row(row, "a_"),
        booster=actor_from_row(row, "o_") if row["o_id"] is not None else None,
        replied=bool(row["replied"]),
    )


async def page(
    store: Store,
    business_id: int,
    *,
    limit: int,
    max_id: int | None = None,
    min_id: int | None = None,
) -> list[Entry]:
    """A page of the business's timeline, newest first: before ``max_id``, or (with
    ``min_id``) the ``limit`` entries just after it."""
    values: dict[str, Any] = {"b": business_id, "limit": limit}
    sql = _SELECT
    if max_id is not None:
        sql += " AND t.id < :max"
        values["max"] = max_id
    if min_id is not None:
        sql += " AND t.id > :min ORDER BY t.id ASC LIMIT :limit"
        values["min"] = min_id
        rows = await store.fetch_all(sql, values)
        return [_entry(r) for r in reversed(rows)]
    rows = await store.fetch_all(sql + " ORDER BY t.id DESC LIMIT :limit", values)
    return [_entry(r) for r in rows]


async def entry_by_id(store: Store, business_id: int, entry_id: int) -> Entry | None:
    """One entry of the business's timeline by its own id; None when it is gone."""
    row = await store.fetch_one(_SELECT + " AND t.id = :e", {"b": business_id, "e": entry_id})
    return _entry(row) if row is not None else None


async def entry_of_status(store: Store, business_id: int, status_id: int) -> int | None:
    """The timeline entry a Mastodon status id names for the business: a post's entry by
    its note's id, a boost's by the entry's own id; None when neither is there."""
    value = await store.fetch_val(
        "SELECT id FROM timeline WHERE business_id = :b AND "
        "((boosted_by IS NULL AND note_id = :s) OR id = :s) ORDER BY id LIMIT 1",
        {"b": business_id, "s": status_id},
    )
    return int(value) if value is not None else None


def status_id(entry: Entry) -> int:
    """The Mastodon status id of an entry: the note's for a post (so an app can favourite
    it), the entry's own for a boost (the reblog wrapper)."""
    return entry.id if entry.booster is not None else entry.note_id


async def note_shown(store: Store, business_id: int, note_id: int) -> Row | None:
    """The note ``note_id`` when it is on the business's timeline (followers-only posts of
    accounts it follows included), with its author's columns prefixed ``a_``; else None."""
    return await store.fetch_one(
        f"SELECT n.*, {JOIN_COLUMNS} FROM remote_notes n "  # noqa: S608
        "JOIN remote_actors a ON a.id = n.actor_id WHERE n.id = :n AND EXISTS "
        "(SELECT 1 FROM timeline t WHERE t.note_id = n.id AND t.business_id = :b)",
        {"n": note_id, "b": business_id},
    )
