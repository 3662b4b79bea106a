"""Queries on what remote people do with businesses: follows, likes and boosts, replies.

Tables: ``follows`` (state pending | accepted), ``interactions`` (kind like | announce),
``remote_notes`` and ``remote_note_targets``. Inserts that may be repeated (an activity
handled twice) use ``ON CONFLICT DO NOTHING`` and report whether a row was made, so
callers notify only once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fedi_town.store import timeline
from fedi_town.store.actors import JOIN_COLUMNS, RemoteActor, actor_from_row, follows_where
from fedi_town.store.db import Row, Store, new_id

# -- our posts --------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalPost:
    id: int
    business_id: int
    uri: str


async def post_by_uri(store: Store, uri: str) -> LocalPost | None:
    """A live post of ours by its ActivityPub id."""
    row = await store.fetch_one(
        "SELECT id, business_id, uri FROM posts WHERE uri = :u AND deleted_at IS NULL",
        {"u": uri},
    )
    return LocalPost(int(row["id"]), int(row["business_id"]), str(row["uri"])) if row else None


# -- follows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Follow:
    id: int
    business_id: int
    actor_id: int
    follow_uri: str | None
    follow_document: dict[str, Any] | None
    state: str
    created_at: int


def _follow(row: Mapping[str, Any]) -> Follow:
    document = row["follow_document"]
    return Follow(
        id=int(row["id"]),
        business_id=int(row["business_id"]),
        actor_id=int(row["actor_id"]),
        follow_uri=row["follow_uri"],
        follow_document=json.loads(document) if document else None,
        state=str(row["state"]),
        created_at=int(row["created_at"]),
    )


async def follow_of(store: Store, business_id: int, actor_id: int) -> Follow | None:
    row = await store.fetch_one(
        "SELECT * FROM follows WHERE business_id = :b AND actor_id = :a",
        {"b": business_id, "a": actor_id},
    )
    return _follow(row) if row else None


async def follow_by_id(store: Store, business_id: int, follow_id: int) -> Follow | None:
    row = await store.fetch_one(
        "SELECT * FROM follows WHERE business_id = :b AND id = :id",
        {"b": business_id, "id": follow_id},
    )
    return _follow(row) if row else None


async def follow_by_uri(store: Store, follow_uri: str, actor_id: int) -> Follow | None:
    row = await store.fetch_one(
        "SELECT * FROM follows WHERE follow_uri = :u AND actor_id = :a",
        {"u": follow_uri, "a": actor_id},
    )
    return _follow(row) if row else None


async def insert_follow(
    store: Store,
    *,
    business_id: int,
    actor_id: int,
    state: str,
    follow_uri: str | None,
    follow_document: Mapping[str, Any] | None,
    now: int,
) -> int:
    follow_id = new_id(now)
    await store.execute(
        "INSERT INTO follows (id, business_id, actor_id, follow_uri, follow_document, state, "
        "created_at, updated_at) VALUES (:id, :b, :a, :u, :doc, :state, :now, :now)",
        {
            "id": follow_id,
            "b": business_id,
            "a": actor_id,
            "u": follow_uri,
            "doc": json.dumps(follow_document) if follow_document is not None else None,
            "state": state,
            "now": now,
        },
    )
    return follow_id


async def update_follow(
    store: Store,
    follow_id: int,
    *,
    state: str,
    follow_uri: str | None,
    follow_document: Mapping[str, Any] | None,
    now: int,
) -> None:
    await store.execute(
        "UPDATE follows SET state = :state, follow_uri = :u, follow_document = :doc, "
        "updated_at = :now WHERE id = :id",
        {
            "state": state,
            "u": follow_uri,
            "doc": json.dumps(follow_document) if follow_document is not None else None,
            "now": now,
            "id": follow_id,
        },
    )


async def set_follow_state(store: Store, follow_id: int, state: str, *, now: int) -> None:
    await store.execute(
        "UPDATE follows SET state = :s, updated_at = :now WHERE id = :id",
        {"s": state, "now": now, "id": follow_id},
    )


async def delete_follow(store: Store, follow_id: int) -> None:
    """Remove a follow and the follow-request notification it raised."""
    await store.execute(
        "DELETE FROM notifications WHERE dedupe_key = :k", {"k": f"follow_request:{follow_id}"}
    )
    await store.execute("DELETE FROM follows WHERE id = :id", {"id": follow_id})


async def follows_from(
    store: Store,
    *,
    business_id: int | None,
    actor_uri: str | None = None,
    domain: str | None = None,
) -> list[tuple[Follow, RemoteActor]]:
    """Follows (of one business, or of any with ``business_id=None``) by one actor or by
    every actor of a domain (and its subdomains)."""
    sql = f"SELECT f.*, {JOIN_COLUMNS} FROM follows f JOIN remote_actors a ON a.id = f.actor_id"  # noqa: S608
    where, values = follows_where(business_id, actor_uri, domain)
    rows = await store.fetch_all(sql + where, values)
    return [(_follow(r), actor_from_row(r, "a_")) for r in rows]


async def list_follows(
    store: Store, business_id: int, *, state: str, limit: int, max_id: int | None
) -> list[tuple[Follow, RemoteActor]]:
    """A page of a business's followers (or follow requests), newest first."""
    values: dict[str, Any] = {"b": business_id, "s": state, "limit": limit}
    sql = (
        f"SELECT f.*, {JOIN_COLUMNS} FROM follows f "  # noqa: S608
        "JOIN remote_actors a ON a.id = f.actor_id WHERE f.business_id = :b AND f.state = :s"
    )
    if max_id is not None:
        sql += " AND f.id < :max"
        values["max"] = max_id
    sql += " ORDER BY f.id DESC LIMIT :limit"
    rows = await store.fetch_all(sql, values)
    return [(_follow(r), actor_from_row(r, "a_")) for r in rows]


