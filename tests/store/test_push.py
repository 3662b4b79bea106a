"""Push subscriptions and the queue of pushes: one subscription per token, a new
notification queues a push per subscription of its business, finished rows are swept.
Both backends."""

from __future__ import annotations

import pytest

from fedi_town.store import notifications, push
from fedi_town.store.db import Store

pytestmark = pytest.mark.anyio


async def _subscribe(
    store: Store, token_id: int, business_id: int, endpoint: str
) -> push.Subscription:
    return await push.replace(
        store,
        token_id=token_id,
        business_id=business_id,
        endpoint=endpoint,
        p256dh="key",
        auth="secret",
        token_sealed="sealed",
        alerts={"mention": True},
        policy="all",
        standard=False,
        now=1_000,
    )


async def test_a_token_has_one_subscription_and_notifications_queue_pushes(store: Store) -> None:
    # Given two tokens of business 1 (the first subscribing twice) and one of business 2
    await _subscribe(store, 10, 1, "https://push.example/old")
    first = await _subscribe(store, 10, 1, "https://push.example/new")
    await _subscribe(store, 11, 1, "https://push.example/other")
    await _subscribe(store, 12, 2, "https://push.example/elsewhere")
    # When business 1 is notified, and the second token's alerts and policy change
    await notifications.notify(
        store, business_id=1, type="follow", dedupe_key="follow:1", now=2_000
    )
    changed = await push.change(store, 11, alerts={"follow": True}, policy="follower")
    queued = await store.fetch_all("SELECT subscription_id, notification_id FROM push_deliveries")
    # Then the token's later subscription replaced the earlier one, and each subscription
    # of business 1 got one push of the notification
    found = await push.of_token(store, 10)
    assert found == first and found.endpoint == "https://push.example/new"
    assert found.alerts == {"mention": True} and found.token_sealed == "sealed"
    assert changed is not None and (changed.alerts, changed.policy) == (
        {"follow": True},
        "follower",
    )
    assert await push.change(store, 99, alerts={}, policy="all") is None
    ours = {first.id, changed.id}
    assert {int(r["subscription_id"]) for r in queued} == ours
    assert len({int(r["notification_id"]) for r in queued}) == 1
    # And removing by token or by id ends the subscription
    await push.remove(store, token_id=10)
    await push.remove(store, id=changed.id)
    assert await push.of_token(store, 10) is None
    assert await push.by_id(store, changed.id) is None


async def test_finished_pushes_are_swept(store: Store) -> None:
    # Given a finished push row and a pending one, both old
    for row_id, state in ((1, "done"), (2, "pending")):
        await store.execute(
            "INSERT INTO push_deliveries (id, subscription_id, notification_id, state, "
            "next_attempt_at, created_at) VALUES (:id, 1, 1, :s, 0, 0)",
            {"id": row_id, "s": state},
        )
    # When the sweep runs
    swept = await push.prune(store, before=1_000)
    # Then only the finished one went
    left = await store.fetch_all("SELECT id FROM push_deliveries")
    assert swept == 1 and [int(r["id"]) for r in left] == [2]
