"""The persisted queue: leases, transitions, crash recovery, concurrent claims."""

from __future__ import annotations

import asyncio

import pytest

from fedi_town.store import queue as q
from fedi_town.store.db import new_id, now_ms
from tests.live import wait_until

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
        return q.Done()

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


# -- finishing in batches --------------------------------------------------------------------


async def claimed(store, n: int, lease_ms: int = 60_000) -> list[int]:
    ids = [await add_item(store, k) for k in range(n)]
    rows = await q.claim(store, q.INBOX, now=now_ms(), lease_ms=lease_ms, limit=n)
    assert sorted(r["id"] for r in rows) == sorted(ids)
    return ids


async def test_done_many_marks_leased_rows_done_with_their_columns_once(store):
    # Given three leased rows, one of them already finished
    a, b, c = await claimed(store, 3)
    assert await q.done(store, q.INBOX, c, now=1)
    # When they are marked done together, with two different error notes
    finished = await q.done_many(
        store, q.INBOX, [(a, {"last_error": None}), (b, {"last_error": "x"}), (c, {})], now=5
    )
    # Then the two pending ones changed, each with its own columns, and the done one did not
    assert finished == {a, b}
    rows = {r["id"]: r for r in await store.fetch_all("SELECT * FROM inbox_items")}
    assert {rows[i]["state"] for i in (a, b, c)} == {"done"}
    assert rows[b]["last_error"] == "x" and rows[a]["last_error"] is None
    assert rows[a]["done_at"] == 5 and rows[c]["done_at"] == 1
    assert all(rows[i]["locked_until"] is None for i in (a, b, c))


async def test_rows_finished_together_are_written_in_one_batch(store, settings):
    from fedi_town.services import Services
    from fedi_town.worker import Finisher

    services = Services.from_settings(settings)
    services.store = store
    ids = await claimed(store, 20)
    finisher = Finisher(services, q.INBOX)
    finisher.start()
    try:
        # When twenty handlers finish at the same moment
        results = await asyncio.gather(*(finisher.done(i, {}) for i in ids))
    finally:
        await finisher.close()
    # Then each hears its row was done, and one commit wrote them all
    assert results == [True] * 20
    assert finisher.batches == 1
    assert await q.counts(store, q.INBOX) == {"done": 20}


async def test_a_row_whose_handler_was_cancelled_still_goes_out_with_its_batch(store, settings):
    from fedi_town.services import Services
    from fedi_town.worker import Finisher

    services = Services.from_settings(settings)
    services.store = store
    [row_id] = await claimed(store, 1)
    finisher = Finisher(services, q.INBOX)  # not started: nothing is written yet
    # Given a handler that handed its row over and was then cancelled (shutdown)
    handler = asyncio.create_task(finisher.done(row_id, {}))
    await asyncio.sleep(0)
    handler.cancel()
    with pytest.raises(asyncio.CancelledError):
        await handler
    # When the finisher is closed
    await finisher.close()
    # Then the row is done: its work happened, it must not be done again
    assert await q.counts(store, q.INBOX) == {"done": 1}


async def test_stop_marks_finished_rows_done_and_releases_only_unfinished_ones(store, settings):
    from fedi_town.services import Services
    from fedi_town.worker import QueueRunner, Worker

    services = Services.from_settings(settings)
    services.store = store
    quick = {await add_item(store, n) for n in range(10)}
    stuck = await add_item(store, 99)
    started: set[int] = set()

    async def handler(services, row):
        started.add(row["id"])
        if row["id"] == stuck:
            await asyncio.sleep(30)  # still running at the stop deadline
        return q.Done()

    worker = Worker(services, [QueueRunner(q.INBOX, handler)], poll_seconds=0.05)
    worker.stop_deadline = 0.3
    worker.start()
    await wait_until(lambda: len(started) == 11)
    # When the worker stops while one row is stuck
    await worker.stop()
    # Then every finished row is done, the stuck one is pending with no lease, uncounted
    rows = {r["id"]: r for r in await store.fetch_all("SELECT * FROM inbox_items")}
    assert {rows[i]["state"] for i in quick} == {"done"}
    assert rows[stuck]["state"] == "pending"
    assert rows[stuck]["locked_until"] is None and rows[stuck]["attempts"] == 0
    # And no row is left leased without being done or released
    assert all(r["locked_until"] is None for r in rows.values())


