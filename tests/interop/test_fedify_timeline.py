"""The home timeline against the real Fedify peer (both backends): a business follows the
Fedify account and gets its Accept; the account's posts, edits, deletes and boosts reach the
business's timeline; nothing is kept of an account it does not follow; a block or the
account's deletion takes everything away; hostile content is cleaned or refused."""

from __future__ import annotations

from typing import Any

import pytest

from tests.interop.harness import FedifyClient
from tests.interop.owner import Owner, fedify_received
from tests.live import wait_until

pytestmark = pytest.mark.anyio


async def _timeline(owner: Owner) -> list[dict[str, Any]]:
    page: dict[str, Any] = await owner.call("GET", "/timeline")
    items: list[dict[str, Any]] = page["items"]
    return items


async def _following_fedify(owner: Owner, fedify: FedifyClient) -> None:
    """The business follows the Fedify account and Fedify's Accept has arrived."""
    await owner.call("POST", "/following", 201, json={"account": fedify.handle})
    follow = await fedify_received(fedify, "Follow")
    assert follow["verified"], follow

    async def accepted() -> bool:
        page = await owner.call("GET", "/following")
        return [f["state"] for f in page["items"]] == ["accepted"]

    await wait_until(accepted)


async def _wait_timeline(owner: Owner, predicate: Any) -> list[dict[str, Any]]:
    async def matches() -> tuple[list[dict[str, Any]]] | None:
        items = await _timeline(owner)
        return (items,) if predicate(items) else None  # a tuple: an empty list is a match too

    found: tuple[list[dict[str, Any]]] = await wait_until(matches, timeout=15)
    return found[0]


async def _handled(owner: Owner, activity_id: str) -> str:
    """Wait until the inbox item of ``activity_id`` is handled; its state."""

    async def state() -> str | None:
        value = await owner.live.store.fetch_val(
            "SELECT state FROM inbox_items WHERE activity_uri = :u", {"u": activity_id}
        )
        return str(value) if value not in (None, "pending") else None

    result: str = await wait_until(state, timeout=15)
    return result


async def test_posts_edits_and_deletes_of_a_followed_fedify_account_reach_the_timeline(
    live: Any, fedify: FedifyClient
) -> None:
    # Given a business following the Fedify account (Accept received)
    owner = await Owner.create(live, "corner_bakery")
    await _following_fedify(owner, fedify)

    # When Fedify posts, with a photo
    sent = await fedify.post(
        "<p>Plums at the market today</p>",
        owner.actor,
        attachments=[
            {
                "url": "https://files.example/plums.jpg",
                "mediaType": "image/jpeg",
                "name": "A crate of plums",
            }
        ],
    )
    assert sent["ok"], sent

    # Then the post is in the home timeline with its author and photo
    [item] = await _wait_timeline(owner, lambda items: len(items) == 1)
    assert item["uri"] == sent["note"]
    assert "Plums at the market today" in item["content"]
    assert item["account"]["id"] == fedify.actor_id
    assert item["account"]["handle"] == fedify.handle
    assert item["boosted_by"] is None and item["edited_at"] is None
    assert item["attachments"] == [
        {
            "url": "https://files.example/plums.jpg",
            "type": "image",
            "media_type": "image/jpeg",
            "description": "A crate of plums",
        }
    ]

    # When Fedify edits it
    edited = await fedify.edit(sent["note"], owner.actor, "<p>Plums sold out, sorry</p>")
    assert edited["ok"], edited

    # Then the edit shows
    [item] = await _wait_timeline(
        owner, lambda items: len(items) == 1 and "sold out" in items[0]["content"]
    )
    assert item["edited_at"] is not None

    # When Fedify deletes it
    deleted = await fedify.delete_note(sent["note"], owner.actor)
    assert deleted["ok"], deleted

    # Then the timeline is empty and nothing of it is kept
    await _wait_timeline(owner, lambda items: items == [])
    assert await live.store.fetch_val("SELECT COUNT(*) FROM remote_notes") == 0


