"""The persisted queue: leases, transitions, crash recovery, concurrent claims."""

from __future__ import annotations

import asyncio

import pytest

from fedi_town.store import queue as q
from fedi_town.store.db import new_id

pytestmark = pytest.mark.anyio


async def add_item(store, n: int, due: int = 0) -> int:
    row_id = new_id()
    await store.execute(
        "INSERT INTO inbox_items (id, activity_uri, actor_uri, type, body, state, "
        "next_attempt_at, created_at) VALUES (:id, :uri, 'a', 'Like', '{}', 'pending', :due, 0)",
        {"id": row_id, "uri": f"https://x.example/{n}", "due": due},
    )
    return row_id


async def test_claim_leases_due_rows_and_counts_the_attempt(store):
    first = await add_item(store, 1, due=100)
    await add_item(store, 2, due=10_000)  # not due yet
    rows = await q.claim(store, q.INBOX, now=1_000, lease_ms=500, limit=10)
    assert [r["id"] for r in rows] == [first]
    assert rows[0]["attempts"] == 1
    assert rows[0]["locked_until"] == 1_500


async def test_a_leased_row_is_not_claimed_again_until_the_lease_expires(store):
    await add_item(store, 1)
    assert len(await q.claim(store, q.INBOX, now=1_000, lease_ms=500, limit=10)) == 1
    assert await q.claim(store, q.INBOX, now=1_200, lease_ms=500, limit=10) == []
    # a worker that died: its lease passes and the row comes back
    again = await q.claim(store, q.INBOX, now=1_600, lease_ms=500, limit=10)
    assert len(again) == 1 and again[0]["attempts"] == 2


async def test_done_rows_leave_the_queue_and_cannot_be_finished_twice(store):
    row_id = await add_item(store, 1)
    await q.claim(store, q.INBOX, now=1_000, lease_ms=500, limit=10)
    assert await q.done(store, q.INBOX, row_id, now=1_100)
    assert not await q.done(store, q.INBOX, row_id, now=1_200)
    assert not await q.fail(store, q.INBOX, row_id, now=1_200)
    assert await q.claim(store, q.INBOX, now=99_999, lease_ms=500, limit=10) == []
    assert await q.counts(store, q.INBOX) == {"done": 1}


async def test_retry_waits_until_the_next_attempt_time(store):
    row_id = await add_item(store, 1)
    await q.claim(store, q.INBOX, now=1_000, lease_ms=500, limit=10)
    await q.retry(store, q.INBOX, row_id, next_attempt_at=5_000, last_error="timeout")
    assert await q.claim(store, q.INBOX, now=4_999, lease_ms=500, limit=10) == []
    rows = await q.claim(store, q.INBOX, now=5_000, lease_ms=500, limit=10)
    assert rows[0]["last_error"] == "timeout"
    assert await q.next_due(store, q.INBOX) == 5_500


async def test_release_gives_the_row_back_without_counting_the_attempt(store):
    row_id = await add_item(store, 1)
    await q.claim(store, q.INBOX, now=1_000, lease_ms=60_000, limit=10)
    await q.release(store, q.INBOX, [row_id])
    rows = await q.claim(store, q.INBOX, now=1_001, lease_ms=500, limit=10)
    assert rows[0]["attempts"] == 1


def test_transitions_out_of_a_terminal_state_are_refused():
    with pytest.raises(ValueError):
        q.check_transition("done", "pending")
    with pytest.raises(ValueError):
        q.check_transition("cancelled", "done")
    q.check_transition("failed", "pending")


async def test_concurrent_claims_never_hand_out_the_same_row(store):
    ids = {await add_item(store, n) for n in range(60)}
    results = await asyncio.gather(
        *(q.claim(store, q.INBOX, now=1_000, lease_ms=60_000, limit=7) for _ in range(12))
    )
    claimed = [r["id"] for rows in results for r in rows]
    assert len(claimed) == len(set(claimed))
    assert set(claimed) <= ids
    assert len(claimed) == 60


async def test_worker_runs_a_handler_and_retries_one_that_raises(store, settings):
    from fedi_town.services import Services
    from fedi_town.worker import QueueRunner, Worker

    services = Services.from_settings(settings)
    services.store = store
    ok_id = await add_item(store, 1)
    bad_id = await add_item(store, 2)
    seen: list[int] = []

    async def handler(services, row):
        seen.append(row["id"])
        if row["id"] == bad_id:
            raise RuntimeError("boom")
        await q.done(services.store, q.INBOX, row["id"], now=0)

    worker = Worker(services, [QueueRunner(q.INBOX, handler)], poll_seconds=0.05)
    worker.start()
    for _ in range(100):
        await asyncio.sleep(0.02)
        if len(seen) >= 2 and not worker._running:
            break
    await worker.stop()
    assert sorted(seen) == sorted([ok_id, bad_id])
    bad = await store.fetch_one("SELECT * FROM inbox_items WHERE id = :id", {"id": bad_id})
    assert bad["state"] == "pending" and bad["last_error"] == "RuntimeError"
    good = await store.fetch_one("SELECT state FROM inbox_items WHERE id = :id", {"id": ok_id})
    assert good["state"] == "done"


async def test_many_rows_are_written_in_chunks_and_all_arrive(store):
    # Given more rows than one execute_many chunk holds
    from fedi_town.store.db import EXECUTE_MANY_CHUNK

    rows = [
        {"id": new_id(), "uri": f"https://x.example/many/{n}"}
        for n in range(EXECUTE_MANY_CHUNK * 2 + 7)
    ]
    # When they are inserted in one call
    await store.execute_many(
        "INSERT INTO inbox_items (id, activity_uri, actor_uri, type, body, state, "
        "next_attempt_at, created_at) VALUES (:id, :uri, 'a', 'Like', '{}', 'pending', 0, 0)",
        rows,
    )
    # Then every one is stored
    assert await store.fetch_val("SELECT COUNT(*) FROM inbox_items") == len(rows)
