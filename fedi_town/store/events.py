"""Queries on events: write, change, soft-delete, and the upcoming ones.

An event is announced by a post (``post_id``), written in the same transaction
(``api.events``). ``place`` is JSON (None: at the business itself). An event whose end has
passed leaves every listing by itself (``upcoming``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fedi_town.protocol.events import Place
from fedi_town.store.businesses import Business
from fedi_town.store.db import Row, Store

#: Columns a change may set (``update``).
EDITABLE = ("title", "text", "starts_at", "ends_at", "place", "media_id", "post_id")


@dataclass(frozen=True)
class Event:
    id: int
    business_id: int
    title: str
    text: str
    starts_at: int
    ends_at: int
    #: ``{name, street_address, locality, region, postal_code, country, latitude,
    #: longitude}``, or None for the business's own address
    place: dict[str, Any] | None
    media_id: int | None
    post_id: int | None
    created_at: int
    updated_at: int
    deleted_at: int | None

    def is_upcoming(self, now: int) -> bool:
        """Not deleted and not over (it may be going on now)."""
        return self.deleted_at is None and self.ends_at > now


def from_row(row: Row) -> Event:
    return Event(
        id=int(row["id"]),
        business_id=int(row["business_id"]),
        title=str(row["title"]),
        text=str(row["text"] or ""),
        starts_at=int(row["starts_at"]),
        ends_at=int(row["ends_at"]),
        place=json.loads(row["place"]) if row["place"] else None,
        media_id=row["media_id"],
        post_id=row["post_id"],
        created_at=int(row["created_at"]),
        updated_at=int(row["updated_at"]),
        deleted_at=row["deleted_at"],
    )


def _stored(key: str, value: Any) -> Any:
    return json.dumps(value) if key == "place" and value is not None else value


async def insert(
    store: Store, *, event_id: int, business_id: int, values: Mapping[str, Any], now: int
) -> Event:
    """Write a new event (``values``: keys of ``EDITABLE``); return it as stored."""
    row: dict[str, Any] = {key: values.get(key) for key in EDITABLE}
    row["text"] = row["text"] or ""
    await store.execute(
        """INSERT INTO events (id, business_id, title, text, starts_at, ends_at, place,
            media_id, post_id, created_at, updated_at)
        VALUES (:id, :b, :title, :text, :starts_at, :ends_at, :place, :media_id, :post_id,
            :now, :now)""",
        {
            **{k: _stored(k, v) for k, v in row.items()},
            "id": event_id,
            "b": business_id,
            "now": now,
        },
    )
    return Event(
        id=event_id, business_id=business_id, created_at=now, updated_at=now, deleted_at=None, **row
    )


async def update(store: Store, event_id: int, changes: Mapping[str, Any], now: int) -> None:
    """Apply ``changes`` (keys of ``EDITABLE``) and stamp ``updated_at``."""
    sets = ["updated_at = :now"]
    values: dict[str, Any] = {"id": event_id, "now": now}
    for key, value in changes.items():
        if key not in EDITABLE:
            raise KeyError(key)
        sets.append(f"{key} = :{key}")
        values[key] = _stored(key, value)
    await store.execute(f"UPDATE events SET {', '.join(sets)} WHERE id = :id", values)  # noqa: S608


async def mark_deleted(store: Store, event_id: int, now: int) -> None:
    await store.execute(
        "UPDATE events SET deleted_at = :now, updated_at = :now WHERE id = :id",
        {"id": event_id, "now": now},
    )


async def by_id(
    store: Store, business_id: int, event_id: int, *, include_deleted: bool = False
) -> Event | None:
    """An event of this business (another business's is not found), or None."""
    row = await store.fetch_one(
        "SELECT * FROM events WHERE id = :id AND business_id = :b",
        {"id": event_id, "b": business_id},
    )
    if row is None or (row["deleted_at"] is not None and not include_deleted):
        return None
    return from_row(row)


async def page(store: Store, business_id: int, *, max_id: int | None, limit: int) -> list[Event]:
    """Live events newest first, past ones included (the owner's list), ids below
    ``max_id``."""
    sql = "SELECT * FROM events WHERE business_id = :b AND deleted_at IS NULL"
    values: dict[str, Any] = {"b": business_id, "limit": limit}
    if max_id is not None:
        sql += " AND id < :max_id"
        values["max_id"] = max_id
    rows = await store.fetch_all(sql + " ORDER BY id DESC LIMIT :limit", values)
    return [from_row(r) for r in rows]


async def upcoming(store: Store, business_id: int, now: int, limit: int = 20) -> list[Event]:
    """Events not over at ``now`` (going on or to come), soonest first."""
    rows = await store.fetch_all(
        """SELECT * FROM events WHERE business_id = :b AND deleted_at IS NULL
            AND ends_at > :now
        ORDER BY starts_at, id LIMIT :limit""",
        {"b": business_id, "now": now, "limit": limit},
    )
    return [from_row(r) for r in rows]


def home_place(business: Business) -> Place:
    """The business itself as a place: its name and published address. A business with a
    service area instead of a shopfront publishes no street address, postcode or
    coordinates (docs/business-data.md)."""
    place = Place.from_json(business.location or {}, name=business.display_name)
    if business.service_area:
        return Place(
            name=business.display_name,
            locality=place.locality,
            region=place.region,
            country=place.country,
        )
    if not place.address_line and business.address:
        return Place(name=business.display_name, street_address=business.address)
    return place


def place_of(business: Business, event: Event) -> Place:
    """Where ``event`` happens: its own place, else the business."""
    return Place.from_json(event.place) if event.place else home_place(business)