async def test_a_worker_cancelled_like_a_crash_leaves_its_rows_to_be_retried(store, settings):
    from fedi_town.services import Services
    from fedi_town.worker import QueueRunner, Worker

    services = Services.from_settings(settings)
    services.store = store
    ids = {await add_item(store, n) for n in range(3)}
    started: set[int] = set()

    async def handler(services, row):
        started.add(row["id"])
        await asyncio.sleep(30)

    worker = Worker(services, [QueueRunner(q.INBOX, handler)], lease_ms=60_000)
    worker.start()
    await wait_until(lambda: len(started) == 3)
    # When every task of the worker is cancelled, with no orderly stop (a crash)
    tasks = [*worker._tasks, *(t for _, t in worker._running.values())]
    tasks += [f._task for f in worker._finishers.values() if f._task is not None]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    # Then the rows are still pending under their lease, nothing was marked done
    rows = await store.fetch_all("SELECT * FROM inbox_items")
    assert {r["state"] for r in rows} == {"pending"}
    assert all(r["locked_until"] is not None for r in rows)
    # And once the lease has passed, another worker claims every one of them again
    later = max(r["locked_until"] for r in rows) + 1
    again = await q.claim(store, q.INBOX, now=later, lease_ms=1_000, limit=10)
    assert {r["id"] for r in again} == ids


async def test_a_row_handed_over_without_waiting_stays_leased_until_its_batch_is_written(
    store, settings
):
    from fedi_town.services import Services
    from fedi_town.worker import Finisher

    services = Services.from_settings(settings)
    services.store = store
    [row_id] = await claimed(store, 1)
    finisher = Finisher(services, q.INBOX, linger_s=30.0, waits=False)
    finisher.start()
    # Given a handler that handed its row over and went on (the batch still gathering)
    finisher.hand_over(row_id, {"last_error": None})
    await asyncio.sleep(0.05)
    # Then the row is still leased: no worker can claim it again meanwhile
    assert await q.claim(store, q.INBOX, now=now_ms(), lease_ms=1_000, limit=10) == []
    # When the finisher is closed (the worker stops), the batch is written without delay
    await finisher.close()
    assert await q.counts(store, q.INBOX) == {"done": 1}
    assert finisher.batches == 1


async def test_migrations_apply_once_and_record_every_version(store):
    from fedi_town.store.migrations import MIGRATIONS, migrate

    assert await migrate(store) == []  # the fixture migrated already
    versions = await store.fetch_all("SELECT version FROM schema_migrations ORDER BY version")
    assert [r["version"] for r in versions] == [number for number, _, _ in MIGRATIONS]


async def test_a_claim_walks_the_index_in_claim_order_instead_of_sorting_the_backlog(tmp_path):
    # On SQLite (its plan is plain to read; PostgreSQL's depends on table statistics).
    from fedi_town.store.db import Store
    from fedi_town.store.migrations import migrate

    store = Store(f"sqlite:///{tmp_path / 'plan.sqlite3'}")
    await store.connect()
    try:
        await migrate(store)
        plan = await store.fetch_all(
            "EXPLAIN QUERY PLAN SELECT id FROM inbox_items WHERE state = 'pending' "
            "AND next_attempt_at <= 5 AND (locked_until IS NULL OR locked_until <= 5) "
            "ORDER BY next_attempt_at, id LIMIT 16"
        )
    finally:
        await store.disconnect()
    details = " | ".join(str(row["detail"]) for row in plan)
    assert "inbox_items_due" in details
    assert "TEMP B-TREE" not in details