async def move_follows(store: Store, old_actor_id: int, new_actor_id: int, *, now: int) -> int:
    """Hand the old actor's follows to the new one (``Move``); where the new actor already
    follows, the old follow is dropped. Returns how many follows moved."""
    rows = await store.fetch_all(
        "SELECT id, business_id FROM follows WHERE actor_id = :old", {"old": old_actor_id}
    )
    moved = 0
    for row in rows:
        exists = await store.fetch_val(
            "SELECT 1 FROM follows WHERE business_id = :b AND actor_id = :new",
            {"b": row["business_id"], "new": new_actor_id},
        )
        if exists:
            await delete_follow(store, int(row["id"]))
            continue
        await store.execute(
            "UPDATE follows SET actor_id = :new, updated_at = :now WHERE id = :id",
            {"new": new_actor_id, "now": now, "id": row["id"]},
        )
        moved += 1
    return moved


# -- likes and boosts -------------------------------------------------------------------


@dataclass(frozen=True)
class Interaction:
    id: int
    kind: str
    activity_uri: str
    actor_id: int
    post_id: int


def _interaction(row: Mapping[str, Any]) -> Interaction:
    return Interaction(
        int(row["id"]),
        str(row["kind"]),
        str(row["activity_uri"]),
        int(row["actor_id"]),
        int(row["post_id"]),
    )


