"""outbound.directory: the directory boosts members' public posts and undoes the boost when a
post is deleted; what it queues (both backends), and what a real server on loopback receives."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from fedi_town.outbound import commands
from fedi_town.store import businesses
from fedi_town.store import directory as store_directory
from fedi_town.store.db import now_ms
from tests.conftest import admin_headers, create_business
from tests.live import wait_until
from tests.outbound.conftest import activities, add_follower, deliveries, owner, write_post

pytestmark = pytest.mark.anyio

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
BASE = "https://town.example"
FOLLOWER_INBOX = "https://m.example/inbox"


async def make_directory(client: Any, headers: dict[str, str] | None = None) -> Any:
    response = await client.put(
        "/api/v1/admin/directory",
        json={"username": "town", "display_name": "Town High Street"},
        headers=headers or admin_headers(),
    )
    assert response.status_code == 201, response.text
    return await store_directory.find(client.services.store)


async def followed_directory(client: Any) -> Any:
    """The directory, followed by ann (shared inbox ``FOLLOWER_INBOX``)."""
    found = await make_directory(client)
    await add_follower(
        client.services.store, found.id, "https://m.example/users/ann", shared_inbox=FOLLOWER_INBOX
    )
    return found


async def posted(client: Any, business: dict[str, Any], **body: Any) -> dict[str, Any]:
    response = await write_post(client, business, **body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


# -- what is queued --------------------------------------------------------------------------


async def test_a_members_public_post_is_boosted_to_the_directorys_followers(app_client):
    # Given the directory with a follower, and a member business
    directory = await followed_directory(app_client)
    bakery = await create_business(app_client, "bakery")
    # When the business publishes a public post
    post = await posted(app_client, bakery, content="Buns out of the oven")
    # Then the directory queued an Announce of it, addressed as Mastodon addresses a boost
    [announce] = await activities(app_client.services.store, "Announce")
    assert announce == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{BASE}/users/town#announces/{post['id']}",
        "type": "Announce",
        "actor": f"{BASE}/users/town",
        "published": post["published_at"],
        "to": [PUBLIC],
        "cc": [f"{BASE}/users/bakery", f"{BASE}/users/town/followers"],
        "object": post["uri"],
    }
    # And it goes to the directory's follower, sent (signed) as the directory
    rows = [r for r in await deliveries(app_client.services.store) if r["type"] == "Announce"]
    assert [r["inbox"] for r in rows] == [FOLLOWER_INBOX]
    sender = await app_client.services.store.fetch_val(
        "SELECT business_id FROM outgoing_activities WHERE type = 'Announce'"
    )
    assert sender == directory.id


@pytest.mark.parametrize(
    ("visibility", "reply", "member", "boosted"),
    [
        ("public", "none", {}, True),
        ("public", "self", {}, True),
        ("public", "other", {}, False),
        ("unlisted", "none", {}, False),
        ("followers", "none", {}, False),
        ("public", "none", {"in_directory": False}, False),
        ("public", "none", {"discoverable": False}, False),
    ],
)
async def test_which_posts_the_directory_boosts(app_client, visibility, reply, member, boosted):
    # Given the directory with a follower, and a business (perhaps out of the directory)
    await followed_directory(app_client)
    store = app_client.services.store
    bakery = await create_business(app_client, "bakery")
    if member:
        await businesses.update(store, int(bakery["id"]), member, now=now_ms())
    in_reply_to = None
    if reply == "self":
        in_reply_to = (await posted(app_client, bakery, content="Thread", visibility="unlisted"))[
            "uri"
        ]
    elif reply == "other":
        cafe = await create_business(app_client, "cafe", display_name="Cafe")
        in_reply_to = (await posted(app_client, cafe, content="Coffee", visibility="unlisted"))[
            "uri"
        ]
    # When it publishes a post of this kind
    body: dict[str, Any] = {"content": "Fresh bread", "visibility": visibility}
    if in_reply_to:
        body["in_reply_to"] = in_reply_to
    post = await posted(app_client, bakery, **body)
    # Then the directory boosts it, or not
    announced = [a["object"] for a in await activities(store, "Announce")]
    assert announced == ([post["uri"]] if boosted else [])


async def test_nothing_is_boosted_without_a_directory_or_its_followers(app_client):
    bakery = await create_business(app_client, "bakery")
    await posted(app_client, bakery, content="Before the directory")
    await make_directory(app_client)
    await posted(app_client, bakery, content="Nobody follows the directory yet")
    assert await activities(app_client.services.store, "Announce") == []


async def test_a_scheduled_post_is_boosted_when_it_is_published(clocked_client, clock):
    # Given the directory with a follower and a post scheduled for an hour from now
    await followed_directory(clocked_client)
    bakery = await create_business(clocked_client, "bakery")
    at = clock() + timedelta(hours=1)
    post = await posted(clocked_client, bakery, content="Cake at one", scheduled_at=at.isoformat())
    store = clocked_client.services.store
    assert await activities(store, "Announce") == []
    # When its time comes and it is published
    clock.advance(timedelta(hours=1))
    assert await commands.publish_due(clocked_client.services) == 1
    # Then the directory boosts it, dated when it was published
    [announce] = await activities(store, "Announce")
    assert announce["object"] == post["uri"]
    assert announce["published"] == at.strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_an_edit_of_a_boosted_post_reaches_the_directorys_followers(app_client):
    await followed_directory(app_client)
    bakery = await create_business(app_client, "bakery")
    post = await posted(app_client, bakery, content="Buns at 7")
    response = await app_client.patch(
        f"/api/v1/businesses/bakery/posts/{post['id']}",
        json={"content": "Buns at 8"},
        headers=owner(bakery),
    )
    assert response.status_code == 200, response.text
    rows = [r for r in await deliveries(app_client.services.store) if r["type"] == "Update"]
    assert [r["inbox"] for r in rows] == [FOLLOWER_INBOX]


async def test_deleting_a_post_whose_boost_was_never_sent_sends_no_undo(app_client):
    # Given a boosted post whose Announce is still waiting to be sent
    await followed_directory(app_client)
    bakery = await create_business(app_client, "bakery")
    post = await posted(app_client, bakery, content="Oops")
    # When it is deleted
    response = await app_client.delete(
        f"/api/v1/businesses/bakery/posts/{post['id']}", headers=owner(bakery)
    )
    assert response.status_code == 204
    # Then the Announce is cancelled, and there is nothing to undo
    store = app_client.services.store
    assert await activities(store, "Undo") == []
    states = {r["state"] for r in await deliveries(store) if r["type"] == "Announce"}
    assert states == {"cancelled"}


# -- a real server on loopback ---------------------------------------------------------------


async def peer_follows_the_directory(live: Any, peer: Any) -> str:
    """The directory exists and alice on ``peer`` follows it (Accept received); its actor id."""
    response = await live.client.put(
        "/api/v1/admin/directory",
        json={"username": "town", "display_name": "Town High Street"},
        headers=live.admin_headers(),
    )
    assert response.status_code == 201, response.text
    town = live.urls.actor("town")
    answer = await peer.post(live.urls.inbox("town"), peer.follow(town))
    assert answer.status_code == 202, answer.text
    await peer.wait_for(lambda r: r.type == "Accept")
    return str(town)


async def test_a_follower_server_receives_the_boost_and_its_undo(live, peer):
    # Given alice following the directory, and a member business
    town = await peer_follows_the_directory(live, peer)
    bakery = await live.create_business("bakery")

    # When the business posts publicly
    post = await posted(live.client, bakery, content="Sourdough is ready")

    # Then alice's server receives the directory's Announce, signed with the directory's key
    [got] = await peer.wait_for(lambda r: r.type == "Announce")
    assert got.verified, got.error
    assert f'keyId="{town}#main-key"' in got.headers["signature"]
    assert got.json["actor"] == town and got.json["object"] == post["uri"]
    assert got.json["to"] == [PUBLIC]
    # And the boosted Note can be fetched, signed as alice (as Mastodon fetches it)
    note = await peer.get(post["uri"])
    assert note.status_code == 200 and note.json()["type"] == "Note"

    # When the business deletes the post
    response = await live.client.delete(
        f"/api/v1/businesses/bakery/posts/{post['id']}", headers=owner(bakery)
    )
    assert response.status_code == 204

    # Then alice's server receives the directory's Undo of that Announce, and the Delete
    [undo] = await peer.wait_for(lambda r: r.type == "Undo")
    assert undo.verified, undo.error
    assert undo.json["actor"] == town
    assert undo.json["object"]["id"] == got.json["id"]
    assert undo.json["object"]["type"] == "Announce"
    [delete] = await peer.wait_for(lambda r: r.type == "Delete")
    assert delete.json["object"]["id"] == post["uri"]


async def test_no_boost_reaches_a_follower_for_unlisted_private_or_opted_out_posts(live, peer):
    # Given alice following the directory, a member and a business that opted out
    await peer_follows_the_directory(live, peer)
    bakery = await live.create_business("bakery")
    quiet = await live.create_business("quiet")
    await businesses.update(live.store, int(quiet["id"]), {"in_directory": False}, now=now_ms())

    # When they post what the directory must not boost, then one public post of the member
    await posted(live.client, bakery, content="Unlisted", visibility="unlisted")
    await posted(live.client, bakery, content="For followers", visibility="followers")
    await posted(live.client, quiet, content="Public, but opted out")
    last = await posted(live.client, bakery, content="Public")

    # Then alice's server receives exactly one Announce: of the last post
    await peer.wait_for(lambda r: r.type == "Announce")

    async def all_sent() -> bool:
        rows = await deliveries(live.store)
        return all(r["state"] in ("done", "failed") for r in rows)

    await wait_until(all_sent)
    assert [r.json["object"] for r in peer.of_type("Announce")] == [last["uri"]]


async def test_likes_boosts_and_replies_sent_to_the_directory_break_nothing(live, peer):
    # Given alice following the directory, which boosted a member's post
    town = await peer_follows_the_directory(live, peer)
    bakery = await live.create_business("bakery")
    post = await posted(live.client, bakery, content="Sourdough")
    await peer.wait_for(lambda r: r.type == "Announce")

    # When alice likes, boosts and answers what reached her from the directory, at its inbox
    inbox = live.urls.inbox("town")
    for activity in (
        peer.like(post["uri"]),
        peer.announce(post["uri"], live.urls.actor("bakery")),
        peer.reply(post["uri"], town, "Lovely!"),
    ):
        response = await peer.post(inbox, activity)
        assert response.status_code == 202, response.text

    # Then each is handled without failing, and the directory still boosts the next post
    async def handled() -> list[Any]:
        rows = await live.store.fetch_all("SELECT type, state FROM inbox_items")
        return rows if all(r["state"] in ("done", "failed") for r in rows) else []

    rows = await wait_until(handled)
    assert {r["state"] for r in rows} == {"done"}, rows
    following = await posted(live.client, bakery, content="Rye")
    await peer.wait_for(lambda r: r.type == "Announce" and r.json["object"] == following["uri"])
