"""Queries on offers: write, change, soft-delete, and the ones still current.

An offer is announced by a post (``post_id``); the post is written by the same command in
the same transaction (``api.offers``). Times are epoch ms; an offer whose ``valid_until``
has passed is no longer current and leaves every listing by itself (``current``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fedi_town.store.db import Row, Store

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
    row: dict[str, Any] = {key: values.get(key) for key in EDITABLE}
    row["text"] = row["text"] or ""
    await store.execute(
        """INSERT INTO offers (id, business_id, title, text, price, currency, valid_from,
            valid_until, media_id, post_id, created_at, updated_at)
        VALUES (:id, :b, :title, :text, :price, :currency, :valid_from, :valid_until,
            :media_id, :post_id, :now, :now)""",
        {**row, "id": offer_id, "b": business_id, "now": now},
    )
    return Offer(
        id=offer_id, business_id=business_id, created_at=now, updated_at=now, deleted_at=None, **row
    )


async def update(store: Store, offer_id: int, changes: Mapping[str, Any], now: int) -> None:
    """Apply ``changes`` (keys of ``EDITABLE``) and stamp ``updated_at``."""
    sets = ["updated_at = :now"]
    values: dict[str, Any] = {"id": offer_id, "now": now}
    for key, value in changes.items():
        if key not in EDITABLE:
            raise KeyError(key)
        sets.append(f"{key} = :{key}")
        values[key] = value
    await store.execute(f"UPDATE offers SET {', '.join(sets)} WHERE id = :id", values)  # noqa: S608


async def mark_deleted(store: Store, offer_id: int, now: int) -> None:
    await store.execute(
        "UPDATE offers SET deleted_at = :now, updated_at = :now WHERE id = :id",
        {"id": offer_id, "now": now},
    )


async def by_id(
    store: Store, business_id: int, offer_id: int, *, include_deleted: bool = False
) -> Offer | None:
    """An offer of this business (another business's is not found), or None."""
    row = await store.fetch_one(
        "SELECT * FROM offers WHERE id = :id AND business_id = :b",
        {"id": offer_id, "b": business_id},
    )
    if row is None or (row["deleted_at"] is not None and not include_deleted):
        return None
    return from_row(row)


async def page(store: Store, business_id: int, *, max_id: int | None, limit: int) -> list[Offer]:
    """Live offers newest first, expired ones included (the owner's list), ids below
    ``max_id``."""
    sql = "SELECT * FROM offers WHERE business_id = :b AND deleted_at IS NULL"
    values: dict[str, Any] = {"b": business_id, "limit": limit}
    if max_id is not None:
        sql += " AND id < :max_id"
        values["max_id"] = max_id
    rows = await store.fetch_all(sql + " ORDER BY id DESC LIMIT :limit", values)
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
