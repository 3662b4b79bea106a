"""Relationships, one person at a time: what a business and each account did to each other.

Everything here is computed from what federation already delivered and the business did,
never tracked on its own: ``follows`` (they follow), ``following`` (the business follows),
``interactions`` (their likes and boosts of the business's posts), ``remote_notes`` with
``remote_note_targets`` (their replies and mentions), ``posts.in_reply_to_uri`` (the
business's replies to them) and ``given_reactions`` (its likes and boosts of their posts).
An account's Delete removes all of those (``social.purge_actor``, ``given.forget_author``),
so it leaves every list here. The one table of its own, ``dealt_with``, marks a reply or
mention the owner handled without answering; it goes with the note.

    neighbours(store, business_id)           [(actor, last activity ms)], newest first
    activity(store, business_id, actor)      the counts and recent items of one account
    waiting(store, business_id)              replies and mentions not answered, oldest first
    week(store, business_id, start, end)     rows of the week at a glance (the API counts)

Blocks are the caller's to apply (``moderation.block_list``): they change without touching
these rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fedi_town.store.actors import JOIN_COLUMNS, RemoteActor, actor_from_row
from fedi_town.store.db import Store

RECENT = 5

# Every (actor_id, at) where an account and the business met.
_MEETINGS = """
    SELECT actor_id, created_at AS at FROM follows WHERE business_id = :b
    UNION ALL SELECT actor_id, created_at FROM following WHERE business_id = :b
    UNION ALL SELECT i.actor_id, i.created_at FROM interactions i
        JOIN posts p ON p.id = i.post_id WHERE p.business_id = :b
    UNION ALL SELECT n.actor_id, n.created_at FROM remote_notes n
        JOIN remote_note_targets t ON t.note_id = n.id WHERE t.business_id = :b
    UNION ALL SELECT n.actor_id, p.published_at FROM posts p
        JOIN remote_notes n ON n.uri = p.in_reply_to_uri
        WHERE p.business_id = :b AND p.deleted_at IS NULL AND p.published_at IS NOT NULL
    UNION ALL SELECT ra.id, g.created_at FROM given_reactions g
        JOIN remote_actors ra ON ra.uri = g.author_uri WHERE g.business_id = :b