async def test_a_boost_by_fedify_shows_with_who_boosted_and_its_undo_removes_it(
    live: Any, fedify: FedifyClient
) -> None:
    # Given a business following Fedify, and a note Fedify wrote but never sent here
    owner = await Owner.create(live, "corner_bakery")
    await _following_fedify(owner, fedify)
    kept = await fedify.post("<p>Rye bread on Fridays</p>")

    # When Fedify boosts it (the Announce names the note by id only)
    boosted = await fedify.announce(kept["note"], to=owner.actor)
    assert boosted["ok"], boosted
    assert isinstance(boosted["activity"]["object"], str)

    # Then fedi-town fetched the note from Fedify and shows it, boosted by Fedify
    [item] = await _wait_timeline(owner, lambda items: len(items) == 1)
    assert item["uri"] == kept["note"]
    assert "Rye bread on Fridays" in item["content"]
    assert item["boosted_by"]["id"] == fedify.actor_id

    # When Fedify undoes the boost
    undone = await fedify.unannounce(kept["note"])
    assert undone["ok"], undone

    # Then it is gone from the timeline
    await _wait_timeline(owner, lambda items: items == [])


async def test_posts_of_an_account_the_business_does_not_follow_are_not_kept(
    live: Any, fedify: FedifyClient
) -> None:
    # Given a business that does not follow the Fedify account
    owner = await Owner.create(live, "corner_bakery")

    # When Fedify posts to it anyway
    sent = await fedify.post("<p>Buy my stuff</p>", owner.actor)
    assert sent["ok"], sent

    # Then the post is handled and dropped: nothing stored, the timeline empty
    assert await _handled(owner, sent["activity"]["id"]) == "done"
    assert await live.store.fetch_val("SELECT COUNT(*) FROM remote_notes") == 0
    assert await _timeline(owner) == []


async def test_blocking_the_followed_account_makes_its_posts_vanish(
    live: Any, fedify: FedifyClient
) -> None:
    # Given a business following Fedify, with one of its posts in the timeline
    owner = await Owner.create(live, "corner_bakery")
    await _following_fedify(owner, fedify)
    sent = await fedify.post("<p>Open late tonight</p>", owner.actor)
    await _wait_timeline(owner, lambda items: len(items) == 1)

    # When the owner blocks the account
    await owner.call("POST", "/blocks", 201, json={"actor": fedify.actor_id})

    # Then its post is gone, the follow ended (Fedify got the Undo), and a new post bounces
    assert await _timeline(owner) == []
    await fedify_received(fedify, "Undo")
    again = await fedify.post("<p>Still open</p>", owner.actor)
    assert not again["ok"] or await _timeline(owner) == []
    assert sent["note"] not in {i["uri"] for i in await _timeline(owner)}


async def test_hostile_content_is_cleaned_and_huge_content_refused(
    live: Any, fedify: FedifyClient
) -> None:
    # Given a business following Fedify
    owner = await Owner.create(live, "corner_bakery")
    await _following_fedify(owner, fedify)

    # When Fedify posts a script, an event handler and bad attachment URLs
    hostile = await fedify.post(
        '<p>Hi<script>alert(1)</script><img src=x onerror="alert(2)">'
        '<a href="javascript:alert(3)">there</a></p>',
        owner.actor,
        attachments=[
            {"url": "javascript:alert(4)", "mediaType": "image/png", "name": "x"},
            {"url": "data:image/png;base64,AAAA", "mediaType": "image/png", "name": "y"},
            {"url": "https://files.example/ok.png", "mediaType": "image/png", "name": "ok"},
        ],
    )
    assert hostile["ok"], hostile
    # And a post of 200,000 characters
    huge = await fedify.post("<p>" + "x" * 200_000 + "</p>", owner.actor)

    # Then the huge one is refused when handled, and the other is kept cleaned
    assert await _handled(owner, huge["activity"]["id"]) == "failed"
    [item] = await _wait_timeline(owner, lambda items: len(items) == 1)
    assert item["uri"] == hostile["note"]
    for bad in ("<script", "onerror", "javascript:", "<img"):
        assert bad not in item["content"]
    assert [a["url"] for a in item["attachments"]] == ["https://files.example/ok.png"]


async def test_deleting_the_fedify_account_removes_its_posts(
    live: Any, fedify: FedifyClient
) -> None:
    # Given a business following Fedify, with a post and a boost of Fedify's in the timeline
    owner = await Owner.create(live, "corner_bakery")
    await _following_fedify(owner, fedify)
    await fedify.post("<p>Closing down</p>", owner.actor)
    kept = await fedify.post("<p>Thanks for the years</p>")
    await fedify.announce(kept["note"], to=owner.actor)
    await _wait_timeline(owner, lambda items: len(items) == 2)

    # When Fedify's account is deleted
    gone = await fedify.delete_actor(owner.actor)
    assert gone["ok"], gone

    # Then its posts and boosts are gone, and so is the follow
    await _wait_timeline(owner, lambda items: items == [])
    assert (await owner.call("GET", "/following"))["items"] == []