def interaction_insert(
    *,
    kind: str,
    activity_uri: str,
    actor_id: int,
    post_id: int,
    now: int,
    reaction: str | None = None,
    reaction_url: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """The statement that records a like or boost, returning a row when it did (for
    ``notifications.notify_after``, which runs it with the notification; its parameter
    names are the interaction's own, ``i_*``)."""
    return (
        "INSERT INTO interactions (id, kind, activity_uri, actor_id, post_id, created_at, "
        "reaction, reaction_url) VALUES (:i_id, :i_kind, :i_uri, :i_actor, :i_post, :i_now, "
        ":i_reaction, :i_url) ON CONFLICT DO NOTHING RETURNING id",
        {
            "i_id": new_id(now),
            "i_kind": kind,
            "i_uri": activity_uri,
            "i_actor": actor_id,
            "i_post": post_id,
            "i_now": now,
            "i_reaction": reaction,
            "i_url": reaction_url,
        },
    )


async def add_interaction(
    store: Store,
    *,
    kind: str,
    activity_uri: str,
    actor_id: int,
    post_id: int,
    now: int,
    reaction: str | None = None,
    reaction_url: str | None = None,
) -> bool:
    """Record a like or boost (a like may be an emoji reaction: its emoji, and a custom
    one's icon URL); False when it was already there (same activity, or the same person
    already did this to this post)."""
    sql, values = interaction_insert(
        kind=kind, activity_uri=activity_uri, actor_id=actor_id, post_id=post_id, now=now,
        reaction=reaction, reaction_url=reaction_url,
    )  # fmt: skip
    return await store.fetch_one(sql, values) is not None


async def find_interaction(
    store: Store,
    *,
    actor_id: int,
    activity_uri: str | None = None,
    kind: str | None = None,
    post_id: int | None = None,
) -> Interaction | None:
    """An interaction of ``actor_id`` by its activity id, else by kind and post."""
    if activity_uri is not None:
        row = await store.fetch_one(
            "SELECT * FROM interactions WHERE activity_uri = :u AND actor_id = :a",
            {"u": activity_uri, "a": actor_id},
        )
        if row is not None:
            return _interaction(row)
    if kind is not None and post_id is not None:
        row = await store.fetch_one(
            "SELECT * FROM interactions WHERE kind = :k AND actor_id = :a AND post_id = :p",
            {"k": kind, "a": actor_id, "p": post_id},
        )
        if row is not None:
            return _interaction(row)
    return None


async def delete_interaction(store: Store, interaction: Interaction) -> None:
    """Remove a like or boost and its notification."""
    await store.execute(
        "DELETE FROM notifications WHERE dedupe_key = :k",
        {"k": interaction_key(interaction.kind, interaction.actor_id, interaction.post_id)},
    )
    await store.execute("DELETE FROM interactions WHERE id = :id", {"id": interaction.id})


def interaction_key(kind: str, actor_id: int, post_id: int) -> str:
    """The notification dedupe key of a like or boost."""
    return f"{kind}:{actor_id}:{post_id}"


# -- replies and mentions ---------------------------------------------------------------


@dataclass(frozen=True)
class RemoteNote:
    id: int
    uri: str
    actor_id: int
    in_reply_to_uri: str | None
    content_html: str
    summary: str | None
    url: str | None
    visibility: str
    published_at: int
    edited_at: int | None


def _note(row: Mapping[str, Any]) -> RemoteNote:
    return RemoteNote(
        id=int(row["id"]),
        uri=str(row["uri"]),
        actor_id=int(row["actor_id"]),
        in_reply_to_uri=row["in_reply_to_uri"],
        content_html=str(row["content_html"]),
        summary=row["summary"],
        url=row["url"],
        visibility=str(row["visibility"]),
        published_at=int(row["published_at"]),
        edited_at=row["edited_at"],
    )


@dataclass(frozen=True)
class NoteContent:
    """The parts of a remote Note we store (content already sanitised)."""

    in_reply_to_uri: str | None
    content_html: str
    summary: str | None
    url: str | None
    visibility: str
    published_at: int
    document: dict[str, Any]
    #: as JSON: the poll (or None) and custom emoji (protocol/note_parts.py), attachments
    #: (protocol/attachments.py)
    poll: dict[str, Any] | None = None
    emojis: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)


async def note_by_uri(store: Store, uri: str) -> RemoteNote | None:
    row = await store.fetch_one("SELECT * FROM remote_notes WHERE uri = :u", {"u": uri})
    return _note(row) if row else None


async def insert_note(
    store: Store, *, uri: str, actor_id: int, content: NoteContent, now: int
) -> int:
    """Store a note (or find the stored one); return its id."""
    note_id = await add_note(store, uri=uri, actor_id=actor_id, content=content, now=now)
    if note_id is None:
        note_id = await store.fetch_val("SELECT id FROM remote_notes WHERE uri = :u", {"u": uri})
    return int(note_id)