"""


async def neighbours(store: Store, business_id: int) -> list[tuple[RemoteActor, int]]:
    """Every account with any relationship to the business and when they last met, most
    recent first (ties: newest actor row first)."""
    rows = await store.fetch_all(
        f"SELECT m.last_at, {JOIN_COLUMNS} FROM "  # noqa: S608
        f"(SELECT actor_id, MAX(at) AS last_at FROM ({_MEETINGS}) x GROUP BY actor_id) m "
        "JOIN remote_actors a ON a.id = m.actor_id ORDER BY m.last_at DESC, a.id DESC",
        {"b": business_id},
    )
    return [(actor_from_row(r, "a_"), int(r["last_at"] or 0)) for r in rows]


@dataclass(frozen=True)
class Item:
    """One thing one side did: a note (``uri``, ``content_html``) or a reaction (``uri`` of
    the post it concerns)."""

    kind: str
    uri: str
    at: int
    content_html: str | None = None
    note_id: int | None = None


@dataclass(frozen=True)
class Tally:
    count: int
    recent: list[Item]


@dataclass(frozen=True)
class Activity:
    """What an account did to the business and what the business gave back."""

    followed_at: int | None  # they follow (accepted), since
    following_state: str | None  # the business follows them: pending | accepted | None
    notes: Tally  # their replies and mentions reaching the business
    likes: Tally  # their likes of the business's posts
    boosts: Tally  # their boosts of the business's posts
    replies_given: Tally  # the business's posts in reply to their notes
    likes_given: Tally  # the business's likes of their posts
    boosts_given: Tally  # the business's boosts of their posts


async def _tally(store: Store, sql: str, values: Mapping[str, Any], kind: str) -> Tally:
    """``sql`` selects (uri, at[, content_html, note_id]); counted, then the recent ones."""
    total = await store.fetch_val(f"SELECT COUNT(*) FROM ({sql}) c", values)  # noqa: S608
    rows = await store.fetch_all(
        f"SELECT * FROM ({sql}) r ORDER BY at DESC LIMIT {RECENT}",  # noqa: S608
        values,
    )
    items = [
        Item(
            kind=kind,
            uri=str(r["uri"]),
            at=int(r["at"] or 0),
            content_html=r["content_html"] if "content_html" in r else None,
            note_id=int(r["note_id"]) if "note_id" in r and r["note_id"] is not None else None,
        )
        for r in (dict(row) for row in rows)
    ]
    return Tally(int(total or 0), items)


async def activity(store: Store, business_id: int, actor: RemoteActor) -> Activity:
    values = {"b": business_id, "a": actor.id}
    follow = await store.fetch_one(
        "SELECT created_at FROM follows WHERE business_id = :b AND actor_id = :a "
        "AND state = 'accepted'",
        values,
    )
    following = await store.fetch_one(
        "SELECT state FROM following WHERE business_id = :b AND actor_id = :a", values
    )
    reaction = (
        "SELECT p.uri AS uri, i.created_at AS at FROM interactions i "
        "JOIN posts p ON p.id = i.post_id "
        "WHERE p.business_id = :b AND i.actor_id = :a AND i.kind = '{kind}'"
    )
    given_sql = (
        "SELECT object_uri AS uri, created_at AS at FROM given_reactions "
        "WHERE business_id = :b AND author_uri = :au AND kind = '{kind}'"
    )
    given_values = {"b": business_id, "au": actor.uri}
    return Activity(
        followed_at=int(follow["created_at"]) if follow else None,
        following_state=str(following["state"]) if following else None,
        notes=await _tally(
            store,
            "SELECT n.uri AS uri, n.created_at AS at, n.content_html AS content_html, "
            "n.id AS note_id FROM remote_notes n "
            "JOIN remote_note_targets t ON t.note_id = n.id "
            "WHERE t.business_id = :b AND n.actor_id = :a",
            values,
            "note",
        ),
        likes=await _tally(store, reaction.format(kind="like"), values, "like"),
        boosts=await _tally(store, reaction.format(kind="announce"), values, "boost"),
        replies_given=await _tally(
            store,
            "SELECT p.uri AS uri, p.published_at AS at, p.content_html AS content_html "
            "FROM posts p JOIN remote_notes n ON n.uri = p.in_reply_to_uri "
            "WHERE p.business_id = :b AND n.actor_id = :a AND p.deleted_at IS NULL "
            "AND p.published_at IS NOT NULL",
            values,
            "reply",
        ),
        likes_given=await _tally(store, given_sql.format(kind="like"), given_values, "like"),
        boosts_given=await _tally(store, given_sql.format(kind="announce"), given_values, "boost"),
    )


# -- questions waiting ------------------------------------------------------------------

_UNANSWERED = (
    "NOT EXISTS (SELECT 1 FROM posts p WHERE p.business_id = :b "
    "AND p.in_reply_to_uri = n.uri AND p.deleted_at IS NULL)"
)


@dataclass(frozen=True)
class Question:
    """A reply or mention that reached the business and that it has not answered."""

    note_id: int
    uri: str
    url: str | None
    in_reply_to_uri: str | None
    content_html: str
    received_at: int
    actor: RemoteActor


async def waiting(store: Store, business_id: int) -> list[Question]:
    """Replies and mentions the business neither answered nor marked dealt with, oldest
    first."""
    rows = await store.fetch_all(
        f"SELECT n.*, {JOIN_COLUMNS} FROM remote_notes n "  # noqa: S608
        "JOIN remote_note_targets t ON t.note_id = n.id AND t.business_id = :b "
        "JOIN remote_actors a ON a.id = n.actor_id "
        f"WHERE {_UNANSWERED} AND NOT EXISTS (SELECT 1 FROM dealt_with d "
        "WHERE d.business_id = :b AND d.note_id = n.id) "
        "ORDER BY n.created_at, n.id",
        {"b": business_id},
    )
    return [
        Question(
            note_id=int(r["id"]),
            uri=str(r["uri"]),
            url=r["url"],
            in_reply_to_uri=r["in_reply_to_uri"],
            content_html=str(r["content_html"]),
            received_at=int(r["created_at"]),
            actor=actor_from_row(r, "a_"),
        )
        for r in rows
    ]


async def mark_dealt_with(store: Store, business_id: int, note_id: int, *, now: int) -> None:
    await store.execute(
        "INSERT INTO dealt_with (business_id, note_id, created_at) VALUES (:b, :n, :now) "
        "ON CONFLICT (business_id, note_id) DO NOTHING",
        {"b": business_id, "n": note_id, "now": now},
    )


async def unmark_dealt_with(store: Store, business_id: int, note_id: int) -> None:
    await store.execute(
        "DELETE FROM dealt_with WHERE business_id = :b AND note_id = :n",
        {"b": business_id, "n": note_id},
    )


async def delete_all_of(store: Store, business_id: int) -> None:
    """Forget the business's marks (it is being deleted)."""
    await store.execute("DELETE FROM dealt_with WHERE business_id = :b", {"b": business_id})