async def test_a_row_that_cannot_be_read_is_failed_alone_and_the_queue_goes_on(tmp_path):
    # Given a SQLite queue holding a row whose text is not UTF-8 (only SQLite can store it)
    # between two good rows
    import sqlite3

    from fedi_town.store.db import Store
    from fedi_town.store.migrations import migrate
    from tests.store.test_db import BAD_ROW

    path = tmp_path / "queue.sqlite3"
    store = Store(f"sqlite:///{path}")
    await store.connect()
    try:
        await migrate(store)
        first = await add_item(store, 1)
        bad_id = new_id()  # from new_id, so the next row's id cannot collide with it
        with sqlite3.connect(path) as raw:
            raw.execute(BAD_ROW, {"id": bad_id})
        last = await add_item(store, 3)
        # When the worker claims
        rows = await q.claim(store, q.INBOX, now=1_000, lease_ms=500, limit=10)
        # Then the good rows are handed out, the bad one is failed with its reason
        assert [r["id"] for r in rows] == [first, last]
        bad = await store.fetch_one(
            "SELECT state, last_error FROM inbox_items WHERE id = :id", {"id": bad_id}
        )
        assert bad == {"state": "failed", "last_error": q.UNREADABLE}
        # and the queue keeps working: the good rows finish, later claims find nothing
        assert await q.done(store, q.INBOX, first, now=1_100)
        again = await q.claim(store, q.INBOX, now=99_999, lease_ms=500, limit=10)
        assert [r["id"] for r in again] == [last]  # its lease passed; the bad row stays failed
    finally:
        await store.disconnect()


async def test_a_finisher_keeps_its_batch_while_the_database_refuses_and_writes_it_after(
    tmp_path,
):
    # Given a finisher holding rows that were worked while the database refuses writes
    from fedi_town.services import Services
    from fedi_town.store.migrations import migrate
    from fedi_town.worker import Finisher
    from tests.conftest import make_settings

    services = Services.from_settings(make_settings(f"sqlite:///{tmp_path / 'q.db'}", tmp_path))
    store = services.store
    await store.connect()
    try:
        await migrate(store)
        ids = [await add_item(store, n) for n in range(3)]
        await q.claim(store, q.INBOX, now=now_ms(), lease_ms=60_000, limit=10)
        finisher = Finisher(services, q.INBOX, retry_s=0.05, waits=False)
        finisher.start()
        await store.write("PRAGMA query_only = ON")  # every write refused (SQLITE_READONLY)
        futures = [finisher.add(row_id, {}) for row_id in ids]
        await wait_until(lambda: finisher._backoff.failures >= 2, timeout=10)
        assert not any(f.done() for f in futures)
        # When the database takes writes again
        await store.write("PRAGMA query_only = OFF")
        # Then the same batch is written: every row done, none lost
        assert await asyncio.wait_for(asyncio.gather(*futures), timeout=10) == [True] * 3
        assert await q.counts(store, q.INBOX) == {"done": 3}
        await finisher.close()
    finally:
        await store.disconnect()


async def test_apply_records_each_outcome_a_handler_returns(store):
    # Given four leased rows
    ids = [await add_item(store, n) for n in range(4)]
    await q.claim(store, q.INBOX, now=1_000, lease_ms=60_000, limit=10)
    done, retried, given_up, deferred = ids
    # When each gets one kind of outcome
    await q.apply(store, q.INBOX, done, q.Done({"last_error": "none"}), now=2_000)
    await q.apply(store, q.INBOX, retried, q.Retry(9_000, "busy"), now=2_000)
    await q.apply(store, q.INBOX, given_up, q.GiveUp("refused"), now=2_000)
    await q.apply(store, q.INBOX, deferred, q.Defer(7_000, "later"), now=2_000)
    # Then the rows say so; a deferred row's attempt is not counted
    rows = {r["id"]: r for r in await store.fetch_all("SELECT * FROM inbox_items")}
    assert rows[done]["state"] == "done" and rows[done]["done_at"] == 2_000
    assert (rows[retried]["state"], rows[retried]["next_attempt_at"]) == ("pending", 9_000)
    assert rows[retried]["last_error"] == "busy" and rows[retried]["attempts"] == 1
    assert (rows[given_up]["state"], rows[given_up]["last_error"]) == ("failed", "refused")
    assert (rows[deferred]["next_attempt_at"], rows[deferred]["attempts"]) == (7_000, 0)
    assert all(r["locked_until"] is None for r in rows.values())