async def add_note(
    store: Store, *, uri: str, actor_id: int, content: NoteContent, now: int
) -> int | None:
    """Store a note; its new id, or None when a note with this ``uri`` is stored already."""
    row = await store.fetch_one(*note_insert(uri=uri, actor_id=actor_id, content=content, now=now))
    return int(row["id"]) if row is not None else None


def note_insert(
    *, uri: str, actor_id: int, content: NoteContent, now: int, prefix: str = ""
) -> tuple[str, dict[str, Any]]:
    """The statement that stores a new note, returning its id (a row) only when it was not
    stored already, and its values (parameter names start with ``prefix``; the new id is
    ``values[prefix + "id"]``, made here)."""
    values = {  # in the order of the columns below
        "id": new_id(now),
        "uri": uri,
        "a": actor_id,
        "reply": content.in_reply_to_uri,
        "html": content.content_html,
        "summary": content.summary,
        "url": content.url,
        "vis": content.visibility,
        "published": content.published_at,
        "doc": json.dumps(content.document),
        **_parts(content),
        "now": now,
    }
    sql = (
        "INSERT INTO remote_notes (id, uri, actor_id, in_reply_to_uri, content_html, summary, "  # noqa: S608
        "url, visibility, published_at, document, poll, emojis, attachments, created_at) "
        f"VALUES ({', '.join(':' + prefix + name for name in values)}) "
        "ON CONFLICT (uri) DO NOTHING RETURNING id"
    )
    return sql, {prefix + k: v for k, v in values.items()}


async def documents_by_uri(store: Store, uris: list[str]) -> dict[str, tuple[int, Any]]:
    """The author's id and the stored document (parsed) of each note among ``uris``."""
    if not uris:
        return {}
    names = {f"u{i}": uri for i, uri in enumerate(uris)}
    rows = await store.fetch_all(
        "SELECT uri, actor_id, document FROM remote_notes "  # noqa: S608
        f"WHERE uri IN ({', '.join(':' + k for k in names)})",
        names,
    )
    found: dict[str, tuple[int, Any]] = {}
    for r in rows:
        try:
            document = json.loads(r["document"] or "null")
        except ValueError:
            document = None
        found[str(r["uri"])] = (int(r["actor_id"]), document)
    return found


async def update_note(store: Store, note_id: int, content: NoteContent, edited_at: int) -> None:
    await store.execute(
        "UPDATE remote_notes SET content_html = :html, summary = :summary, url = :url, "
        "visibility = :vis, edited_at = :edited, document = :doc, poll = :poll, "
        "emojis = :emojis, attachments = :attachments WHERE id = :id",
        {
            "html": content.content_html,
            "summary": content.summary,
            "url": content.url,
            "vis": content.visibility,
            "edited": edited_at,
            "doc": json.dumps(content.document),
            **_parts(content),
            "id": note_id,
        },
    )


def _parts(content: NoteContent) -> dict[str, str | None]:
    return {
        "poll": json.dumps(content.poll) if content.poll is not None else None,
        "emojis": json.dumps(content.emojis),
        "attachments": json.dumps(content.attachments),
    }


async def note_poll(store: Store, note_id: int) -> dict[str, Any] | None:
    """The stored poll of a note (``protocol.note_parts.Poll.as_json``), or None."""
    value = await store.fetch_val("SELECT poll FROM remote_notes WHERE id = :id", {"id": note_id})
    return json.loads(value) if value else None


async def update_poll(store: Store, note_id: int, poll: dict[str, Any]) -> None:
    """New counts (or a close) of a note's poll: not an edit, ``edited_at`` stays."""
    await store.execute(
        "UPDATE remote_notes SET poll = :poll WHERE id = :id",
        {"poll": json.dumps(poll), "id": note_id},
    )


async def add_note_target(store: Store, note_id: int, business_id: int) -> None:
    await store.execute(*note_target_insert(note_id, business_id))


