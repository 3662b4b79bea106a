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
from fedi_town.store import announced
from fedi_town.store.businesses import Business
from fedi_town.store.db import Row, Store

TABLE = "events"

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


def _stored(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` as written: the place as JSON."""
    return {k: json.dumps(v) if k == "place" and v is not None else v for k, v in values.items()}


async def insert(
    store: Store, *, event_id: int, business_id: int, values: Mapping[str, Any], now: int
) -> Event:
    """Write a new event (``values``: keys of ``EDITABLE``); return it as stored."""
    row = announced.new_row(EDITABLE, values)
    await announced.insert(
        store, TABLE, row_id=event_id, business_id=business_id, row=_stored(row), now=now
    )
    return Event(
        id=event_id, business_id=business_id, created_at=now, updated_at=now, deleted_at=None, **row
    )


async def update(store: Store, event_id: int, changes: Mapping[str, Any], now: int) -> None:
    """Apply ``changes`` (keys of ``EDITABLE``) and stamp ``updated_at``."""
    await announced.update(store, TABLE, EDITABLE, event_id, _stored(changes), now)


async def mark_deleted(store: Store, event_id: int, now: int) -> None:
    await announced.mark_deleted(store, TABLE, event_id, now)


async def by_id(
    store: Store, business_id: int, event_id: int, *, include_deleted: bool = False
) -> Event | None:
    """An event of this business (another business's is not found), or None."""
    row = await announced.by_id(
        store, TABLE, business_id, event_id, include_deleted=include_deleted
    )
    return from_row(row) if row is not None else None


async def page(store: Store, business_id: int, *, max_id: int | None, limit: int) -> list[Event]:
    """Live events newest first, past ones included (the owner's list), ids below
    ``max_id``."""
    rows = await announced.page(store, TABLE, business_id, max_id=max_id, limit=limit)
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