async def test_a_handler_that_keeps_raising_gives_up_at_the_queue_s_attempt_cap(store, settings):
    from fedi_town.services import Services
    from fedi_town.worker import QueueRunner, Worker

    services = Services.from_settings(settings)
    services.store = store
    # Given a row that already used all but one of the inbox queue's attempts
    row_id = await add_item(store, 1)
    cap = q.INBOX.retry.max_attempts
    assert cap is not None
    await store.execute("UPDATE inbox_items SET attempts = :n", {"n": cap - 1})

    async def handler(services, row):
        raise RuntimeError("boom")

    # When the worker runs it once more
    worker = Worker(services, [QueueRunner(q.INBOX, handler)], poll_seconds=0.05)
    worker.start()

    async def failed() -> bool:
        row = await store.fetch_one("SELECT state FROM inbox_items WHERE id = :i", {"i": row_id})
        return row is not None and row["state"] == "failed"

    await wait_until(failed)
    await worker.stop()
    # Then it is given up, with the reason recorded
    row = await store.fetch_one("SELECT * FROM inbox_items WHERE id = :i", {"i": row_id})
    assert row["last_error"] == "too many attempts" and row["attempts"] == cap


async def test_a_wake_effect_makes_the_worker_look_before_its_next_poll(store, settings):
    from fedi_town.services import Services
    from fedi_town.store.effects import Wake
    from fedi_town.worker import QueueRunner, Worker

    services = Services.from_settings(settings)
    services.store = store
    seen: list[int] = []

    async def handler(services, row):
        seen.append(row["id"])
        return q.Done()

    # Given a worker that polls only once a minute, idle
    worker = Worker(services, [QueueRunner(q.INBOX, handler)], poll_seconds=60.0)
    worker.start()
    await asyncio.sleep(0.1)
    # When a row is queued by a transaction that carries a Wake
    async with store.transaction():
        row_id = await add_item(store, 1)
        store.after_commit(Wake(q.INBOX))
    # Then the worker handles it at once
    await wait_until(lambda: seen == [row_id], timeout=5)
    await worker.stop()


async def test_backlog_counts_pending_and_due_rows_and_the_oldest_due_time(store):
    # Given an empty queue, then rows due at 100 and 300, one due later, one finished
    assert await q.backlog(store, q.INBOX, now=1_000) == q.Backlog(0, 0, None)
    await add_item(store, 1, due=300)
    await add_item(store, 2, due=100)
    await add_item(store, 3, due=5_000)
    done = await add_item(store, 4, due=50)
    await q.claim(store, q.INBOX, now=60, lease_ms=10, limit=1)
    await q.done(store, q.INBOX, done, now=70)
    # When the backlog is read at 1 000 (a leased row still counts: it is being worked)
    await q.claim(store, q.INBOX, now=1_000, lease_ms=10_000, limit=1)
    backlog = await q.backlog(store, q.INBOX, now=1_000)
    # Then three rows wait, two are due, the oldest since 100
    assert backlog == q.Backlog(pending=3, due=2, oldest_due_at=100)
    # And before anything is due there is no oldest due time
    assert await q.backlog(store, q.INBOX, now=90) == q.Backlog(3, 0, None)
