"""Fedify follows the high-street directory (@town) and, when a member business posts, receives
the directory's Announce of it, verified, and can fetch the boosted Note.

The issue's "must show": following the directory actor from the Fedify peer delivers a member
business's new post as an ``Announce``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.interop.harness import FedifyClient
from tests.interop.owner import PUBLIC, Owner, fedify_received

pytestmark = pytest.mark.anyio


def why(result: dict[str, Any]) -> str:
    return "\n".join(f"{r['level']} {r['category']}: {r['message']}" for r in result["log"])


async def make_directory(live: Any) -> str:
    response = await live.client.put(
        "/api/v1/admin/directory",
        json={"username": "town", "display_name": "Town High Street"},
        headers=live.admin_headers(),
    )
    assert response.status_code == 201, response.text
    return str(live.urls.actor("town"))


async def test_fedify_finds_the_directory_as_a_service(live: Any, fedify: FedifyClient) -> None:
    # Given the directory
    town = await make_directory(live)

    # When Fedify looks up @town by its handle
    result = await fedify.lookup(live.urls.acct("town"))

    # Then it is a Service (an automated account) that approves followers by itself
    assert result["found"], why(result)
    actor = result["actor"]
    assert actor["id"] == town
    assert actor["type"] == "Service"
    assert actor["manuallyApprovesFollowers"] is False
    assert result["warnings"] == []


async def test_following_the_directory_brings_a_members_post_as_an_announce(
    live: Any, fedify: FedifyClient
) -> None:
    # Given the directory, followed by Fedify, and a member business
    town = await make_directory(live)
    owner = await Owner.create(live, "corner_bakery")
    sent = await fedify.follow(town)
    assert sent["ok"], sent
    [accept] = await fedify.wait_for("Accept")
    assert accept["verified"], accept
    assert accept["actor"] == town

    # When the business publishes a public post
    post = await owner.post("Buns out of the oven at 7:30")

    # Then Fedify receives the directory's Announce of it, signed by the directory
    announce = await fedify_received(fedify, "Announce", lambda j: j["object"] == post["uri"])
    assert announce["verified"], announce
    assert announce["actor"] == town
    assert announce["json"]["to"] == [PUBLIC]
    assert set(announce["json"]["cc"]) == {owner.actor, f"{town}/followers"}

    # And the boosted Note can be fetched: by the business, with the post's text
    result = await fedify.fetch(post["uri"])
    assert result["found"], why(result)
    assert result["object"]["type"] == "Note"
    assert result["object"]["attributedTo"] == [owner.actor]
    assert "Buns out of the oven" in result["object"]["content"]


async def test_a_deleted_post_is_unboosted_for_fedify(live: Any, fedify: FedifyClient) -> None:
    # Given Fedify following the directory, which boosted a member's post
    town = await make_directory(live)
    owner = await Owner.create(live, "corner_bakery")
    assert (await fedify.follow(town))["ok"]
    await fedify.wait_for("Accept")
    post = await owner.post("Sold out")
    announce = await fedify_received(fedify, "Announce", lambda j: j["object"] == post["uri"])

    # When the business deletes the post
    await owner.delete(post["id"])

    # Then Fedify receives the directory's Undo of that Announce, verified
    undo = await fedify_received(
        fedify,
        "Undo",
        lambda j: isinstance(j["object"], dict) and j["object"]["type"] == "Announce",
    )
    assert undo["verified"], undo
    assert undo["actor"] == town
    assert undo["json"]["object"]["id"] == announce["json"]["id"]
