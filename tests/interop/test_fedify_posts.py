"""The owner posts, edits, deletes and changes the profile; Fedify, a follower, receives
Create, Update and Delete signed with draft-cavage, verifies each signature, and finds them
addressed as the visibility says."""

from __future__ import annotations

from typing import Any

import pytest

from tests.interop.harness import FedifyClient
from tests.interop.owner import PUBLIC, Owner, fedify_received, followed_by_fedify

pytestmark = pytest.mark.anyio


def about(uri: str) -> Any:
    """Predicate: the activity's object is (or has the id) ``uri``."""

    def check(activity: dict[str, Any]) -> bool:
        obj = activity.get("object")
        return (obj.get("id") if isinstance(obj, dict) else obj) == uri

    return check


def verified_by_fedify(activity: dict[str, Any]) -> None:
    assert activity["verified"], activity
    assert activity["signature"] == "draft-cavage", activity


async def test_a_public_post_with_image_hashtag_and_mention_reaches_fedify_as_create(
    live: Any, fedify: FedifyClient
) -> None:
    # Given Fedify following the business
    owner = await Owner.create(live, "corner_bakery")
    await followed_by_fedify(owner, fedify)
    media = await owner.upload_png("Rye loaves")

    # When the owner posts publicly with an image, a hashtag and a mention of Fedify's actor
    post = await owner.post(f"New #rye bread, {fedify.handle}", media_ids=[media["id"]])

    # Then Fedify receives one verified Create, public, copied to followers and to itself
    create = await fedify_received(fedify, "Create", about(post["uri"]))
    verified_by_fedify(create)
    note = create["json"]["object"]
    assert create["to"] == [PUBLIC]
    assert set(create["cc"]) == {owner.followers_uri, fedify.actor_id}
    assert note["to"] == [PUBLIC] and set(note["cc"]) == set(create["cc"])
    assert note["attributedTo"] == owner.actor
    tags = {(t["type"], t["href"]) for t in note["tag"]}
    assert ("Mention", fedify.actor_id) in tags
    assert any(t["type"] == "Hashtag" and t["name"] == "#rye" for t in note["tag"])
    [image] = note["attachment"]
    assert image["mediaType"] == "image/png" and image["url"] == media["url"]
    # Fedify keeps the hashtag once it parses the activity (its @context defines Hashtag)
    parsed = await fedify.fetch(post["uri"])
    assert ("Hashtag", "#rye") in {(t["type"], t["name"]) for t in parsed["object"]["tags"]}


async def test_a_followers_only_post_reaches_fedify_addressed_to_followers_only(
    live: Any, fedify: FedifyClient
) -> None:
    owner = await Owner.create(live, "corner_bakery")
    await followed_by_fedify(owner, fedify)

    # When the owner posts for followers only
    post = await owner.post("Staff discount on Friday", visibility="followers")

    # Then Fedify's Create is addressed to the followers collection, never to Public
    create = await fedify_received(fedify, "Create", about(post["uri"]))
    verified_by_fedify(create)
    assert create["to"] == [owner.followers_uri]
    assert PUBLIC not in create["to"] + create["cc"]
    note = create["json"]["object"]
    assert PUBLIC not in note["to"] + note.get("cc", [])


async def test_a_mention_reaches_fedify_even_when_it_does_not_follow(
    live: Any, fedify: FedifyClient
) -> None:
    owner = await Owner.create(live, "corner_bakery")

    # When the owner mentions Fedify's actor by handle in a direct post
    post = await owner.post(f"{fedify.handle} your order is ready", visibility="direct")

    # Then Fedify receives it addressed to itself alone
    create = await fedify_received(fedify, "Create", about(post["uri"]))
    verified_by_fedify(create)
    assert create["to"] == [fedify.actor_id]
    assert PUBLIC not in create["to"] + create["cc"]
    assert create["json"]["object"]["tag"][0]["href"] == fedify.actor_id


async def test_an_edit_and_a_delete_reach_fedify_as_update_and_delete(
    live: Any, fedify: FedifyClient
) -> None:
    owner = await Owner.create(live, "corner_bakery")
    await followed_by_fedify(owner, fedify)
    post = await owner.post("Open until 6")
    await fedify_received(fedify, "Create", about(post["uri"]))

    # When the owner edits the post
    await owner.edit(post["id"], content="Open until 8 tonight")

    # Then Fedify receives a verified Update of the Note with the new content
    update = await fedify_received(fedify, "Update", about(post["uri"]))
    verified_by_fedify(update)
    assert "until 8" in update["json"]["object"]["content"]
    assert update["json"]["object"]["updated"]
    assert update["to"] == [PUBLIC]

    # When the owner deletes it
    await owner.delete(post["id"])

    # Then Fedify receives a verified Delete of it (a Tombstone), and the id is gone
    delete = await fedify_received(fedify, "Delete", about(post["uri"]))
    verified_by_fedify(delete)
    assert delete["json"]["object"]["type"] == "Tombstone"
    assert delete["actor"] == owner.actor
    assert not (await fedify.fetch(post["uri"]))["found"]


async def test_a_profile_change_reaches_fedify_as_an_update_of_the_actor(
    live: Any, fedify: FedifyClient
) -> None:
    owner = await Owner.create(live, "corner_bakery", display_name="Corner Bakery")
    await followed_by_fedify(owner, fedify)

    # When the owner renames the business and changes its bio
    await owner.change_profile(display_name="Corner Bakery & Café", summary="Now with coffee.")

    # Then Fedify receives a verified Update whose object is the actor, renamed
    update = await fedify_received(fedify, "Update", about(owner.actor))
    verified_by_fedify(update)
    actor = update["json"]["object"]
    assert actor["type"] in {"Organization", "Service"}
    assert actor["name"] == "Corner Bakery & Café"
    assert "coffee" in actor["summary"]
    assert actor["publicKey"]["owner"] == owner.actor
    # And a fresh lookup through Fedify agrees
    await fedify.clear()
    looked_up = await fedify.lookup(live.urls.acct(owner.username))
    assert looked_up["actor"]["name"] == "Corner Bakery & Café"
    assert looked_up["warnings"] == []
