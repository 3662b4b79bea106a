"""A business likes, boosts and replies to a post on Fedify: Fedify verifies the Like, the
Announce (addressed as Mastodon addresses a reblog) and the Undo of each, and fetches the
Announce at its id."""

from __future__ import annotations

from typing import Any

import pytest

from tests.interop.harness import FedifyClient
from tests.interop.owner import PUBLIC, Owner, fedify_received

pytestmark = pytest.mark.anyio


async def _fedify_note(owner: Owner, fedify: FedifyClient) -> str:
    """A public note written on Fedify (a reply to the business's post), by its id."""
    post = await owner.post("Croissants are out of the oven")
    reply = await fedify.reply(post["uri"], "<p>Saving me two!</p>", mention=owner.actor)
    note: str = reply["note"]
    return note


def _undoing(kind: str) -> Any:
    return lambda activity: activity["object"]["type"] == kind


async def test_a_boost_of_a_fedify_post_reaches_it_verified_and_its_undo_too(
    live: Any, fedify: FedifyClient
) -> None:
    # Given a note on Fedify
    owner = await Owner.create(live, "corner_bakery")
    note = await _fedify_note(owner, fedify)

    # When the business boosts it
    boost = await owner.call("POST", "/boosts", 201, json={"object": note})

    # Then Fedify verified an Announce of the note, to Public, cc the followers and the author
    announce = await fedify_received(fedify, "Announce")
    assert announce["verified"], announce
    assert announce["json"]["id"] == boost["activity"]
    assert announce["json"]["actor"] == owner.actor
    assert announce["json"]["object"] == note
    assert announce["json"]["to"] == [PUBLIC]
    assert announce["json"]["cc"] == [fedify.actor_id, owner.followers_uri]
    # And Fedify can fetch the Announce at its id
    fetched = await fedify.fetch(boost["activity"])
    assert fetched["found"], fetched

    # When the business takes the boost back
    await owner.call("DELETE", "/boosts", 204, params={"object": note})

    # Then Fedify verified an Undo embedding the Announce
    undo = await fedify_received(fedify, "Undo", _undoing("Announce"))
    assert undo["verified"], undo
    assert undo["json"]["object"]["id"] == boost["activity"]


async def test_a_like_of_a_fedify_post_reaches_it_verified_and_its_undo_too(
    live: Any, fedify: FedifyClient
) -> None:
    # Given a note on Fedify
    owner = await Owner.create(live, "corner_bakery")
    note = await _fedify_note(owner, fedify)

    # When the business likes it, then takes the like back
    liked = await owner.call("POST", "/likes", 201, json={"object": note})
    like = await fedify_received(fedify, "Like")
    await owner.call("DELETE", "/likes", 204, params={"object": note})

    # Then Fedify verified the Like of the note and the Undo embedding it
    assert like["verified"], like
    assert like["json"]["object"] == note
    assert like["json"]["id"] == liked["activity"]
    undo = await fedify_received(fedify, "Undo", _undoing("Like"))
    assert undo["verified"], undo
    assert undo["json"]["object"]["id"] == liked["activity"]


async def test_a_reply_to_a_fedify_post_mentions_its_author_and_reaches_it(
    live: Any, fedify: FedifyClient
) -> None:
    # Given a note on Fedify
    owner = await Owner.create(live, "corner_bakery")
    note = await _fedify_note(owner, fedify)

    # When the business replies to it by its address
    await owner.post("Two are yours.", in_reply_to=note)

    # Then Fedify verified a Create of a Note replying to it, mentioning its author
    create = await fedify_received(fedify, "Create", lambda a: a["object"].get("inReplyTo") == note)
    assert create["verified"], create
    tags = create["json"]["object"]["tag"]
    assert [t["href"] for t in tags if t["type"] == "Mention"] == [fedify.actor_id]
