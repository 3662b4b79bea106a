"""The delivery handler's gates and the worker's shutdown: breaker, per-host limit, leases."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fedi_town import worker
from fedi_town.outbound.breaker import Breaker
from fedi_town.outbound.deliver import PER_HOST, HostLimiter, breaker, host_limiter
from fedi_town.store import deliveries as delivery_store
from fedi_town.store import outbox
from fedi_town.store.db import now_ms
from fedi_town.store.effects import Wake
from tests.live import wait_until
from tests.peer import Hang, TestPeer

pytestmark = pytest.mark.anyio


async def send(live: Any, business: dict[str, Any], inboxes: list[str], n: int = 1) -> int:
    """Queue a small activity of ``business`` for ``inboxes``; return its row id."""
    actor = f"{live.base_url}/users/{business['username']}"
    activity_id = await outbox.enqueue(
        live.store,
        business_id=int(business["id"]),
        body={"@context": "https://www.w3.org/ns/activitystreams", "id": f"{actor}#test/{n}",
              "type": "Create", "actor": actor, "object": {"id": f"{actor}#n/{n}",
                                                           "type": "Note"}},
        inboxes=inboxes,
        now=now_ms(),
    )  # fmt: skip
    live.services.store.after_commit(Wake())
    return activity_id


async def row_of(store, inbox: str) -> dict[str, Any]:
    row = await store.fetch_one("SELECT * FROM deliveries WHERE inbox = :i", {"i": inbox})
    assert row is not None
    return row


# -- the circuit breaker: in memory, transitions in storage -----------------------------------


async def test_the_breaker_counts_in_memory_and_stores_only_when_a_host_goes_bad(store):
    breaker = Breaker()
    host = "down.example"
    # Given failures below the threshold
    for _ in range(delivery_store.THRESHOLD - 1):
        state = await breaker.failed(store, host, 1_000)
    # Then they are counted in memory only
    assert state == delivery_store.HostState(delivery_store.THRESHOLD - 1, None)
    assert await delivery_store.troubled_hosts(store) == {}
    # When one more fails, the breaker opens and storage hears of it
    state = await breaker.failed(store, host, 1_000)
    assert state.open_until == 1_000 + delivery_store.OPEN_MS
    assert await delivery_store.host_state(store, host) == state
    # And a further failure (a failed probe) keeps it open longer, stored too
    state = await breaker.failed(store, host, 2_000)
    assert state.open_until == 2_000 + 2 * delivery_store.OPEN_MS
    assert await delivery_store.host_state(store, host) == state


async def test_a_success_closes_an_open_breaker_and_a_healthy_host_writes_nothing(store):
    breaker = Breaker()
    for _ in range(delivery_store.THRESHOLD):
        await breaker.failed(store, "down.example", 1_000)
    # When a healthy host answers many times
    for _ in range(5):
        assert await breaker.succeeded(store, "fine.example", 1_500) is False
    # Then it has no row at all
    assert await store.fetch_val("SELECT COUNT(*) FROM remote_hosts") == 1
    # When the open host answers, it is closed in memory and in storage
    assert await breaker.succeeded(store, "down.example", 3_000) is True
    assert breaker.state("down.example") == delivery_store.HostState(0, None)
    assert await delivery_store.host_state(store, "down.example") == delivery_store.HostState(
        0, None
    )
    assert await delivery_store.troubled_hosts(store) == {}


async def test_failures_below_the_threshold_are_forgotten_on_success_without_a_write(store):
    breaker = Breaker()
    await breaker.failed(store, "flaky.example", 1_000)
    assert await breaker.succeeded(store, "flaky.example", 1_100) is False
    assert breaker.state("flaky.example") == delivery_store.HostState(0, None)
    assert await store.fetch_val("SELECT COUNT(*) FROM remote_hosts") == 0


async def test_another_process_learns_of_an_open_breaker_and_only_one_probes(store):
    # Given two worker processes, each with its own breaker, and one sees a host go bad
    first, second = Breaker(), Breaker()
    assert await second.verdict(store, "down.example", 500) == "send"
    for _ in range(delivery_store.THRESHOLD):
        await first.failed(store, "down.example", 1_000)
    open_until = 1_000 + delivery_store.OPEN_MS
    # When the other one reads the transitions again
    await second.refresh(store, 1_001, force=True)
    # Then its rows for that host wait too
    assert await second.verdict(store, "down.example", 1_001) == open_until
    # And at probe time exactly one of them probes; the other waits for the probe
    verdicts = [
        await first.verdict(store, "down.example", open_until + 1),
        await second.verdict(store, "down.example", open_until + 1),
    ]
    assert sorted(map(str, verdicts)) == sorted(
        ["probe", str(open_until + 1 + delivery_store.PROBE_MS)]
    )
    # And this process's own rows do not probe twice
    assert await first.verdict(store, "down.example", open_until + 2) != "probe"


async def test_at_probe_time_only_one_row_may_probe(store):
    host = "down.example"
    await delivery_store.save_open(store, host, delivery_store.THRESHOLD, 61_000, 1_000)
    results = await asyncio.gather(
        *(delivery_store.take_probe(store, host, 61_000, 61_001) for _ in range(5))
    )
    assert sorted(results) == [False, False, False, False, True]


# -- the breaker and the limit, live -------------------------------------------------------------


async def test_rows_for_a_host_with_an_open_breaker_wait_uncounted_then_one_probe_closes_it(
    live, peer
):
    business = await live.create_business("bakery")
    inbox = f"{peer.actor('alice').uri}/inbox"
    health = breaker(live.services)
    # Given the peer's breaker is open for another minute
    for _ in range(delivery_store.THRESHOLD):
        await health.failed(live.store, peer.host, now_ms())
    opened = health.state(peer.host)
    # When an activity is queued for it
    await send(live, business, [inbox])
    # Then the row is put back until the probe time, its attempt not counted, nothing sent
    row = await wait_until(
        lambda: live.store.fetch_one(
            "SELECT * FROM deliveries WHERE last_error = :e", {"e": "host unavailable"}
        )
    )
    assert row["attempts"] == 0 and row["state"] == "pending"
    assert row["next_attempt_at"] == opened.open_until
    assert peer.received == []
    # When the probe time comes (as another process would record it, read on refresh)
    await live.store.execute("UPDATE remote_hosts SET open_until = :t", {"t": now_ms() - 1})
    await health.refresh(live.store, now_ms(), force=True)
    await live.store.execute("UPDATE deliveries SET next_attempt_at = :t", {"t": now_ms()})
    live.services.store.after_commit(Wake())
    # Then one probe goes out, succeeds, and the breaker is closed, in memory and in storage
    await peer.wait_for(lambda r: True)
    await wait_until(lambda: _is_done(live.store, inbox))
    assert health.state(peer.host) == delivery_store.HostState(0, None)
    assert await delivery_store.host_state(live.store, peer.host) == delivery_store.HostState(
        0, None
    )


async def _is_done(store, inbox: str) -> bool:
    return (await row_of(store, inbox))["state"] == "done"


async def test_no_more_than_four_requests_go_to_one_host_at_once(live):
    async with TestPeer.running("alice") as slow:
        slow.behave("*", [Hang(0.3)])
        business = await live.create_business("bakery")
        inboxes = [f"{slow.base}/users/u{n}/inbox" for n in range(12)]
        started = asyncio.get_running_loop().time()
        await send(live, business, inboxes)
        await wait_until(
            lambda: live.store.fetch_val(
                "SELECT COUNT(*) = 12 FROM deliveries WHERE state = 'done'"
            ),
            timeout=15,
        )
        elapsed = asyncio.get_running_loop().time() - started
        assert host_limiter(live.services).peak[slow.host] == PER_HOST
        assert elapsed >= 3 * 0.3  # 12 requests, 4 at a time, 0.3 s each
        assert len(slow.received) == 12


# -- shutdown ----------------------------------------------------------------------------------


async def test_at_shutdown_quick_deliveries_finish_and_stuck_ones_go_back_untouched(live):
    async with TestPeer.running("alice") as quick, TestPeer.running("alice") as stuck:
        quick.behave("*", [Hang(0.2)])
        stuck.behave("*", [Hang(5)])
        business = await live.create_business("bakery")
        quick_inbox, stuck_inbox = f"{quick.base}/inbox", f"{stuck.base}/inbox"
        await send(live, business, [quick_inbox, stuck_inbox])
        # Given both deliveries are in flight
        await quick.wait_for(lambda r: True)
        await stuck.wait_for(lambda r: True)
        # When the worker is stopped (SIGTERM) with a one-second deadline
        running = worker.running(live.services)
        assert running is not None
        running.stop_deadline = 1.0
        await worker.stop_in_process(live.services)
        # Then the quick one finished, the stuck one is pending again, attempt uncounted
        assert (await row_of(live.store, quick_inbox))["state"] == "done"
        stuck_row = await row_of(live.store, stuck_inbox)
        assert stuck_row["state"] == "pending"
        assert stuck_row["attempts"] == 0 and stuck_row["locked_until"] is None
        assert stuck_row["last_status"] is None and stuck_row["last_error"] is None


# -- the order rows are queued in -----------------------------------------------------------


async def test_a_fan_out_queues_one_inbox_per_server_in_turn(store):
    # Given inboxes that come grouped by server, as the audience query returns them
    inboxes = [f"https://{h}.example/users/u{n}/inbox" for h in "abc" for n in range(3)]
    inboxes.append("https://a.example/users/u0/inbox")  # a repeat, queued once
    # When they are queued
    activity_id = await outbox.enqueue(
        store, business_id=None, body={"id": "https://here.example/x", "type": "Create"},
        inboxes=inboxes,
        now=now_ms(),
    )  # fmt: skip
    # Then rows in claim order (by id) take one server after the other
    rows = await store.fetch_all(
        "SELECT host, inbox FROM deliveries WHERE activity_id = :a ORDER BY id", {"a": activity_id}
    )
    assert [r["host"] for r in rows] == ["a.example", "b.example", "c.example"] * 3
    assert sorted(r["inbox"] for r in rows) == sorted(set(inboxes))


async def test_a_host_limiter_hands_out_its_slots_waits_for_one_and_forgets_an_idle_host():
    limiter = HostLimiter(2)
    # Given both slots of a host taken
    assert await limiter.acquire("a.example", wait_s=1.0)
    assert await limiter.acquire("a.example", wait_s=1.0)
    assert limiter.in_flight("a.example") == 2 and limiter.peak["a.example"] == 2
    # Then a third caller gets none within its wait, and another host is not held up
    assert not await limiter.acquire("a.example", wait_s=0.0)
    assert await limiter.acquire("b.example", wait_s=0.0)
    # When a slot is given back while a caller waits, that caller gets it
    waiting = asyncio.ensure_future(limiter.acquire("a.example", wait_s=5.0))
    await asyncio.sleep(0)
    limiter.release("a.example")
    assert await waiting
    # And a caller cancelled while waiting takes no slot
    cancelled = asyncio.ensure_future(limiter.acquire("a.example", wait_s=5.0))
    await asyncio.sleep(0)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert limiter.in_flight("a.example") == 2
    # Once every slot is back, nothing is kept for the hosts (a fan-out meets thousands)
    for host in ("a.example", "a.example", "b.example"):
        limiter.release(host)
    assert limiter.in_flight("a.example") == 0 and not limiter._semaphores
