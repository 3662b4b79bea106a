"""Queries on the Mastodon client API's reading positions (``GET/POST /api/v1/markers``):
per business and timeline (``home``, ``notifications``), the last id read and how many
times it was saved, so every app signed in as the business sees the same position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fedi_town.store.db import Store

TIMELINES = ("home", "notifications")


@dataclass(frozen=True)
class Marker:
    timeline: str
    last_read_id: str
    version: int
    updated_at: int


async def of_business(
    store: Store, business_id: int, timelines: Sequence[str] = TIMELINES
) -> list[Marker]:
    """The business's saved markers among ``timelines``."""
    rows = await store.fetch_all(
        "SELECT timeline, last_read_id, version, updated_at FROM mastodon_markers "
        "WHERE business_id = :b ORDER BY timeline",
        {"b": business_id},
    )
    return [
        Marker(
            timeline=str(r["timeline"]),
            last_read_id=str(r["last_read_id"]),
            version=int(r["version"]),
            updated_at=int(r["updated_at"]),
        )
        for r in rows
        if r["timeline"] in timelines
    ]


async def save(
    store: Store, business_id: int, timeline: str, last_read_id: str, *, now: int
) -> None:
    """Move the business's marker of ``timeline`` to ``last_read_id`` (version + 1)."""
    assert timeline in TIMELINES, timeline
    await store.execute(
        "INSERT INTO mastodon_markers (business_id, timeline, last_read_id, version, "
        "updated_at) VALUES (:b, :t, :id, 1, :now) ON CONFLICT (business_id, timeline) "
        "DO UPDATE SET last_read_id = excluded.last_read_id, "
        "version = mastodon_markers.version + 1, updated_at = excluded.updated_at",
        {"b": business_id, "t": timeline, "id": last_read_id, "now": now},
    )
