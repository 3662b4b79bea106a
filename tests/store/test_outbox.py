"""Outgoing activities and their delivery rows, written with what they are about."""

from __future__ import annotations

import json

import pytest

from fedi_town.store import outbox, social
from fedi_town.store.db import now_ms
from tests.store.conftest import a_business, a_post, an_actor

pytestmark = pytest.mark.anyio

CREATE = {"id": "https://town.test/users/bakery/statuses/1/activity", "type": "Create"}


async def delivery_rows(store):
    return await store.fetch_all("SELECT inbox, host, state, attempts FROM deliveries ORDER BY id")


async def test_an_activity_gets_one_delivery_per_distinct_inbox_taking_hosts_in_turn(store):
    # Given inboxes sorted by host, one given twice
    business = await a_business(store)
    inboxes = [
        "https://a.test/inbox",
        "https://a.test/users/jo/inbox",
        "https://a.test/inbox",
        "https://b.test/inbox",
        "",
    ]
    # When the activity is enqueued
    activity_id = await outbox.enqueue(
        store, business_id=business.id, body=CREATE, inboxes=inboxes, now=now_ms()
    )
    # Then each inbox has one pending row, the hosts interleaved, and the body is stored as sent
    rows = await delivery_rows(store)
    assert [(r["inbox"], r["host"]) for r in rows] == [
        ("https://a.test/inbox", "a.test"),
        ("https://b.test/inbox", "b.test"),
        ("https://a.test/users/jo/inbox", "a.test"),
    ]
    assert {(r["state"], r["attempts"]) for r in rows} == {("pending", 0)}
    stored = await outbox.activity_for_delivery(store, activity_id)
    assert stored is not None and json.loads(stored["body"]) == CREATE
    assert (stored["uri"], stored["type"], stored["business_id"]) == (
        CREATE["id"],
        "Create",
        business.id,
    )


async def test_an_activity_and_its_deliveries_roll_back_with_what_they_announce(store):
    # Given a transaction that writes a post and its Create, then fails
    business = await a_business(store)
    with pytest.raises(RuntimeError):
        async with store.transaction():
            post = await a_post(store, business)
            await outbox.enqueue(
                store,
                business_id=business.id,
                body=CREATE,
                inboxes=["https://a.test/inbox"],
                post_id=post.id,
                now=now_ms(),
            )
            raise RuntimeError("crash before commit")
    # Then neither the activity nor a delivery is left
    assert await store.fetch_val("SELECT COUNT(*) FROM outgoing_activities") == 0
    assert await delivery_rows(store) == []


async def test_followers_are_reached_through_one_shared_inbox_per_server(store):
    # Given two accepted followers on one server with a shared inbox, one without, one pending
    business = await a_business(store)
    followers = [
        (await an_actor(store, "jo", "a.test"), "accepted"),
        (await an_actor(store, "al", "a.test"), "accepted"),
        (await an_actor(store, "mo", "b.test", shared_inbox=None), "accepted"),
        (await an_actor(store, "zu", "c.test"), "pending"),
    ]
    for actor, state in followers:
        await social.insert_follow(
            store,
            business_id=business.id,
            actor_id=actor.id,
            state=state,
            follow_uri=None,
            follow_document=None,
            now=now_ms(),
        )
    # When the business's follower inboxes are read
    inboxes = await outbox.follower_inboxes(store, business.id)
    # Then each server is reached once, by its shared inbox or else the follower's own
    assert sorted(inboxes) == ["https://a.test/inbox", "https://b.test/users/mo/inbox"]


async def test_an_inbox_that_is_gone_drops_its_actor_as_a_follower(store):
    business = await a_business(store)
    actor = await an_actor(store, "mo", "b.test", shared_inbox=None)
    await social.insert_follow(
        store,
        business_id=business.id,
        actor_id=actor.id,
        state="accepted",
        follow_uri=None,
        follow_document=None,
        now=now_ms(),
    )
    assert await outbox.mark_inbox_gone(store, "https://b.test/users/mo/inbox", now=now_ms()) == 1
    assert await outbox.follower_inboxes(store, business.id) == []
    assert await outbox.mark_inbox_gone(store, "https://b.test/users/mo/inbox", now=now_ms()) == 0


async def test_an_activity_is_still_delivering_until_no_delivery_is_pending(store):
    # Given a Delete with two deliveries, one done
    business = await a_business(store)
    delete = {"id": "https://town.test/users/bakery#delete", "type": "Delete"}
    inboxes = ["https://a.test/inbox", "https://b.test/inbox"]
    await outbox.enqueue(store, business_id=business.id, body=delete, inboxes=inboxes, now=1)
    await store.execute("UPDATE deliveries SET state = 'done' WHERE host = 'a.test'")
    # Then it is still being delivered, and another activity is not
    assert await outbox.still_delivering(store, delete["id"])
    assert not await outbox.still_delivering(store, CREATE["id"])
    # When the last one is given up, it is not any more
    await store.execute("UPDATE deliveries SET state = 'failed' WHERE host = 'b.test'")
    assert not await outbox.still_delivering(store, delete["id"])
