"""Worker heartbeats: one row per worker, the newest beat of any, old workers forgotten."""

from __future__ import annotations

import pytest

from fedi_town.store import heartbeats

pytestmark = pytest.mark.anyio

NOW = 1_800_000_000_000


async def test_no_worker_has_beaten_in_a_new_database(store):
    assert await heartbeats.last_beat(store) is None


async def test_a_worker_beating_again_moves_its_own_row_forward(store):
    # Given a worker that beat once
    await heartbeats.beat(store, "host:1:aa", NOW)
    # When it beats again 15 s later
    await heartbeats.beat(store, "host:1:aa", NOW + 15_000)
    # Then it has one row, at its latest beat
    rows = await store.fetch_all("SELECT worker_id, beat_at FROM worker_heartbeats")
    assert [(r["worker_id"], int(r["beat_at"])) for r in rows] == [("host:1:aa", NOW + 15_000)]


async def test_the_last_beat_is_the_newest_of_every_worker(store):
    # Given two workers that beat at different times
    await heartbeats.beat(store, "web:1:aa", NOW + 5_000)
    await heartbeats.beat(store, "worker:2:bb", NOW)
    # Then the last beat is the newer one
    assert await heartbeats.last_beat(store) == NOW + 5_000


async def test_a_worker_stopping_cleanly_removes_its_row_only(store):
    # Given two workers
    await heartbeats.beat(store, "web:1:aa", NOW)
    await heartbeats.beat(store, "worker:2:bb", NOW + 1_000)
    # When the second stops
    await heartbeats.forget(store, "worker:2:bb")
    # Then only the first one's beat is left
    assert await heartbeats.last_beat(store) == NOW


async def test_a_beat_forgets_workers_gone_for_a_day(store):
    # Given a worker that beat two days ago and never again
    await heartbeats.beat(store, "old:1:aa", NOW - 2 * heartbeats.FORGET_AFTER_MS)
    # When another worker beats now
    await heartbeats.beat(store, "new:2:bb", NOW)
    # Then the old one's row is gone
    rows = await store.fetch_all("SELECT worker_id FROM worker_heartbeats")
    assert [r["worker_id"] for r in rows] == ["new:2:bb"]
