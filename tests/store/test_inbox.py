"""Received activities kept for the worker: each activity id stored once, in arrival order."""

from __future__ import annotations

import pytest

from fedi_town.store import inbox
from fedi_town.store.db import now_ms
from fedi_town.store.inbox import Received

pytestmark = pytest.mark.anyio


def received(n: int, actor: str = "https://remote.test/users/jo") -> Received:
    return Received(f"https://remote.test/activities/{n}", None, actor, "Like", '{"type":"Like"}')


async def states(store) -> dict[str, str]:
    rows = await store.fetch_all("SELECT activity_uri, state FROM inbox_items")
    return {str(r["activity_uri"]).rsplit("/", 1)[1]: str(r["state"]) for r in rows}


async def test_an_activity_delivered_twice_is_stored_once(store):
    values = {
        "business_id": None,
        "actor_uri": "https://remote.test/users/jo",
        "type": "Like",
        "body": "{}",
    }
    first = await inbox.add(
        store, activity_uri="https://remote.test/activities/1", **values, now=now_ms()
    )
    again = await inbox.add(
        store, activity_uri="https://remote.test/activities/1", **values, now=now_ms()
    )
    assert first is not None and again is None
    assert await store.fetch_val("SELECT COUNT(*) FROM inbox_items") == 1


async def test_a_group_is_stored_in_order_with_repeats_and_known_activities_left_out(store):
    # Given an activity stored before
    [known] = await inbox.add_many(store, [received(2)], now=now_ms())
    # When a group arrives with it, a new one twice, and another new one
    ids = await inbox.add_many(
        store, [received(1), received(2), received(1), received(3)], now=now_ms()
    )
    # Then only the first of each new activity got a row, in the order given
    assert ids[1] is None and ids[2] is None
    assert ids[0] is not None and ids[3] is not None and known is not None
    assert ids[0] < ids[3]
    assert await store.fetch_val("SELECT COUNT(*) FROM inbox_items") == 3


async def test_a_group_of_nothing_new_stores_nothing(store):
    await inbox.add_many(store, [received(1), received(2)], now=now_ms())
    assert await inbox.add_many(store, [received(2), received(1)], now=now_ms()) == [None, None]


async def test_an_actors_pending_items_are_cancelled_except_the_one_asked_for(store):
    # Given three items of jo and one of al
    ids = await inbox.add_many(store, [received(1), received(2), received(3)], now=now_ms())
    await inbox.add_many(store, [received(4, "https://remote.test/users/al")], now=now_ms())
    # When jo's items are cancelled except the one doing the cancelling
    await inbox.cancel_from_actor(store, "https://remote.test/users/jo", except_id=ids[2])
    # Then only al's and the excepted item stay pending
    pending = sorted(n for n, state in (await states(store)).items() if state == "pending")
    assert pending == ["3", "4"]


async def test_a_domain_block_cancels_the_domain_and_its_subdomains_only(store):
    await inbox.add_many(
        store,
        [
            received(1, "https://bad.test/users/x"),
            received(2, "https://eu.bad.test/users/y"),
            received(3, "https://bad.test:8443/users/z"),
            received(4, "https://notbad.test/users/w"),
        ],
        now=now_ms(),
    )
    await inbox.cancel_from_domain(store, "bad.test")
    pending = sorted(n for n, state in (await states(store)).items() if state == "pending")
    assert pending == ["4"]