def note_target_insert(
    note_id: int, business_id: int, *, after: str | None = None
) -> tuple[str, dict[str, Any]]:
    """The statement that says a note concerns a business, returning a row when it was
    new (for ``notifications.notify_after``; parameters ``t_*``). With ``after``, the name
    of a PostgreSQL ``WITH`` part: only when that part returned a row (the note's insert,
    ``notify_after``'s ``first``)."""
    if after is None:
        source = "VALUES (:t_note, :t_business)"
    else:
        source = f"SELECT CAST(:t_note AS BIGINT), CAST(:t_business AS BIGINT) FROM {after}"  # noqa: S608
    return (
        f"INSERT INTO remote_note_targets (note_id, business_id) {source} "
        "ON CONFLICT DO NOTHING RETURNING note_id",
        {"t_note": note_id, "t_business": business_id},
    )


async def delete_note(store: Store, note_id: int, *, now: int) -> None:
    """Remove a note, whom it concerned, the notifications it raised and the home
    timeline entries (posts and boosts) that showed it (a ``delete`` for the streaming
    apps of each business that showed it)."""
    await timeline.stream_deletes(store, "note_id = :n", {"n": note_id}, now=now)
    await store.execute("DELETE FROM timeline WHERE note_id = :n", {"n": note_id})
    await store.execute("DELETE FROM notifications WHERE remote_note_id = :n", {"n": note_id})
    await store.execute("DELETE FROM remote_note_targets WHERE note_id = :n", {"n": note_id})
    await store.execute("DELETE FROM dealt_with WHERE note_id = :n", {"n": note_id})
    await store.execute("DELETE FROM remote_notes WHERE id = :n", {"n": note_id})


# -- an actor's every trace -------------------------------------------------------------


async def purge_actor(store: Store, actor: RemoteActor) -> None:
    """Delete everything of ``actor`` (account deletion): follows (of a business, and a
    business's of it), notes, likes, boosts, notifications, home timeline entries (its posts
    and its boosts), keys and the actor row. Call inside a transaction."""
    values = {"a": actor.id}
    await store.execute(
        "DELETE FROM timeline WHERE boosted_by = :a OR note_id IN "
        "(SELECT id FROM remote_notes WHERE actor_id = :a)",
        values,
    )
    await store.execute("DELETE FROM notifications WHERE actor_id = :a", values)
    await store.execute(
        "DELETE FROM notifications WHERE remote_note_id IN "
        "(SELECT id FROM remote_notes WHERE actor_id = :a)",
        values,
    )
    await store.execute(
        "DELETE FROM remote_note_targets WHERE note_id IN "
        "(SELECT id FROM remote_notes WHERE actor_id = :a)",
        values,
    )
    await store.execute(
        "DELETE FROM dealt_with WHERE note_id IN (SELECT id FROM remote_notes WHERE actor_id = :a)",
        values,
    )
    await store.execute("DELETE FROM remote_notes WHERE actor_id = :a", values)
    await store.execute("DELETE FROM interactions WHERE actor_id = :a", values)
    await store.execute("DELETE FROM follows WHERE actor_id = :a", values)
    await store.execute("DELETE FROM following WHERE actor_id = :a", values)
    await store.execute("DELETE FROM remote_keys WHERE owner_uri = :u", {"u": actor.uri})
    await store.execute("DELETE FROM remote_actors WHERE id = :a", values)


async def note_for_business(store: Store, note_id: int, business_id: int) -> Row | None:
    """A remote note that reached this business (a mention or a reply), with its author's
    columns prefixed ``a_`` (``actors.actor_from_row(row, "a_")``); None otherwise."""
    return await store.fetch_one(
        f"SELECT n.*, {JOIN_COLUMNS} FROM remote_notes n "  # noqa: S608
        "JOIN remote_note_targets t ON t.note_id = n.id AND t.business_id = :b "
        "JOIN remote_actors a ON a.id = n.actor_id WHERE n.id = :id",
        {"id": note_id, "b": business_id},
    )
