"""Fedify replies to, likes and boosts a business's post, then takes each back: the owner's
notifications and the post's counts follow, and Fedify's RFC 9421 requests are accepted on
the first knock."""

from __future__ import annotations

from typing import Any

import pytest

from tests.interop.harness import FedifyClient
from tests.interop.owner import Owner

pytestmark = pytest.mark.anyio


def first_knock_accepted(result: dict[str, Any]) -> None:
    """Fedify's POST went out once, signed with RFC 9421, and we answered 2xx."""
    assert result["ok"], result
    posts = [r for r in result["requests"] if r["method"] == "POST"]
    assert [(r["signature"], r["status"] // 100) for r in posts] == [("rfc9421", 2)], posts


async def test_a_fedify_reply_like_and_boost_show_in_notifications_and_counts(
    live: Any, fedify: FedifyClient
) -> None:
    # Given a public post
    owner = await Owner.create(live, "corner_bakery")
    post = await owner.post("Croissants are out of the oven")

    # When Fedify replies (mentioning the business), likes it and boosts it
    reply = await fedify.reply(post["uri"], "<p>Saving me two!</p>", mention=owner.actor)
    like = await fedify.like(post["uri"])
    boost = await fedify.announce(post["uri"])

    # Then each was accepted on the first knock (RFC 9421, no fallback)
    for result in (reply, like, boost):
        first_knock_accepted(result)
    # And the post's counts and the owner's notifications show all three
    counts = await owner.wait_for_counts(post["id"], replies_count=1, likes_count=1, boosts_count=1)
    assert (counts["replies_count"], counts["likes_count"], counts["boosts_count"]) == (1, 1, 1)
    [replied] = await owner.wait_for_notification("reply")
    assert replied["account"]["id"] == fedify.actor_id
    assert replied["note"]["uri"] == reply["note"]
    assert "Saving me two!" in replied["note"]["content"]
    [liked] = await owner.wait_for_notification("like")
    assert liked["post"]["uri"] == post["uri"]
    assert liked["account"]["id"] == fedify.actor_id
    [boosted] = await owner.wait_for_notification("boost")
    assert boosted["post"]["uri"] == post["uri"]


async def test_fedify_undoing_its_like_and_boost_and_deleting_its_reply_removes_them(
    live: Any, fedify: FedifyClient
) -> None:
    # Given Fedify's reply, like and boost of a post, all counted
    owner = await Owner.create(live, "corner_bakery")
    post = await owner.post("Croissants are out of the oven")
    reply = await fedify.reply(post["uri"], "<p>Saving me two!</p>", mention=owner.actor)
    await fedify.like(post["uri"])
    await fedify.announce(post["uri"])
    await owner.wait_for_counts(post["id"], replies_count=1, likes_count=1, boosts_count=1)

    # When Fedify undoes the like and the boost, and deletes its reply
    unlike = await fedify.unlike(post["uri"])
    unboost = await fedify.unannounce(post["uri"])
    deleted = await fedify.delete_note(reply["note"], to=owner.actor)

    # Then each undo was accepted on the first knock
    for result in (unlike, unboost, deleted):
        first_knock_accepted(result)
    # And the counts drop to zero and the notifications are gone
    await owner.wait_for_counts(post["id"], replies_count=0, likes_count=0, boosts_count=0)
    assert await owner.notifications("like,boost,reply") == []
