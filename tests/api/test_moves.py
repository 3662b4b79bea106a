"""The owner moves a business to another account: aliases (alsoKnownAs), then Move to the
followers, on a live fedi-town with a real peer on loopback (both backends)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.live import LiveInstance
from tests.peer import TestPeer

pytestmark = pytest.mark.anyio

AS2 = {"Accept": "application/activity+json"}


def owner(shop: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {shop['owner_token']}"}


async def followed_by(live: LiveInstance, peer: TestPeer, name: str = "alice") -> None:
    """``name`` on the peer follows the bakery and is accepted."""
    follow = peer.follow(live.urls.actor("bakery"), name)
    response = await peer.post(live.urls.inbox("bakery"), follow, name=name)
    assert response.status_code == 202, response.text
    await peer.wait_for(lambda r: r.type == "Accept" and r.json["object"]["id"] == follow["id"])


async def move(live: LiveInstance, shop: dict[str, Any], target: str) -> Any:
    return await live.client.post(
        "/api/v1/businesses/bakery/move", json={"target": target}, headers=owner(shop)
    )


async def moves_queued(live: LiveInstance) -> int:
    count = await live.store.fetch_val(
        "SELECT COUNT(*) FROM outgoing_activities WHERE type = 'Move'"
    )
    return int(count or 0)


async def test_a_move_reaches_every_follower_signed_by_the_business_and_it_posts_no_more(
    live, peer
):
    # Given a bakery followed by alice, and bob's account naming the bakery in alsoKnownAs
    shop = await live.create_business("bakery", display_name="Corner Bakery")
    await followed_by(live, peer)
    actor = live.urls.actor("bakery")
    peer.actor("bob").also_known_as.append(actor)

    # When the owner moves the bakery to bob, by handle
    response = await move(live, shop, peer.handle("bob"))

    # Then the move is made and one inbox is told
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["moved_to"] == peer.actor("bob").uri and body["inboxes"] == 1
    # And alice's server gets Move{actor: bakery, object: bakery, target: bob}, signed by it
    [received] = await peer.wait_for(lambda r: r.type == "Move")
    assert received.verified, received.error
    assert received.json["actor"] == actor and received.json["object"] == actor
    assert received.json["target"] == peer.actor("bob").uri
    assert received.headers["signature"].startswith(f'keyId="{actor}#main-key"')
    # And the actor says movedTo, with Mastodon's context
    document = (await live.client.get(actor, headers=AS2)).json()
    assert document["movedTo"] == peer.actor("bob").uri
    assert document["@context"][2]["movedTo"] == {"@id": "as:movedTo", "@type": "@id"}
    # And the profile page says where it went
    page = await live.client.get(live.urls.profile_page("bakery"))
    assert "Corner Bakery has moved." in page.text
    assert f'href="{peer.actor("bob").uri}"' in page.text
    # And the owner API shows it
    shown = await live.client.get("/api/v1/businesses/bakery", headers=owner(shop))
    assert shown.json()["moved_to"] == peer.actor("bob").uri
    # And a new post is refused with a clear problem
    refused = await live.client.post(
        "/api/v1/businesses/bakery/posts", json={"content": "still here?"}, headers=owner(shop)
    )
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert "moved to" in refused.json()["detail"]


async def test_a_move_to_an_account_not_naming_the_business_is_refused_and_nothing_is_sent(
    live, peer
):
    # Given a followed bakery and bob's account that does not name it
    shop = await live.create_business("bakery")
    await followed_by(live, peer)

    # When the owner moves it to bob
    response = await move(live, shop, peer.actor("bob").uri)

    # Then it is refused, naming the rule, and no Move is queued; the bakery has not moved
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert "alsoKnownAs" in problem["detail"]
    assert problem["errors"][0]["pointer"] == "/target"
    assert await moves_queued(live) == 0
    shown = await live.client.get("/api/v1/businesses/bakery", headers=owner(shop))
    assert shown.json()["moved_to"] is None
    posted = await live.client.post(
        "/api/v1/businesses/bakery/posts", json={"content": "open as usual"}, headers=owner(shop)
    )
    assert posted.status_code == 201


async def test_a_business_moves_once(live, peer):
    # Given a bakery that moved to bob
    shop = await live.create_business("bakery")
    peer.actor("bob").also_known_as.append(live.urls.actor("bakery"))
    peer.actor("alice").also_known_as.append(live.urls.actor("bakery"))
    assert (await move(live, shop, peer.handle("bob"))).status_code == 200

    # When the owner moves it again, to alice
    again = await move(live, shop, peer.handle("alice"))

    # Then that is a conflict naming the first move, and only one Move was queued
    assert again.status_code == 409
    assert peer.actor("bob").uri in again.json()["detail"]
    assert await moves_queued(live) == 1


@pytest.mark.parametrize(
    "target",
    ["@nobody@{host}", "http://{host}/users/nobody", "not a handle", "@bakery@{self}"],
)
async def test_a_move_to_no_account_or_to_itself_is_refused(live, peer, target):
    # Given a bakery
    shop = await live.create_business("bakery")

    # When the owner moves it to an account that does not exist, to gibberish or to itself
    response = await move(live, shop, target.format(host=peer.host, self=live.urls.domain))

    # Then it is a 422 naming the target, and nothing is queued
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == "/target"
    assert await moves_queued(live) == 0


async def test_aliases_are_resolved_and_served_as_also_known_as(live, peer):
    # Given a bakery
    shop = await live.create_business("bakery")

    # When the owner names bob's account (by handle) and alice's (by actor id) as its own
    response = await live.client.put(
        "/api/v1/businesses/bakery/aliases",
        json={"also_known_as": [peer.handle("bob"), peer.actor("alice").uri]},
        headers=owner(shop),
    )

    # Then both are stored as actor ids and served in the actor's alsoKnownAs
    assert response.status_code == 200, response.text
    expected = [peer.actor("bob").uri, peer.actor("alice").uri]
    assert response.json() == {"also_known_as": expected}
    document = (await live.client.get(live.urls.actor("bakery"), headers=AS2)).json()
    assert document["alsoKnownAs"] == expected
    assert document["@context"][2]["alsoKnownAs"] == {"@id": "as:alsoKnownAs", "@type": "@id"}
    shown = await live.client.get("/api/v1/businesses/bakery", headers=owner(shop))
    assert shown.json()["also_known_as"] == expected

    # And an empty list clears them
    cleared = await live.client.put(
        "/api/v1/businesses/bakery/aliases", json={"also_known_as": []}, headers=owner(shop)
    )
    assert cleared.json() == {"also_known_as": []}
    document = (await live.client.get(live.urls.actor("bakery"), headers=AS2)).json()
    assert "alsoKnownAs" not in document


async def test_an_alias_that_cannot_be_found_is_refused_and_nothing_changes(live, peer):
    # Given a bakery naming bob
    shop = await live.create_business("bakery")
    put = "/api/v1/businesses/bakery/aliases"
    first = await live.client.put(
        put, json={"also_known_as": [peer.handle("bob")]}, headers=owner(shop)
    )
    assert first.status_code == 200

    # When the owner names bob and an account that does not exist
    response = await live.client.put(
        put,
        json={"also_known_as": [peer.handle("bob"), f"@ghost@{peer.host}"]},
        headers=owner(shop),
    )

    # Then it is refused, pointing at the second, and the aliases stay as they were
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/also_known_as/1"
    shown = await live.client.get("/api/v1/businesses/bakery", headers=owner(shop))
    assert shown.json()["also_known_as"] == [peer.actor("bob").uri]


async def test_an_unknown_field_in_a_move_is_refused_by_the_schema(live):
    shop = await live.create_business("bakery")
    response = await live.client.post(
        "/api/v1/businesses/bakery/move",
        json={"target": "@a@b.example", "when": "now"},
        headers=owner(shop),
    )
    assert response.status_code == 422
    assert await moves_queued(live) == 0
