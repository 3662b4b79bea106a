"""Retention: finished queue rows go after ``retention_days``; pending ones never do."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from fedi_town import worker
from fedi_town.services import Services
from fedi_town.store import queue as q
from fedi_town.store import retention
from fedi_town.store.db import new_id
from tests.conftest import FixedClock
from tests.reliability import record

pytestmark = pytest.mark.anyio

DAY = retention.DAY_MS
NOW = 1_800_000_000_000


async def add_item(store, state: str, finished_days_ago: float, body: str = '{"x":1}') -> int:
    """An inbox item in ``state``; when finished, that many days ago."""
    row_id = new_id()
    at = int(NOW - finished_days_ago * DAY)
    await store.execute(
        "INSERT INTO inbox_items (id, activity_uri, actor_uri, type, body, state, "
        "next_attempt_at, created_at, done_at) "
        "VALUES (:id, :uri, 'https://x.example/a', 'Like', :body, :state, :at, :at, :done)",
        {
            "id": row_id,
            "uri": f"https://x.example/{row_id}",
            "body": body,
            "state": state,
            "at": at,
            "done": None if state in ("pending", "cancelled") else at,
        },
    )
    return row_id


async def add_post(store, deleted: bool) -> int:
    post_id = new_id()
    await store.execute(
        "INSERT INTO posts (id, business_id, uri, content_source, content_html, visibility, "
        "created_at, published_at, deleted_at) "
        "VALUES (:id, 1, :uri, 'hi', '<p>hi</p>', 'public', 0, 0, :deleted)",
        {
            "id": post_id,
            "uri": f"https://town.example/p/{post_id}",
            "deleted": 1 if deleted else None,
        },
    )
    return post_id


async def add_activity(store, days_ago: float, post_id: int | None = None) -> int:
    activity_id = new_id()
    await store.execute(
        "INSERT INTO outgoing_activities (id, business_id, uri, type, post_id, body, created_at) "
        "VALUES (:id, 1, :uri, 'Create', :post, '{}', :at)",
        {
            "id": activity_id,
            "uri": f"https://town.example/a/{activity_id}",
            "post": post_id,
            "at": int(NOW - days_ago * DAY),
        },
    )
    return activity_id


async def add_delivery(store, activity_id: int, state: str, finished_days_ago: float) -> int:
    row_id = new_id()
    at = int(NOW - finished_days_ago * DAY)
    await store.execute(
        "INSERT INTO deliveries (id, activity_id, inbox, host, state, next_attempt_at, "
        "created_at, done_at) VALUES (:id, :a, :inbox, 'h.example', :state, :at, :at, :done)",
        {
            "id": row_id,
            "a": activity_id,
            "inbox": f"https://h.example/{row_id}/inbox",
            "state": state,
            "at": at,
            "done": None if state in ("pending", "cancelled") else at,
        },
    )
    return row_id


async def ids(store, table: str) -> set[int]:
    return {int(r["id"]) for r in await store.fetch_all(f"SELECT id FROM {table}", {})}


async def test_finished_inbox_items_past_retention_go_and_recent_and_pending_ones_stay(store):
    # Given finished items 8 days old (done, failed, cancelled), finished ones 6 days old,
    # and pending items 30 days old (a backlog the worker has not reached)
    old = {await add_item(store, s, 8) for s in ("done", "failed", "cancelled")}
    recent = {await add_item(store, s, 6) for s in ("done", "failed", "cancelled")}
    pending = {await add_item(store, "pending", 30) for _ in range(2)}
    # When the store is swept with a 7-day retention
    swept = await retention.sweep(store, now=NOW, keep_days=7)
    # Then exactly the old finished items are gone
    assert swept.inbox_items == 3
    assert await ids(store, "inbox_items") == recent | pending
    assert not old & await ids(store, "inbox_items")


async def test_done_items_lose_their_body_at_once_failed_and_pending_keep_theirs(store):
    # Given a done item (perhaps of a type nobody handles), a failed and a pending one
    done = await add_item(store, "done", 0.01, body='{"type":"Unknown","big":"' + "x" * 5000 + '"}')
    failed = await add_item(store, "failed", 0.01)
    pending = await add_item(store, "pending", 0.01)
    # When the store is swept
    swept = await retention.sweep(store, now=NOW, keep_days=7)
    # Then only the done item's body is emptied; every row stays (dedupe by activity id)
    bodies = {
        int(r["id"]): r["body"] for r in await store.fetch_all("SELECT id, body FROM inbox_items")
    }
    assert swept.bodies_emptied == 1
    assert bodies == {done: "", failed: '{"x":1}', pending: '{"x":1}'}


async def test_old_deliveries_go_with_their_activity_but_a_live_posts_record_stays(store):
    # Given an 8-day-old Accept (no post) delivered, a live post and a deleted post whose
    # deliveries finished 8 days ago, and a 10-day-old activity with a delivery still pending
    accept = await add_activity(store, 8)
    accept_rows = {await add_delivery(store, accept, s, 8) for s in ("done", "failed")}
    live = await add_activity(store, 8, await add_post(store, deleted=False))
    live_rows = {await add_delivery(store, live, "done", 8)}
    deleted = await add_activity(store, 8, await add_post(store, deleted=True))
    deleted_rows = {await add_delivery(store, deleted, "cancelled", 8)}
    waiting = await add_activity(store, 10)
    waiting_rows = {await add_delivery(store, waiting, "pending", 10)}
    # When the store is swept
    swept = await retention.sweep(store, now=NOW, keep_days=7)
    # Then the Accept's and the deleted post's rows and activities are gone; the live
    # post's record (where its edits and Delete go) and the pending delivery stay
    assert await ids(store, "deliveries") == live_rows | waiting_rows
    assert await ids(store, "outgoing_activities") == {live, waiting}
    assert (swept.deliveries, swept.activities) == (len(accept_rows | deleted_rows), 2)


async def test_a_large_table_is_swept_in_bounded_batches_until_none_is_left(store, monkeypatch):
    # Given 2,500 old done items and a batch of 1,000 rows per statement
    assert retention.BATCH == 1_000
    await store.execute_many(
        "INSERT INTO inbox_items (id, activity_uri, actor_uri, type, body, state, "
        "next_attempt_at, created_at, done_at) "
        "VALUES (:id, :uri, 'a', 'Like', 'b', 'done', 0, 0, 0)",
        [{"id": new_id(), "uri": f"https://x.example/{n}"} for n in range(2_500)],
    )
    statements: list[int] = []
    real = store.write_count

    async def counted(sql, values=None):
        statements.append(await real(sql, values))
        return statements[-1]

    monkeypatch.setattr(store, "write_count", counted)
    # When the store is swept
    swept = await retention.sweep(store, now=NOW, keep_days=7)
    # Then every one is gone, no statement having touched more than 1,000 rows
    assert swept.inbox_items == 2_500
    assert await ids(store, "inbox_items") == set()
    assert max(statements) == 1_000 and statements.count(1_000) == 2


async def test_with_daily_traffic_and_daily_sweeps_the_queue_tables_stop_growing(store):
    # Given 50 inbox items and 50 deliveries finished every day for 20 days, swept daily
    sizes = []
    for day in range(20):
        now = NOW + day * DAY
        activity = await add_activity(store, -day)
        for _ in range(50):
            await add_item(store, "done", -day)
            await add_delivery(store, activity, "done", -day)
        await retention.sweep(store, now=now, keep_days=7)
        sizes.append((len(await ids(store, "inbox_items")), len(await ids(store, "deliveries"))))
    # Then each table holds at most the last 8 days' rows, however long it runs
    record("faults", "unbounded queue tables (20 days swept)", f"rows={sizes[-1][0]}")
    assert max(sizes) == (400, 400) and sizes[-1] == (400, 400)


async def test_the_worker_sweeps_every_few_minutes(settings):
    # Given the worker built for an instance
    services = Services.from_settings(settings)
    # When its periodic jobs are listed, then the retention sweep is one, every 5 minutes
    built = worker.build_worker(services)
    jobs = {job.__name__: interval for interval, job in built.periodic}
    assert jobs["sweep_old_rows"] == retention.EVERY_S
    assert retention.EVERY_S <= 600


async def test_the_sweep_job_uses_the_retention_setting_and_the_services_clock(settings, store):
    # Given an instance keeping 2 days whose clock stands at NOW, a done item 3 days old and
    # one 1 day old
    clock = FixedClock(datetime.fromtimestamp(NOW / 1000, UTC))
    services = Services.from_settings(dataclasses.replace(settings, retention_days=2), clock=clock)
    services.store = store
    old = await add_item(store, "done", 3)
    kept = await add_item(store, "done", 1)
    # When the job runs
    cleanup = worker.Cleanup()
    await cleanup.sweep_old_rows(services)
    # Then the 3-day-old item is gone and the other stays
    assert await ids(store, "inbox_items") == {kept}
    assert old != kept
    # When the clock stands at exactly 2 days after the other one was done, then it stays;
    # a millisecond later it is past the cutoff and goes too
    clock.advance(timedelta(days=1))
    await cleanup.sweep_old_rows(services)
    assert await ids(store, "inbox_items") == {kept}
    clock.advance(timedelta(milliseconds=1))
    await cleanup.sweep_old_rows(services)
    assert await ids(store, "inbox_items") == set()


async def test_with_each_queue_s_delete_after_the_tables_stop_growing(settings, store):
    # Given an instance that sets no retention (each queue keeps rows its delete_after)
    services = Services.from_settings(dataclasses.replace(settings, retention_days=None))
    services.store = store
    cleanup = worker.Cleanup()
    kept_days = max(q.INBOX.delete_after_ms, q.DELIVERIES.delete_after_ms) // DAY
    sizes = []
    # When every day the same work is finished and the worker's cleanup runs (fixed clock)
    for day in range(kept_days + 6):
        at_days_ago = -day  # day ``day`` after NOW
        for state in ("done", "failed"):
            await add_item(store, state, at_days_ago)
            activity = await add_activity(store, at_days_ago)
            await add_delivery(store, activity, state, at_days_ago)
        await cleanup.sweep_old_rows(services, now=NOW + day * DAY + 1)
        tables = ("inbox_items", "deliveries", "outgoing_activities")
        sizes.append(tuple([len(await ids(store, table)) for table in tables]))
    # Then the tables grow during the queues' delete_after, and not at all after it
    growing = sizes[:kept_days]
    assert growing == sorted(set(growing)), sizes
    assert set(sizes[kept_days - 1 :]) == {(2 * kept_days, 2 * kept_days, 2 * kept_days)}


async def _timeline_note(store, days_ago: float, *, shown: bool, target: bool = False) -> int:
    """A remote note stored ``days_ago``, with a timeline entry of that age if ``shown``,
    and a reply target if ``target``."""
    note_id = new_id()
    at = int(NOW - days_ago * DAY)
    await store.execute(
        "INSERT INTO remote_notes (id, uri, actor_id, content_html, visibility, published_at, "
        "created_at) VALUES (:id, :uri, 1, '<p>x</p>', 'public', :at, :at)",
        {"id": note_id, "uri": f"https://x.example/n/{note_id}", "at": at},
    )
    if shown:
        await store.execute(
            "INSERT INTO timeline (id, business_id, note_id, entry_uri, created_at) "
            "VALUES (:id, 1, :n, :uri, :at)",
            {"id": new_id(), "n": note_id, "uri": f"https://x.example/n/{note_id}", "at": at},
        )
    if target:
        await store.execute(
            "INSERT INTO remote_note_targets (note_id, business_id) VALUES (:n, 1)", {"n": note_id}
        )
    return note_id


async def test_old_timeline_entries_go_with_notes_nothing_else_shows(store):
    # Given an old timeline post, a recent one, and an old reply to a business
    old = await _timeline_note(store, 40, shown=True)
    recent = await _timeline_note(store, 2, shown=True)
    reply = await _timeline_note(store, 40, shown=False, target=True)

    # When the sweep keeps 30 days of timeline
    swept = await retention.sweep(store, now=NOW, timeline_days=30)

    # Then the old entry and its note went; the recent one and the reply stay
    assert (swept.timeline, swept.notes) == (1, 1)
    left = {r["id"] for r in await store.fetch_all("SELECT id FROM remote_notes")}
    assert left == {recent, reply}
    assert old not in left


async def test_the_sweep_job_keeps_the_timeline_for_timeline_days(settings, store):
    # Given an instance keeping its timeline 5 days, a 6-day-old entry and a 4-day-old one
    clock = FixedClock(datetime.fromtimestamp(NOW / 1000, UTC))
    services = Services.from_settings(dataclasses.replace(settings, timeline_days=5), clock=clock)
    services.store = store
    await _timeline_note(store, 6, shown=True)
    recent = await _timeline_note(store, 4, shown=True)
    # When the job runs, then only the recent one and its note are left
    await worker.Cleanup().sweep_old_rows(services)
    assert await ids(store, "remote_notes") == {recent}
    assert await store.fetch_val("SELECT COUNT(*) FROM timeline") == 1
