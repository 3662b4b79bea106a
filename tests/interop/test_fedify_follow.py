"""Fedify follows a business, is accepted (at once, or when the owner approves), and
unfollows; after that, nothing more is delivered to it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.interop.harness import FedifyClient
from tests.interop.owner import Owner, fedify_received, followed_by_fedify
from tests.live import wait_until

pytestmark = pytest.mark.anyio


async def test_fedify_follows_a_business_and_records_a_verified_accept(
    live: Any, fedify: FedifyClient
) -> None:
    # Given a business that approves followers automatically
    owner = await Owner.create(live, "corner_bakery")

    # When Fedify follows it
    sent = await fedify.follow(owner.actor)

    # Then Fedify gets an Accept whose signature it verified, embedding its own Follow
    assert sent["ok"], sent
    [accept] = await fedify.wait_for("Accept")
    assert accept["verified"], accept
    assert accept["actor"] == owner.actor
    assert accept["json"]["object"]["id"] == sent["activity"]["id"]
    assert accept["json"]["object"]["type"] == "Follow"
    # And the owner sees the new follower and a follow notification
    await owner.wait_for_followers([fedify.actor_id])
    [note] = await owner.wait_for_notification("follow")
    assert note["account"]["id"] == fedify.actor_id


async def test_a_business_approving_by_hand_accepts_fedify_when_the_owner_says_so(
    live: Any, fedify: FedifyClient
) -> None:
    # Given a business that approves followers by hand, and Fedify's Follow
    owner = await Owner.create(live, "corner_bakery", manually_approves_followers=True)
    lookup = await fedify.lookup(live.urls.acct(owner.username))
    assert lookup["actor"]["manuallyApprovesFollowers"] is True
    sent = await fedify.follow(owner.actor)
    assert sent["ok"], sent
    [request] = await owner.wait_for_notification("follow_request")
    assert request["account"]["id"] == fedify.actor_id
    [pending] = await owner.follow_requests()
    await asyncio.sleep(0.3)  # give a wrong early Accept the time to arrive
    assert [a for a in await fedify.received() if a["type"] == "Accept"] == []

    # When the owner accepts the request
    follower = await owner.accept(pending["id"])

    # Then Fedify records a verified Accept of its Follow, and it is a follower
    assert follower["state"] == "accepted"
    accept = await fedify_received(fedify, "Accept")
    assert accept["verified"], accept
    assert accept["json"]["object"]["id"] == sent["activity"]["id"]
    assert await owner.followers() == [fedify.actor_id]
    assert await owner.follow_requests() == []


async def test_fedify_unfollows_and_later_posts_are_not_delivered_to_it(
    live: Any, fedify: FedifyClient
) -> None:
    # Given Fedify following a business, which has posted once (delivered)
    owner = await Owner.create(live, "corner_bakery")
    await followed_by_fedify(owner, fedify)
    first = await owner.post("Before the unfollow")
    await fedify_received(fedify, "Create", lambda j: j["object"]["id"] == first["uri"])

    # When Fedify unfollows
    undo = await fedify.unfollow(owner.actor)

    # Then the follower is gone
    assert undo["ok"], undo
    await owner.wait_for_followers([])
    # And the next post reaches no inbox of the Fedify peer
    second = await owner.post("After the unfollow")
    deliveries = await owner.call("GET", f"/posts/{second['id']}/deliveries")
    await asyncio.sleep(0.5)  # the worker polls every 50 ms
    creates = [a for a in await fedify.received() if a["type"] == "Create"]
    assert [c["json"]["object"]["id"] for c in creates] == [first["uri"]]
    assert fedify.peer.base_url not in str(deliveries)


async def test_a_deleted_business_is_verified_by_fedify_without_a_cached_key(
    live: Any, fedify: FedifyClient
) -> None:
    # Given Fedify following a business, then forgetting every key and document it cached
    owner = await Owner.create(live, "corner_bakery")
    await followed_by_fedify(owner, fedify)
    await fedify.clear()

    # When the admin deletes the business
    response = await live.client.delete(
        f"/api/v1/businesses/{owner.username}", headers=live.admin_headers()
    )
    assert response.status_code == 204, response.text

    # Then Fedify fetched the key afresh, from the still-served actor, and verified the Delete
    delete = await fedify_received(fedify, "Delete")
    assert delete["verified"], delete
    assert delete["json"]["object"] == owner.actor
    key_fetches = [
        r["status"]
        for r in await fedify.sent()
        if r["method"] == "GET" and r["url"].split("#")[0] == owner.actor
    ]
    assert key_fetches == [200]
    [request] = [r for r in await fedify.inbox_requests() if r["activity_type"] == "Delete"]
    assert request["status"] == 202

    # And once that delivery is done, the actor answers 410 with its Tombstone
    async def gone() -> bool:
        answer = await live.client.get(owner.actor, headers={"Accept": "application/activity+json"})
        return answer.status_code == 410 and answer.json()["type"] == "Tombstone"

    await wait_until(gone)
