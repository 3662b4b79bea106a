"""Host health records, deferred rows and what a post reached."""

from __future__ import annotations

import pytest

from fedi_town.store import deliveries, outbox
from fedi_town.store import queue as q
from fedi_town.store.db import now_ms
from fedi_town.store.deliveries import HOST_UNAVAILABLE, MAX_OPEN_MS, OPEN_MS, THRESHOLD, HostState
from tests.store.conftest import a_business, a_post

pytestmark = pytest.mark.anyio

NOW = 1_700_000_000_000


def test_the_breaker_stays_open_longer_after_each_further_failure_up_to_a_cap():
    assert deliveries.open_ms(THRESHOLD) == OPEN_MS
    assert deliveries.open_ms(THRESHOLD + 1) == 2 * OPEN_MS
    assert deliveries.open_ms(THRESHOLD + 50) == MAX_OPEN_MS


async def test_a_host_that_went_bad_is_troubled_until_it_answers_again(store):
    # Given a healthy host, then one that went bad
    assert await deliveries.host_state(store, "a.test") == HostState(0, None)
    await deliveries.save_open(store, "a.test", THRESHOLD, NOW + OPEN_MS, NOW)
    assert await deliveries.troubled_hosts(store) == {"a.test": HostState(THRESHOLD, NOW + OPEN_MS)}
    # When it answers again
    was_open = await deliveries.save_closed(store, "a.test", NOW + 1)
    # Then it was open, and is healthy now; closing a host never recorded does nothing
    assert was_open
    assert await deliveries.troubled_hosts(store) == {}
    assert not await deliveries.save_closed(store, "b.test", NOW)


async def test_one_caller_wins_the_probe_and_the_others_see_a_later_time(store):
    await deliveries.save_open(store, "a.test", THRESHOLD, NOW, NOW - OPEN_MS)
    assert await deliveries.take_probe(store, "a.test", NOW, NOW)
    assert not await deliveries.take_probe(store, "a.test", NOW, NOW)
    assert (await deliveries.host_state(store, "a.test")).open_until == NOW + deliveries.PROBE_MS


async def test_a_deferred_row_waits_for_its_host_and_wakes_when_the_host_recovers(store):
    # Given a delivery to a host whose breaker is open
    business = await a_business(store)
    await outbox.enqueue(
        store,
        business_id=business.id,
        body={"id": "https://t.test/a", "type": "Create"},
        inboxes=["https://a.test/inbox"],
        now=now_ms(),
    )
    row_id = await store.fetch_val("SELECT id FROM deliveries")
    await deliveries.save_open(store, "a.test", THRESHOLD, NOW + OPEN_MS, NOW)
    # When the row is deferred until the probe time
    assert await q.defer(
        store, q.DELIVERIES, row_id, until=NOW + OPEN_MS, last_error=HOST_UNAVAILABLE
    )
    row = await store.fetch_one("SELECT attempts, next_attempt_at, last_error FROM deliveries")
    assert (row["attempts"], row["next_attempt_at"], row["last_error"]) == (
        0,
        NOW + OPEN_MS,
        HOST_UNAVAILABLE,
    )
    # Then the host's recovery makes it due at once
    await deliveries.save_closed(store, "a.test", NOW + 5)
    assert await store.fetch_val("SELECT next_attempt_at FROM deliveries") == NOW + 5


async def test_what_a_post_reached_and_its_cancelled_deliveries(store):
    # Given a post whose Create went to two inboxes, one of them delivered
    business = await a_business(store)
    post = await a_post(store, business)
    body = {"id": f"{post.uri}/activity", "type": "Create"}
    await outbox.enqueue(
        store,
        business_id=business.id,
        body=body,
        inboxes=["https://a.test/inbox", "https://b.test/inbox"],
        post_id=post.id,
        now=now_ms(),
    )
    await store.execute("UPDATE deliveries SET state = 'done' WHERE inbox = 'https://a.test/inbox'")
    # Then the delivered inbox is reached, both were in the audience
    assert await deliveries.reached_inboxes(store, post.id, ["Create"]) == ["https://a.test/inbox"]
    assert await deliveries.audience_inboxes(store, post.id) == [
        "https://a.test/inbox",
        "https://b.test/inbox",
    ]
    # When the post's deliveries are cancelled
    await deliveries.cancel_for_post(store, post.id)
    # Then the pending one is cancelled and the delivered one stays done
    states = {r["inbox"]: r["state"] for r in await deliveries.of_post(store, post.id)}
    assert states["https://a.test/inbox"] == "done" and states["https://b.test/inbox"] != "pending"
