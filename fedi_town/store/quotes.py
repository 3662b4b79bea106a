"""Queries on quote stamps: the quotes of a business's posts it granted (FEP-044f).

Table ``quote_stamps``: one row per (our post, their quoting post), made when we accept a
``QuoteRequest``; the stamp is served at ``<post>/quotes/<id>`` while the row exists.
Revoking a quote deletes the row (the URL then answers 404). A repeated request for the
same quote finds the row already there and gets the same stamp.
"""

from __future__ import annotations

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
    """The quoting post is gone (its author deleted it): drop its stamps, nothing to tell
    anyone. Return how many."""
    rows = await store.fetch_all(
        "SELECT s.id FROM quote_stamps s JOIN remote_actors a ON a.id = s.actor_id "
        "WHERE s.quote_uri = :q AND a.uri = :a",
        {"q": quote_uri, "a": actor_uri},
    )
    for row in rows:
        await revoke(store, int(row["id"]))
    return len(rows)