# -- the week ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Week:
    """Rows of [start, end): what the business did, and who did what to it (actor URIs so
    the caller can leave out the blocked)."""

    posts: int
    replies_given: list[str]  # the actor URI each reply answered
    likes_given: list[str]  # the author URI of each post liked (not the business's own)
    boosts_given: list[str]
    new_followers: list[str]
    received: list[tuple[str, bool]]  # (author URI, still waiting)


async def week(store: Store, business_id: int, start: int, end: int) -> Week:
    values = {"b": business_id, "s": start, "e": end}
    posts = await store.fetch_val(
        "SELECT COUNT(*) FROM posts WHERE business_id = :b AND deleted_at IS NULL "
        "AND in_reply_to_uri IS NULL AND published_at >= :s AND published_at < :e",
        values,
    )
    replies = await store.fetch_all(
        "SELECT ra.uri AS uri FROM posts p JOIN remote_notes n ON n.uri = p.in_reply_to_uri "
        "JOIN remote_actors ra ON ra.id = n.actor_id "
        "WHERE p.business_id = :b AND p.deleted_at IS NULL "
        "AND p.published_at >= :s AND p.published_at < :e",
        values,
    )
    given_rows = await store.fetch_all(
        "SELECT g.kind, g.author_uri FROM given_reactions g WHERE g.business_id = :b "
        "AND g.created_at >= :s AND g.created_at < :e AND NOT EXISTS "
        "(SELECT 1 FROM posts p WHERE p.uri = g.object_uri AND p.business_id = :b)",
        values,
    )
    followers = await store.fetch_all(
        "SELECT ra.uri AS uri FROM follows f JOIN remote_actors ra ON ra.id = f.actor_id "
        "WHERE f.business_id = :b AND f.state = 'accepted' "
        "AND f.created_at >= :s AND f.created_at < :e",
        values,
    )
    received = await store.fetch_all(
        f"SELECT ra.uri AS uri, CASE WHEN {_UNANSWERED} "  # noqa: S608
        "AND NOT EXISTS (SELECT 1 FROM dealt_with d "
        "WHERE d.business_id = :b AND d.note_id = n.id) THEN 1 ELSE 0 END AS waiting "
        "FROM remote_notes n JOIN remote_note_targets t ON t.note_id = n.id "
        "JOIN remote_actors ra ON ra.id = n.actor_id "
        "WHERE t.business_id = :b AND n.created_at >= :s AND n.created_at < :e",
        values,
    )
    return Week(
        posts=int(posts or 0),
        replies_given=[str(r["uri"]) for r in replies],
        likes_given=[str(r["author_uri"]) for r in given_rows if r["kind"] == "like"],
        boosts_given=[str(r["author_uri"]) for r in given_rows if r["kind"] == "announce"],
        new_followers=[str(r["uri"]) for r in followers],
        received=[(str(r["uri"]), bool(r["waiting"])) for r in received],
    )
