"""Queries on quote stamps: the quotes of a business's posts it granted (FEP-044f).

Table ``quote_stamps``: one row per (our post, their quoting post), made when we accept a
``QuoteRequest``; the stamp is served at ``<post>/quotes/<id>`` while the row exists.
Revoking a quote deletes the row (the URL then answers 404). A repeated request for the
same quote finds the row already there and gets the same stamp.

Table ``quote_requests``: requests for posts whose policy is "ask", waiting for the owner
(one row per our post and their quoting post); approving or denying deletes the row.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fedi_town.store.db import Store, new_id


@dataclass(frozen=True)
class Stamp:
    """A granted quote: ``quote_uri`` (their post, by ``actor_id``) quotes ``post_id``."""

    id: int
    business_id: int
    post_id: int
    actor_id: int
    quote_uri: str
    request_uri: str
    created_at: int
    #: the quoting actor's inbox (joined), where a revocation goes
    actor_inbox: str | None = None
    actor_uri: str | None = None


def _stamp(row: Mapping[str, Any]) -> Stamp:
    return Stamp(
        id=int(row["id"]),
        business_id=int(row["business_id"]),
        post_id=int(row["post_id"]),
        actor_id=int(row["actor_id"]),
        quote_uri=str(row["quote_uri"]),
        request_uri=str(row["request_uri"]),
        created_at=int(row["created_at"]),
        actor_inbox=row.get("actor_inbox"),
        actor_uri=row.get("actor_uri"),
    )


_SELECT = (
    "SELECT s.*, COALESCE(a.inbox, a.shared_inbox) AS actor_inbox, a.uri AS actor_uri "
    "FROM quote_stamps s LEFT JOIN remote_actors a ON a.id = s.actor_id "
)


async def grant(
    store: Store,
    *,
    business_id: int,
    post_id: int,
    actor_id: int,
    quote_uri: str,
    request_uri: str,
    now: int,
) -> tuple[Stamp, bool]:
    """The stamp for this quote, made if new; and whether it was made now."""
    row = await store.fetch_one(
        "INSERT INTO quote_stamps (id, business_id, post_id, actor_id, quote_uri, request_uri, "
        "created_at) VALUES (:id, :b, :p, :a, :q, :r, :now) "
        "ON CONFLICT (post_id, quote_uri) DO NOTHING RETURNING id",
        {
            "id": new_id(now),
            "b": business_id,
            "p": post_id,
            "a": actor_id,
            "q": quote_uri,
            "r": request_uri,
            "now": now,
        },
    )
    found = await store.fetch_one(
        _SELECT + "WHERE s.post_id = :p AND s.quote_uri = :q", {"p": post_id, "q": quote_uri}
    )
    assert found is not None
    return _stamp(found), row is not None


async def by_id(store: Store, post_id: int, stamp_id: int) -> Stamp | None:
    """A live stamp of this post, or None (never granted, or revoked)."""
    row = await store.fetch_one(
        _SELECT + "WHERE s.id = :id AND s.post_id = :p", {"id": stamp_id, "p": post_id}
    )
    return _stamp(row) if row else None


async def stamp_for(store: Store, post_id: int, quote_uri: str) -> Stamp | None:
    """The live stamp granted to this quote of this post, if any."""
    row = await store.fetch_one(
        _SELECT + "WHERE s.post_id = :p AND s.quote_uri = :q", {"p": post_id, "q": quote_uri}
    )
    return _stamp(row) if row else None


async def of_post(store: Store, post_id: int) -> list[Stamp]:
    rows = await store.fetch_all(_SELECT + "WHERE s.post_id = :p ORDER BY s.id", {"p": post_id})
    return [_stamp(r) for r in rows]


async def of_business(store: Store, business_id: int) -> list[Stamp]:
    rows = await store.fetch_all(
        _SELECT + "WHERE s.business_id = :b ORDER BY s.id", {"b": business_id}
    )
    return [_stamp(r) for r in rows]


async def revoke(store: Store, stamp_id: int) -> None:
    """Delete a stamp: its URL stops answering."""
    await store.execute("DELETE FROM quote_stamps WHERE id = :id", {"id": stamp_id})


async def forget_quote(store: Store, quote_uri: str, actor_uri: str) -> int:
    """The quoting post is gone (its author deleted it): drop its stamps and any request of
    it still waiting, nothing to tell anyone. Return how many stamps."""
    await store.execute(
        "DELETE FROM quote_requests WHERE quote_uri = :q AND actor_id IN "
        "(SELECT id FROM remote_actors WHERE uri = :a)",
        {"q": quote_uri, "a": actor_uri},
    )
    rows = await store.fetch_all(
        "SELECT s.id FROM quote_stamps s JOIN remote_actors a ON a.id = s.actor_id "
        "WHERE s.quote_uri = :q AND a.uri = :a",
        {"q": quote_uri, "a": actor_uri},
    )
    for row in rows:
        await revoke(store, int(row["id"]))
    return len(rows)


# -- requests waiting for the owner (policy "ask") --------------------------------------------


@dataclass(frozen=True)
class Pending:
    """A QuoteRequest waiting for the owner: ``quote_uri`` (by ``actor_id``) asks to quote
    ``post_id``; ``request`` is the activity as received, echoed in the answer."""

    id: int
    business_id: int
    post_id: int
    actor_id: int
    quote_uri: str
    request_uri: str
    request: dict[str, Any]
    note_id: int | None
    created_at: int


def _pending(row: Mapping[str, Any]) -> Pending:
    return Pending(
        id=int(row["id"]),
        business_id=int(row["business_id"]),
        post_id=int(row["post_id"]),
        actor_id=int(row["actor_id"]),
        quote_uri=str(row["quote_uri"]),
        request_uri=str(row["request_uri"]),
        request=json.loads(row["request"]),
        note_id=row["note_id"],
        created_at=int(row["created_at"]),
    )


async def keep_pending(
    store: Store,
    *,
    business_id: int,
    post_id: int,
    actor_id: int,
    quote_uri: str,
    request: dict[str, Any],
    request_uri: str,
    note_id: int | None,
    now: int,
) -> tuple[Pending, bool]:
    """The waiting request for this quote, kept if new (a repeat keeps the first one's row,
    with the latest request to echo); and whether it is new."""
    row = await store.fetch_one(
        "INSERT INTO quote_requests (id, business_id, post_id, actor_id, quote_uri, request_uri, "
        "request, note_id, created_at) VALUES (:id, :b, :p, :a, :q, :r, :body, :n, :now) "
        "ON CONFLICT (post_id, quote_uri) DO NOTHING RETURNING id",
        {
            "id": new_id(now),
            "b": business_id,
            "p": post_id,
            "a": actor_id,
            "q": quote_uri,
            "r": request_uri,
            "body": json.dumps(request),
            "n": note_id,
            "now": now,
        },
    )
    if row is None:
        await store.execute(
            "UPDATE quote_requests SET request_uri = :r, request = :body "
            "WHERE post_id = :p AND quote_uri = :q",
            {"r": request_uri, "body": json.dumps(request), "p": post_id, "q": quote_uri},
        )
    found = await store.fetch_one(
        "SELECT * FROM quote_requests WHERE post_id = :p AND quote_uri = :q",
        {"p": post_id, "q": quote_uri},
    )
    assert found is not None
    return _pending(found), row is not None


async def pending_by_id(store: Store, business_id: int, request_id: int) -> Pending | None:
    row = await store.fetch_one(
        "SELECT * FROM quote_requests WHERE id = :id AND business_id = :b",
        {"id": request_id, "b": business_id},
    )
    return _pending(row) if row else None


async def pending_of_business(
    store: Store, business_id: int, *, limit: int, max_id: int | None = None
) -> list[Pending]:
    """The requests waiting for the business's owner, newest first."""
    values: dict[str, Any] = {"b": business_id, "limit": limit}
    older = ""
    if max_id is not None:
        older, values["max"] = " AND id < :max", max_id
    rows = await store.fetch_all(
        f"SELECT * FROM quote_requests WHERE business_id = :b{older} "  # noqa: S608
        "ORDER BY id DESC LIMIT :limit",
        values,
    )
    return [_pending(r) for r in rows]


async def drop_pending(store: Store, request_id: int) -> None:
    """The owner decided (or the post or quote is gone): the request waits no more."""
    await store.execute("DELETE FROM quote_requests WHERE id = :id", {"id": request_id})
