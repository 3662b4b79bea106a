"""Queries on a business's direct conversations: the direct messages it wrote and those
that reached it (``remote_note_targets``), and how far it read or hid each conversation
(``conversation_marks``). Grouping the messages into threads is the caller's
(``mastodon/conversations.py``).

    messages(store, business_id)                    the newest direct messages, newest first
    marks(store, business_id)                       {conversation id: Mark}
    mark_read(store, business_id, conv, through)
    hide(store, business_id, conv, through)
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from fedi_town.store.db import Store

#: The most direct messages looked at (each kind), newest first.
MAX_MESSAGES = 2000


@dataclass(frozen=True)
class Message:
    """A direct status: ``id`` is the post's or the remote note's row id."""

    id: int
    uri: str
    in_reply_to: str | None
    #: the author's actor row; None for the business's own post
    actor_id: int | None
    #: the actors an own post mentions (their ids, URIs)
    mentions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Mark:
    read_through: int
    hidden_through: int


async def messages(store: Store, business_id: int) -> list[Message]:
    """The business's own direct posts and the direct notes that reached it, newest first."""
    own = await store.fetch_all(
        "SELECT id, uri, in_reply_to_uri, mentions FROM posts WHERE business_id = :b "
        "AND visibility = 'direct' AND published_at IS NOT NULL AND deleted_at IS NULL "
        "ORDER BY id DESC LIMIT :n",
        {"b": business_id, "n": MAX_MESSAGES},
    )
    received = await store.fetch_all(
        "SELECT n.id, n.uri, n.in_reply_to_uri, n.actor_id FROM remote_notes n "
        "JOIN remote_note_targets t ON t.note_id = n.id AND t.business_id = :b "
        "WHERE n.visibility = 'direct' ORDER BY n.id DESC LIMIT :n",
        {"b": business_id, "n": MAX_MESSAGES},
    )
    found = [
        Message(
            id=int(r["id"]),
            uri=str(r["uri"]),
            in_reply_to=r["in_reply_to_uri"],
            actor_id=None,
            mentions=tuple(str(m.get("href", "")) for m in json.loads(r["mentions"] or "[]")),
        )
        for r in own
    ]
    found += [
        Message(int(r["id"]), str(r["uri"]), r["in_reply_to_uri"], int(r["actor_id"]))
        for r in received
    ]
    return sorted(found, key=lambda m: m.id, reverse=True)


async def marks(store: Store, business_id: int) -> dict[int, Mark]:
    rows = await store.fetch_all(
        "SELECT conversation_id, read_through, hidden_through FROM conversation_marks "
        "WHERE business_id = :b",
        {"b": business_id},
    )
    return {
        int(r["conversation_id"]): Mark(int(r["read_through"]), int(r["hidden_through"]))
        for r in rows
    }


async def mark_read(store: Store, business_id: int, conversation_id: int, through: int) -> None:
    """The conversation is read up to the status ``through``."""
    await store.execute(
        "INSERT INTO conversation_marks (business_id, conversation_id, read_through) "
        "VALUES (:b, :c, :t) ON CONFLICT (business_id, conversation_id) "
        "DO UPDATE SET read_through = excluded.read_through",
        {"b": business_id, "c": conversation_id, "t": through},
    )


async def hide(store: Store, business_id: int, conversation_id: int, through: int) -> None:
    """The conversation is left out of the list until a status newer than ``through``."""
    await store.execute(
        "INSERT INTO conversation_marks (business_id, conversation_id, read_through, "
        "hidden_through) VALUES (:b, :c, :t, :t) ON CONFLICT (business_id, conversation_id) "
        "DO UPDATE SET hidden_through = excluded.hidden_through, "
        "read_through = excluded.read_through",
        {"b": business_id, "c": conversation_id, "t": through},
    )
