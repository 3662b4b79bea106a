"""What an owner is told: each fact once, newest first, filtered by type."""

from __future__ import annotations

import pytest

from fedi_town.store import notifications, social, stream_events
from fedi_town.store.actors import actor_from_row
from fedi_town.store.db import now_ms
from fedi_town.store.effects import StreamEvent
from tests.store.conftest import a_business, a_post, an_actor

pytestmark = pytest.mark.anyio


async def test_a_fact_reported_twice_notifies_once(store):
    business, actor = await a_business(store), await an_actor(store)
    values = {
        "business_id": business.id,
        "type": "follow",
        "dedupe_key": "follow:1",
        "actor_id": actor.id,
    }
    assert await notifications.notify(store, **values, now=now_ms())
    assert not await notifications.notify(store, **values, now=now_ms())
    assert len(await notifications.page(store, business.id, limit=10)) == 1


async def test_a_notification_adds_one_stream_event_and_a_repeat_none(store):
    # Given a business with no app subscribed to pushes
    business, actor = await a_business(store), await an_actor(store)
    told: list[StreamEvent] = []
    store.on_commit(StreamEvent, told.append)
    values = {
        "business_id": business.id,
        "type": "follow",
        "dedupe_key": "follow:1",
        "actor_id": actor.id,
    }
    # When the same fact is reported twice, inside transactions
    for _ in range(2):
        async with store.transaction():
            await notifications.notify(store, **values, now=now_ms())
    # Then one event names the one notification, and the process heard of it once
    [row] = await notifications.page(store, business.id, limit=10)
    events = await stream_events.recent(store, since=0)
    assert [(e.event, e.business_id, e.ref_id, e.public) for e in events] == [
        ("notification", business.id, row["id"], False)
    ]
    assert len(told) == 1
    # And no push was queued, nobody being subscribed
    assert await store.fetch_val("SELECT COUNT(*) FROM push_deliveries") == 0


async def test_a_page_is_newest_first_with_the_actor_and_the_post_joined(store):
    # Given a follow, then a like of a post
    business, actor = await a_business(store), await an_actor(store)
    post = await a_post(store, business)
    await notifications.notify(
        store,
        business_id=business.id,
        type="follow",
        dedupe_key="follow:1",
        actor_id=actor.id,
        now=now_ms(),
    )
    await notifications.notify(
        store,
        business_id=business.id,
        type="like",
        dedupe_key="like:1",
        actor_id=actor.id,
        post_id=post.id,
        now=now_ms(),
    )
    # When the first page is read
    page = await notifications.page(store, business.id, limit=10)
    # Then the like comes first, with its post's URI and its actor
    assert [row["type"] for row in page] == ["like", "follow"]
    assert page[0]["post_uri"] == post.uri
    assert actor_from_row(page[0], "a_").uri == actor.uri
    # And the next page and a filter by type see the rest
    older = await notifications.page(store, business.id, limit=10, max_id=page[0]["id"])
    assert [row["type"] for row in older] == ["follow"]
    follows = await notifications.page(
        store, business.id, limit=10, types=["follow", "follow_request"]
    )
    assert [row["type"] for row in follows] == ["follow"]


async def test_a_notification_deleted_by_its_key_is_gone_and_others_are_kept(store):
    business = await a_business(store)
    for key in ("report:1:1", "report:2:1"):
        await notifications.notify(
            store, business_id=business.id, type="report", dedupe_key=key, now=now_ms()
        )
    await notifications.delete_by_key(store, "report:1:1")
    assert len(await notifications.page(store, business.id, limit=10)) == 1


async def test_notifications_belong_to_their_business(store):
    bakery, cafe = await a_business(store, "bakery"), await a_business(store, "cafe")
    await notifications.notify(
        store, business_id=bakery.id, type="report", dedupe_key="report:1:1", now=now_ms()
    )
    assert await notifications.page(store, cafe.id, limit=10) == []


async def test_notify_after_a_write_notifies_only_when_it_wrote(store):
    # Given a business's post, and a like of it written with its notification in one go
    business, actor = await a_business(store), await an_actor(store)
    post = await a_post(store, business)
    told: list[StreamEvent] = []
    store.on_commit(StreamEvent, told.append)

    async def like(activity_uri: str, dedupe_key: str) -> bool:
        write = social.interaction_insert(
            kind="like", activity_uri=activity_uri, actor_id=actor.id, post_id=post.id,
            now=now_ms(),
        )  # fmt: skip
        async with store.transaction():
            return await notifications.notify_after(
                store, write, business_id=business.id, type="like", dedupe_key=dedupe_key,
                actor_id=actor.id, post_id=post.id, now=now_ms(),
            )  # fmt: skip

    # When it is written, then the same Like again
    assert await like("https://remote.test/likes/1", "like:1")
    assert not await like("https://remote.test/likes/1", "like:2")

    # Then one interaction, one notification and one stream event: the repeat wrote nothing
    assert await store.fetch_val("SELECT COUNT(*) FROM interactions") == 1
    [row] = await notifications.page(store, business.id, limit=10)
    assert row["type"] == "like" and row["post_id"] == post.id
    events = await stream_events.recent(store, since=0)
    assert [(e.event, e.ref_id) for e in events] == [("notification", row["id"])]
    assert len(told) == 1


async def test_notify_after_a_write_whose_notification_exists_adds_no_stream_event(store):
    # Given a notification with the key the next one would have
    business, actor = await a_business(store), await an_actor(store)
    post = await a_post(store, business)
    key = social.interaction_key("like", actor.id, post.id)
    await notifications.notify(
        store, business_id=business.id, type="like", dedupe_key=key, actor_id=actor.id,
        post_id=post.id, now=now_ms(),
    )  # fmt: skip

    # When a new interaction is written with a notification of that key
    write = social.interaction_insert(
        kind="like", activity_uri="https://remote.test/likes/9", actor_id=actor.id,
        post_id=post.id, now=now_ms(),
    )  # fmt: skip
    async with store.transaction():
        wrote = await notifications.notify_after(
            store, write, business_id=business.id, type="like", dedupe_key=key,
            actor_id=actor.id, post_id=post.id, now=now_ms(),
        )  # fmt: skip

    # Then the interaction is written, the notification stays the one there was, and no
    # second stream event names a notification that does not exist
    assert wrote
    assert await store.fetch_val("SELECT COUNT(*) FROM interactions") == 1
    assert len(await notifications.page(store, business.id, limit=10)) == 1
    assert len(await stream_events.recent(store, since=0)) == 1
