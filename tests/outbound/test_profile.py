"""outbound.profile: followers hear of a changed profile (Update with the whole actor) and of a
deleted business (Delete of the actor), queued in the API's request, one row per server."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fedi_town.outbound import profile
from fedi_town.store import businesses
from tests.conftest import create_business
from tests.outbound.conftest import activities, add_follower, deliveries, owner, write_post

pytestmark = pytest.mark.anyio

ACTOR = "https://town.example/users/bakery"
INBOXES = ["https://m.example/inbox", "https://solo.example/u/cy/inbox"]


async def test_a_changed_profile_is_sent_whole_to_each_follower_server_once(app_client, bakery):
    # Given a business with three followers on two servers
    # When its owner changes the display name
    response = await app_client.patch(
        "/api/v1/businesses/bakery", json={"display_name": "Rye & Co"}, headers=owner(bakery)
    )
    # Then one Update carrying the whole new actor is queued, once per server
    assert response.status_code == 200, response.text
    [update] = await activities(app_client.services.store, "Update")
    assert update["actor"] == ACTOR
    assert update["object"]["id"] == ACTOR
    assert update["object"]["name"] == "Rye & Co"
    assert update["object"]["type"] == "Organization"
    rows = await deliveries(app_client.services.store)
    assert sorted(r["inbox"] for r in rows if r["type"] == "Update") == INBOXES


async def test_a_deleted_business_cancels_what_was_pending_and_tells_its_followers(
    app_client, bakery
):
    # Given a post whose deliveries are still pending
    assert (await write_post(app_client, bakery, content="Last loaves")).status_code == 201
    # When the owner deletes the business
    response = await app_client.delete("/api/v1/businesses/bakery", headers=owner(bakery))
    # Then the post's deliveries are cancelled, and a Delete of the actor goes to each server
    assert response.status_code == 204
    [delete] = await activities(app_client.services.store, "Delete")
    assert (delete["actor"], delete["object"], delete["id"]) == (ACTOR, ACTOR, f"{ACTOR}#delete")
    rows = await deliveries(app_client.services.store)
    assert {r["state"] for r in rows if r["type"] == "Create"} == {"cancelled"}
    assert sorted(r["inbox"] for r in rows if r["type"] == "Delete") == INBOXES
    assert {r["state"] for r in rows if r["type"] == "Delete"} == {"pending"}


async def _business(client, username: str = "bakery"):
    found = await businesses.by_username(client.services.store, username)
    assert found is not None
    return found


async def test_a_notice_that_ends_is_sent_to_followers_once_when_it_ends(clocked_client, clock):
    # Given a business with a follower and a notice that ends in an hour
    client = clocked_client
    store = client.services.store
    created = await create_business(client, "bakery")
    await add_follower(store, created["id"], "https://m.example/users/ann")
    business = await _business(client)
    until = client.services.now_ms() + 3_600_000
    await businesses.update(
        store, business.id, {"notice_text": "Sold out", "notice_until": until}, now=until
    )
    await profile.on_profile_changed(client.services, await _business(client))
    [first] = await activities(store, "Update")
    assert first["object"]["attachment"][0] == {
        "type": "PropertyValue",
        "name": "Notice",
        "value": "Sold out",
    }
    assert (await _business(client)).profile_check_at == until
    # When the worker looks before the end, nothing is due
    assert await profile.refresh_due_profiles(client.services) == 0
    # When the notice has ended
    clock.advance(timedelta(hours=1))
    sent = await profile.refresh_due_profiles(client.services)
    # Then one Update without the notice went out, and nothing more is due
    assert sent == 1
    _, second = await activities(store, "Update")
    assert all(f["name"] != "Notice" for f in second["object"]["attachment"])
    assert (await _business(client)).profile_check_at is None
    clock.advance(timedelta(days=1))
    assert await profile.refresh_due_profiles(client.services) == 0
    assert len(await activities(store, "Update")) == 2


async def test_an_actor_that_reads_the_same_when_looked_at_again_is_not_sent(clocked_client, clock):
    # Given a business whose actor was sent, due for a look though nothing changed
    client = clocked_client
    store = client.services.store
    await create_business(client, "bakery")
    business = await _business(client)
    await profile.on_profile_changed(client.services, business)
    due = client.services.now_ms()
    await businesses.record_profile(
        store, business.id, digest=(await _business(client)).profile_digest or "", check_at=due
    )
    # When the worker looks
    sent = await profile.refresh_due_profiles(client.services)
    # Then nothing is sent, and the business is no longer due
    assert sent == 0
    assert len(await activities(store, "Update")) == 1
    assert (await _business(client)).profile_check_at is None


async def test_of_two_workers_looking_at_one_business_one_claims_it(clocked_client):
    client = clocked_client
    store = client.services.store
    await create_business(client, "bakery")
    business = await _business(client)
    await businesses.record_profile(store, business.id, digest="a", check_at=5)
    first = await businesses.record_profile(
        store, business.id, digest="b", check_at=9, expected_check_at=5, claim=True
    )
    second = await businesses.record_profile(
        store, business.id, digest="c", check_at=9, expected_check_at=5, claim=True
    )
    assert (first, second) == (True, False)
    assert (await _business(client)).profile_digest == "b"


async def test_followers_hear_when_the_shop_closes_and_when_the_day_rolls_over(
    clocked_client, clock
):
    # Given a bakery in UTC open 7-18 every day, seen by one follower at Monday 12:00
    client = clocked_client
    store = client.services.store
    created = await create_business(client, "bakery")
    await add_follower(store, created["id"], "https://m.example/users/ann")
    business = await _business(client)
    week = {d: [["07:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    await businesses.update(store, business.id, {"hours": week}, now=0)
    await profile.on_profile_changed(client.services, await _business(client))
    [first] = await activities(store, "Update")
    assert first["object"]["attachment"][0]["value"] == "Open now · until 18:00"

    def looks() -> list[str]:
        return [u["object"]["attachment"][0]["value"] for u in updates]

    # When the worker looks every 20 minutes until Tuesday 08:00
    for _ in range(20 * 3):
        clock.advance(timedelta(minutes=20))
        await profile.refresh_due_profiles(client.services)
    updates = await activities(store, "Update")
    # Then followers heard it at closing, at midnight (today's hours) and at opening: no more
    assert looks() == [
        "Open now · until 18:00",
        "Closed · opens tomorrow 7:00",
        "Closed · opens 7:00",
        "Open now · until 18:00",
    ]


async def test_one_actor_that_cannot_be_built_does_not_hold_up_the_others(
    clocked_client, clock, caplog
):
    # Given two businesses due for a look, one whose stored hours are broken
    client = clocked_client
    store = client.services.store
    for name in ("broken", "fine"):
        created = await create_business(client, name)
        await add_follower(store, created["id"], f"https://m.example/users/{name}-fan")
    broken, fine = await _business(client, "broken"), await _business(client, "fine")
    await store.execute(
        "UPDATE businesses SET hours = :h WHERE id = :i", {"h": '{"mon": [["7"]]}', "i": broken.id}
    )
    until = client.services.now_ms() + 60_000
    await businesses.update(
        store, fine.id, {"notice_text": "Back soon", "notice_until": until}, now=0
    )
    now = client.services.now_ms()
    await businesses.record_profile(store, broken.id, digest="x", check_at=now)
    await businesses.record_profile(store, fine.id, digest="x", check_at=now)
    # When the worker looks
    sent = await profile.refresh_due_profiles(client.services)
    # Then the fine one is sent, the broken one is logged and looked at again in an hour
    assert sent == 1
    assert "actor of broken could not be built" in caplog.text
    assert (await _business(client, "broken")).profile_check_at == now + profile.RETRY_LATER_MS
