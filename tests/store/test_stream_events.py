"""The events table behind the streaming API: recorded, read back from a time, swept.
Both backends."""

from __future__ import annotations

import pytest

from fedi_town.store import stream_events
from fedi_town.store.db import Store
from fedi_town.store.effects import StreamEvent

pytestmark = pytest.mark.anyio


async def test_events_are_read_back_from_a_time_and_swept(store: Store) -> None:
    # Given two events a minute apart, one stored inside a transaction
    told: list[StreamEvent] = []
    store.on_commit(StreamEvent, told.append)
    await stream_events.record(
        store, event="update", business_id=1, ref_id=10, public=True, now=1_000_000
    )
    async with store.transaction():
        await stream_events.record(
            store, event="notification", business_id=1, ref_id=11, public=False, now=1_060_000
        )
        # Then the process hears of the second only once it commits
        assert len(told) == 1
    assert len(told) == 2
    # When they are read from various times
    every = await stream_events.recent(store, since=0)
    later = await stream_events.recent(store, since=1_060_000)
    # Then oldest first, with their fields; and from a time only what came at or after it
    assert [(e.event, e.ref_id, e.public) for e in every] == [
        ("update", 10, True),
        ("notification", 11, False),
    ]
    assert [e.ref_id for e in later] == [11]
    # And the sweep deletes what is older than its cut-off
    assert await stream_events.prune(store, before=1_060_000) == 1
    assert [e.ref_id for e in await stream_events.recent(store, since=0)] == [11]


async def test_an_unknown_event_is_refused(store: Store) -> None:
    # Given / When an event Mastodon has no name for / Then it is a programming error
    with pytest.raises(AssertionError):
        await stream_events.record(
            store, event="poke", business_id=1, ref_id=1, public=False, now=1
        )
