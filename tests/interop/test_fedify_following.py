"""A business follows an account on Fedify: Fedify verifies the Follow and accepts (or
rejects) it, fedi-town records the answer, and an unfollow reaches Fedify as an Undo."""

from __future__ import annotations

from typing import Any

import pytest

from tests.interop.harness import FedifyClient
from tests.interop.owner import Owner, fedify_received
from tests.live import wait_until

pytestmark = pytest.mark.anyio

AP = {"Accept": "application/activity+json"}


async def _follows(owner: Owner) -> list[dict[str, Any]]:
    page: dict[str, Any] = await owner.call("GET", "/following")
    items: list[dict[str, Any]] = page["items"]
    return items


async def test_a_business_follows_fedify_and_records_its_accept(
    live: Any, fedify: FedifyClient
) -> None:
    # Given a business
    owner = await Owner.create(live, "corner_bakery")

    # When its owner follows the Fedify account by handle
    created = await owner.call("POST", "/following", 201, json={"account": fedify.handle})

    # Then Fedify got a Follow whose signature it verified
    assert created["state"] == "pending"
    follow = await fedify_received(fedify, "Follow")
    assert follow["verified"], follow
    assert follow["actor"] == owner.actor
    assert follow["object"] == fedify.actor_id

    # And once Fedify's Accept arrives the follow is accepted and in the collection
    async def accepted() -> bool:
        return [f["state"] for f in await _follows(owner)] == ["accepted"]

    await wait_until(accepted)
    collection = (await live.client.get(live.urls.following(owner.username), headers=AP)).json()
    assert collection["totalItems"] == 1
    page = (await live.client.get(collection["first"], headers=AP)).json()
    assert page["orderedItems"] == [fedify.actor_id]
    # And Fedify reads the collection without a warning
    fetched = await fedify.fetch(live.urls.following(owner.username))
    assert fetched["found"], fetched
    assert fetched["warnings"] == [], fetched["warnings"]


async def test_unfollowing_fedify_sends_an_undo_it_verifies(
    live: Any, fedify: FedifyClient
) -> None:
    # Given a business following the Fedify account (accepted)
    owner = await Owner.create(live, "corner_bakery")
    created = await owner.call("POST", "/following", 201, json={"account": fedify.actor_id})
    follow = await fedify_received(fedify, "Follow")

    async def accepted() -> bool:
        return [f["state"] for f in await _follows(owner)] == ["accepted"]

    await wait_until(accepted)

    # When the owner unfollows
    await owner.call("DELETE", f"/following/{created['id']}", 204)

    # Then Fedify verifies an Undo embedding its Follow, and the following list is empty
    undo = await fedify_received(fedify, "Undo")
    assert undo["verified"], undo
    assert undo["json"]["object"]["id"] == follow["id"]
    assert undo["json"]["object"]["type"] == "Follow"
    assert await _follows(owner) == []


async def test_a_reject_from_fedify_ends_the_follow(live: Any, fedify: FedifyClient) -> None:
    # Given Fedify set to reject follows
    await fedify.answer_follows("reject")
    owner = await Owner.create(live, "corner_bakery")

    # When the business follows it
    await owner.call("POST", "/following", 201, json={"account": fedify.handle})

    # Then the follow is gone once the Reject arrives, and the collection stays empty
    await fedify_received(fedify, "Follow")

    async def gone() -> bool:
        return await _follows(owner) == []

    await wait_until(gone)
    collection = (await live.client.get(live.urls.following(owner.username), headers=AP)).json()
    assert collection["totalItems"] == 0
