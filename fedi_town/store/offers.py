"""Queries on offers: write, change, soft-delete, and the ones still current.

An offer is announced by a post (``post_id``); the post is written by the same command in
the same transaction (``api.offers``). Times are epoch ms; an offer whose ``valid_until``
has passed is no longer current and leaves every listing by itself (``current``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fedi_town.store import announced
from fedi_town.store.db import Row, Store

TABLE = "offers"

#: Columns a change may set (``update``).
EDITABLE = (
    "title",
    "text",
    "price",
    "currency",
    "valid_from",
    "valid_until",
    "media_id",
    "post_id",
)


@dataclass(frozen=True)
class Offer:
    id: int
    business_id: int
    title: str
    text: str
    price: str | None
    currency: str | None
    valid_from: int | None
    valid_until: int | None
    media_id: int | None
    post_id: int | None
    created_at: int
    updated_at: int
    deleted_at: int | None

    def is_current(self, now: int) -> bool:
        """Not deleted and not expired (it may not have started yet)."""
        return self.deleted_at is None and (self.valid_until is None or self.valid_until > now)


def from_row(row: Row) -> Offer:
    return Offer(
        id=int(row["id"]),
        business_id=int(row["business_id"]),
        title=str(row["title"]),
        text=str(row["text"] or ""),
        price=row["price"],
        currency=row["currency"],
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        media_id=row["media_id"],
        post_id=row["post_id"],
        created_at=int(row["created_at"]),
        updated_at=int(row["updated_at"]),
        deleted_at=row["deleted_at"],
    )


async def insert(
    store: Store, *, offer_id: int, business_id: int, values: Mapping[str, Any], now: int
) -> Offer:
    """Write a new offer (``values``: keys of ``EDITABLE``); return it as stored."""
    row = announced.new_row(EDITABLE, values)
    await announced.insert(store, TABLE, row_id=offer_id, business_id=business_id, row=row, now=now)
    return Offer(
        id=offer_id, business_id=business_id, created_at=now, updated_at=now, deleted_at=None, **row
    )


async def update(store: Store, offer_id: int, changes: Mapping[str, Any], now: int) -> None:
    """Apply ``changes`` (keys of ``EDITABLE``) and stamp ``updated_at``."""
    await announced.update(store, TABLE, EDITABLE, offer_id, changes, now)


async def mark_deleted(store: Store, offer_id: int, now: int) -> None:
    await announced.mark_deleted(store, TABLE, offer_id, now)


async def by_id(
    store: Store, business_id: int, offer_id: int, *, include_deleted: bool = False
) -> Offer | None:
    """An offer of this business (another business's is not found), or None."""
    row = await announced.by_id(
        store, TABLE, business_id, offer_id, include_deleted=include_deleted
    )
    return from_row(row) if row is not None else None


async def page(store: Store, business_id: int, *, max_id: int | None, limit: int) -> list[Offer]:
    """Live offers newest first, expired ones included (the owner's list), ids below
    ``max_id``."""
    rows = await announced.page(store, TABLE, business_id, max_id=max_id, limit=limit)
    return [from_row(r) for r in rows]


async def current(store: Store, business_id: int, now: int, limit: int = 20) -> list[Offer]:
    """The offers a visitor should see at ``now``: not deleted, not expired (those not yet
    valid included), the soonest to start first, then the soonest to end."""
    rows = await store.fetch_all(
        """SELECT * FROM offers WHERE business_id = :b AND deleted_at IS NULL
            AND (valid_until IS NULL OR valid_until > :now)
        ORDER BY COALESCE(valid_from, created_at), COALESCE(valid_until, 9223372036854775807), id
        LIMIT :limit""",
        {"b": business_id, "now": now, "limit": limit},
    )
    return [from_row(r) for r in rows]
