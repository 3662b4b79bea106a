"""What happened lately, for apps connected to the Mastodon streaming API.

A write that an app should hear of at once (a post published, edited or deleted, a new
notification, a followed account's post or boost reaching a home timeline, and its
deletion) adds a row here **in its own transaction**, so the event exists exactly when
what it reports does. Every web process reads the recent rows and hands them to its own
connected apps (``mastodon/streaming.py``); the worker's cleanup deletes rows older than
``KEEP_MS``.

Why a table and not PostgreSQL's LISTEN/NOTIFY: the same code runs on SQLite and
PostgreSQL, a web process that lost its database connection (or started late) catches up
from the table instead of missing what was sent while it was away, and no connection has to
be held out of the pool for a listener. The cost is one indexed read of a few rows per
process per poll, and only while some app is connected.

    record(store, event=..., business_id=..., ref_id=..., public=..., now=...)
    recent(store, since=ms)          rows created at or after ``since``, oldest first
    prune(store, before=ms)          the cleanup
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fedi_town.store.db import Store, new_id
from fedi_town.store.effects import StreamEvent

#: ``timeline``: a post or boost of a followed account reached a home timeline (``ref_id``
#: the timeline entry; apps hear it as ``update`` on the ``user`` stream).
EVENTS = ("update", "status.update", "delete", "notification", "timeline")
#: How long a row is kept (the cleanup's cut-off); far longer than any reader looks back.
KEEP_MS = 10 * 60_000
#: The most rows one read returns (a burst beyond it is read by the next poll).
READ_LIMIT = 500


@dataclass(frozen=True)
class Event:
    """One row: ``event`` about ``ref_id`` (a post, or a notification) of ``business_id``."""

    id: int
    business_id: int
    event: str
    ref_id: int
    public: bool
    created_at: int


#: The statement that adds an event (``row`` gives its values).
INSERT = (
    "INSERT INTO stream_events (id, business_id, event, ref_id, public, created_at) "
    "VALUES (:id, :b, :e, :r, :p, :now)"
)


def row(*, event: str, business_id: int, ref_id: int, public: bool, now: int) -> dict[str, Any]:
    """The values of ``INSERT`` for one event (for a caller that runs it with its own
    statements, ``store.notifications``); ``recorded`` must follow in the same transaction."""
    assert event in EVENTS, event
    return {"id": new_id(now), "b": business_id, "e": event, "r": ref_id, "p": public, "now": now}


def recorded(store: Store) -> None:
    """An event was added in the open transaction: this process's connected apps hear of it
    as soon as that commits (``effects.StreamEvent``), the other processes at their next
    poll."""
    store.after_commit(StreamEvent())


async def record(
    store: Store, *, event: str, business_id: int, ref_id: int, public: bool, now: int
) -> None:
    """Add an event; call inside the transaction of the change it reports (``recorded``)."""
    values = row(event=event, business_id=business_id, ref_id=ref_id, public=public, now=now)
    await store.execute(INSERT, values)
    recorded(store)


async def recent(store: Store, *, since: int, limit: int = READ_LIMIT) -> list[Event]:
    """Events created at or after ``since`` (ms), oldest first."""
    rows = await store.fetch_all(
        "SELECT id, business_id, event, ref_id, public, created_at FROM stream_events "
        "WHERE created_at >= :since ORDER BY created_at, id LIMIT :limit",
        {"since": since, "limit": limit},
    )
    return [
        Event(
            id=int(r["id"]),
            business_id=int(r["business_id"]),
            event=str(r["event"]),
            ref_id=int(r["ref_id"]),
            public=bool(r["public"]),
            created_at=int(r["created_at"]),
        )
        for r in rows
    ]


async def prune(store: Store, *, before: int) -> int:
    """Delete events created before ``before`` (ms); how many went."""
    return await store.write_count(
        "DELETE FROM stream_events WHERE created_at < :before", {"before": before}
    )
