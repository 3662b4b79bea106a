"""A business likes and boosts posts: real servers on loopback, both backends.

A remote post is served by a test peer (tests/peer.py), whose inboxes record what arrives and
check its signature. Two businesses on one guarded instance like and boost each other with no
HTTP request made (the proof, as in test_following.py: every delivery handed over at once).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from fedi_town.outbound import reactions
from fedi_town.remote.errors import (
    BadResponse,
    FetchFailed,
    ForbiddenAddress,
    RemoteGone,
    RemoteNotFound,
    RemoteUnreachable,
)
from fedi_town.store import businesses
from tests.live import LiveInstance, live_instance, wait_until
from tests.outbound.conftest import add_follower, owner, write_post
from tests.outbound.test_following import _all_done, _nothing_went_over_http
from tests.peer import PUBLIC, TestPeer

AP_JSON = {"Accept": "application/activity+json"}


async def _give(live: Any, business: dict[str, Any], path: str, obj: str) -> Any:
    return await live.client.post(
        f"/api/v1/businesses/{business['username']}/{path}",
        json={"object": obj},
        headers=owner(business),
    )


async def _take_back(live: Any, business: dict[str, Any], path: str, obj: str) -> Any:
    return await live.client.delete(
        f"/api/v1/businesses/{business['username']}/{path}",
        params={"object": obj},
        headers=owner(business),
    )


async def _written(live: Any) -> tuple[int, int]:
    given = await live.store.fetch_val("SELECT COUNT(*) FROM given_reactions")
    sent = await live.store.fetch_val("SELECT COUNT(*) FROM outgoing_activities")
    return int(given), int(sent)


@pytest.mark.anyio
async def test_a_boost_reaches_the_followers_and_the_author_and_its_undo_too(
    live: Any, peer: TestPeer
) -> None:
    # Given a business followed by bob, and a public note by alice
    business = await live.create_business("bakery")
    bob = peer.actor("bob").uri
    await add_follower(live.store, business["id"], bob, inbox=f"{bob}/inbox")
    note = peer.add_note("alice", "<p>Fresh rye at the market</p>")

    # When the business boosts it
    response = await _give(live, business, "boosts", note["id"])

    # Then one Announce, addressed as Mastodon addresses a reblog, reaches both, signed
    assert response.status_code == 201, response.text
    boost = response.json()
    assert boost["kind"] == "boost" and boost["object"] == note["id"]
    assert boost["author"] == peer.actor("alice").uri
    got = await peer.wait_for(lambda r: r.type == "Announce", count=2)
    assert sorted(r.path for r in got) == ["/inbox", "/users/bob/inbox"]
    assert all(r.verified for r in got), [r.error for r in got]
    announce = got[0].json
    assert announce["id"] == boost["activity"]
    assert announce["actor"] == live.urls.actor("bakery")
    assert announce["object"] == note["id"]
    assert announce["to"] == [PUBLIC]
    assert announce["cc"] == [peer.actor("alice").uri, live.urls.followers("bakery")]

    # And the Announce is served at its id and listed in the outbox
    served = await peer.get(boost["activity"])
    assert served.status_code == 200
    assert served.json()["object"] == note["id"] and served.json()["type"] == "Announce"
    outbox = await live.client.get(live.urls.outbox("bakery") + "?page=1", headers=AP_JSON)
    assert [i["id"] for i in outbox.json()["orderedItems"]] == [boost["activity"]]

    # When the business takes the boost back
    undone = await _take_back(live, business, "boosts", note["id"])

    # Then Undo{Announce} reaches both, and the Announce's id is gone
    assert undone.status_code == 204, undone.text
    undos = await peer.wait_for(lambda r: r.type == "Undo", count=2)
    assert sorted(r.path for r in undos) == ["/inbox", "/users/bob/inbox"]
    assert undos[0].json["object"]["id"] == boost["activity"]
    assert undos[0].json["object"]["type"] == "Announce"
    assert (await peer.get(boost["activity"])).status_code == 404
    outbox = await live.client.get(live.urls.outbox("bakery") + "?page=1", headers=AP_JSON)
    assert outbox.json()["orderedItems"] == []


@pytest.mark.anyio
async def test_a_like_reaches_the_author_and_its_undo_too(live: Any, peer: TestPeer) -> None:
    # Given a business with a follower, and a note by alice
    business = await live.create_business("bakery")
    bob = peer.actor("bob").uri
    await add_follower(live.store, business["id"], bob, inbox=f"{bob}/inbox")
    note = peer.add_note("alice", "<p>Lovely bread</p>")

    # When the business likes it, by the note's web address
    response = await _give(live, business, "likes", note["id"])

    # Then the Like reaches the author only, signed
    assert response.status_code == 201, response.text
    [like] = await peer.wait_for(lambda r: r.type == "Like")
    assert like.path == "/inbox" and like.verified, like.error
    assert like.json["object"] == note["id"]
    assert like.json["actor"] == live.urls.actor("bakery")
    given = await live.client.get(
        "/api/v1/businesses/bakery/given", params={"object": note["id"]}, headers=owner(business)
    )
    assert given.json() == {note["id"]: {"liked": True, "boosted": False}}

    # When it takes the like back
    undone = await _take_back(live, business, "likes", note["id"])

    # Then Undo{Like} reaches the author
    assert undone.status_code == 204, undone.text
    [undo] = await peer.wait_for(lambda r: r.type == "Undo")
    assert undo.path == "/inbox"
    assert undo.json["object"]["id"] == like.json["id"]
    assert undo.json["object"]["type"] == "Like"
    assert [r.path for r in peer.received if r.type in ("Like", "Undo")] == ["/inbox", "/inbox"]


@pytest.mark.anyio
async def test_a_post_is_named_by_its_web_address_too(live: Any, peer: TestPeer) -> None:
    # Given a note by alice, and its web address (not its id)
    business = await live.create_business("bakery")
    note = peer.add_note("alice", "<p>Lovely bread</p>")
    assert note["url"] != note["id"]

    # When the business likes it and replies to it by that address
    liked = await _give(live, business, "likes", note["url"])
    reply = await write_post(live.client, business, content="Thanks!", in_reply_to=note["url"])

    # Then both name the note by its id
    assert liked.status_code == 201, liked.text
    assert liked.json()["object"] == note["id"]
    [like] = await peer.wait_for(lambda r: r.type == "Like")
    assert like.json["object"] == note["id"]
    assert reply.status_code == 201, reply.text
    [create] = await peer.wait_for(lambda r: r.type == "Create")
    assert create.json["object"]["inReplyTo"] == note["id"]
    # And taking the like back by the web address finds it
    assert (await _take_back(live, business, "likes", note["url"])).status_code == 204


@pytest.mark.anyio
async def test_bad_requests_are_refused_with_nothing_written(live: Any, peer: TestPeer) -> None:
    business = await live.create_business("bakery")
    alice = peer.actor("alice").uri
    private = peer.add_note("alice", "<p>Just for followers</p>", to=[f"{alice}/followers"], cc=[])
    direct = peer.add_note("alice", "<p>Psst</p>", to=[live.urls.actor("bakery")], cc=[])

    # A followers-only or direct post cannot be boosted
    for note in (private, direct):
        refused = await _give(live, business, "boosts", note["id"])
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["errors"][0]["code"] == "not_public"

    # A post that cannot be fetched: 422 saying why
    missing = await _give(live, business, "likes", f"{peer.base}/notes/nothing-here")
    assert missing.status_code == 422
    assert "no such post" in missing.json()["detail"]

    # An unknown local id, or a local URL that is no post: 404
    assert (await _give(live, business, "likes", "123456789")).status_code == 404
    assert (await _give(live, business, "likes", live.urls.post("bakery", 42))).status_code == 404

    # Not a URL nor an id: 422
    assert (await _give(live, business, "likes", "hello")).status_code == 422

    # Undo of what was never given: 404
    note = peer.add_note("alice", "<p>Rye</p>")
    assert (await _take_back(live, business, "likes", note["id"])).status_code == 404
    assert (await _take_back(live, business, "boosts", note["id"])).status_code == 404
    assert await _written(live) == (0, 0)

    # Twice the same: 409, the second writes nothing
    assert (await _give(live, business, "likes", note["id"])).status_code == 201
    assert (await _give(live, business, "boosts", note["id"])).status_code == 201
    again = await _give(live, business, "likes", note["id"])
    assert again.status_code == 409, again.text
    assert (await _give(live, business, "boosts", note["id"])).status_code == 409
    assert await _written(live) == (2, 2)


@pytest.mark.anyio
async def test_a_blocked_author_or_domain_cannot_be_liked_or_boosted(
    live: Any, peer: TestPeer
) -> None:
    business = await live.create_business("bakery")
    note = peer.add_note("alice", "<p>Rye</p>")
    headers = owner(business)
    block = await live.client.post(
        "/api/v1/businesses/bakery/blocks", json={"actor": peer.actor("alice").uri}, headers=headers
    )
    assert block.status_code == 201, block.text
    for path in ("likes", "boosts"):
        refused = await _give(live, business, path, note["id"])
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["code"] == "blocked"
    await live.client.delete(
        f"/api/v1/businesses/bakery/blocks/{block.json()['id']}", headers=headers
    )
    domain = peer.host.split(":")[0]
    await live.client.post(
        "/api/v1/businesses/bakery/blocks", json={"domain": domain}, headers=headers
    )
    refused = await _give(live, business, "likes", note["id"])
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["code"] == "blocked"
    assert await _written(live) == (0, 0)


@pytest.mark.anyio
async def test_the_business_boosts_and_likes_its_own_public_post(live: Any, peer: TestPeer) -> None:
    # Given a business followed by bob, with a public and a followers-only post
    business = await live.create_business("bakery")
    bob = peer.actor("bob").uri
    await add_follower(live.store, business["id"], bob, inbox=f"{bob}/inbox")
    public = (await write_post(live.client, business, content="Rye today")).json()
    private = (
        await write_post(live.client, business, content="Friends only", visibility="followers")
    ).json()
    await peer.wait_for(lambda r: r.type == "Create", count=2)

    # When it boosts the public one by its id, and likes it
    boosted = await _give(live, business, "boosts", str(public["id"]))
    liked = await _give(live, business, "likes", public["uri"])

    # Then the Announce reaches its followers; the like goes nowhere
    assert boosted.status_code == 201, boosted.text
    assert liked.status_code == 201, liked.text
    [announce] = await peer.wait_for(lambda r: r.type == "Announce")
    assert announce.path == "/users/bob/inbox"
    assert announce.json["object"] == public["uri"]
    assert announce.json["cc"] == [live.urls.actor("bakery"), live.urls.followers("bakery")]
    # and the followers-only one cannot be boosted
    assert (await _give(live, business, "boosts", private["uri"])).status_code == 422
    await wait_until(lambda: _all_done(live))
    assert peer.of_type("Like") == []


@pytest.fixture
async def guarded(database_url: str, tmp_path: Path) -> AsyncIterator[LiveInstance]:
    """A live instance that refuses private and loopback addresses, itself included."""
    async with live_instance(database_url, tmp_path, allow_private_addresses=False) as instance:
        yield instance


@pytest.mark.anyio
async def test_two_businesses_here_like_and_boost_each_other_without_http(
    guarded: LiveInstance,
) -> None:
    # Given two businesses on one guarded instance, each with a public post
    live = guarded
    bakery = await live.create_business("bakery")
    cafe = await live.create_business("cafe")
    bread = (await write_post(live.client, bakery, content="Rye today")).json()
    coffee = (await write_post(live.client, cafe, content="New beans")).json()

    # When each likes and boosts the other's post (by URL and by id)
    for giver, post in ((cafe, bread), (bakery, coffee)):
        for path, ref in (("likes", post["uri"]), ("boosts", str(post["id"]))):
            response = await _give(live, giver, path, ref)
            assert response.status_code == 201, response.text

    # Then each is notified of the other's like and boost, and nothing went over HTTP
    async def told(business: dict[str, Any]) -> list[str]:
        listed = await live.client.get(
            f"/api/v1/businesses/{business['username']}/notifications", headers=owner(business)
        )
        kinds = sorted(n["type"] for n in listed.json()["items"] if n["type"] in ("like", "boost"))
        return kinds if kinds == ["boost", "like"] else []

    for business, other in ((bakery, "cafe"), (cafe, "bakery")):
        await wait_until(lambda business=business: told(business))
        listed = await live.client.get(
            f"/api/v1/businesses/{business['username']}/notifications", headers=owner(business)
        )
        accounts = {n["account"]["id"] for n in listed.json()["items"]}
        assert accounts == {live.urls.actor(other)}

    # And taking them back removes them, still without HTTP
    for giver, post in ((cafe, bread), (bakery, coffee)):
        assert (await _take_back(live, giver, "likes", post["uri"])).status_code == 204
        assert (await _take_back(live, giver, "boosts", post["uri"])).status_code == 204
    await wait_until(lambda: _all_done(live))
    counted = await live.store.fetch_val("SELECT COUNT(*) FROM interactions")
    assert counted == 0
    await _nothing_went_over_http(live)


@pytest.mark.anyio
async def test_find_post_reads_a_post_here_by_its_page_address(guarded: LiveInstance) -> None:
    live = guarded
    bakery = await live.create_business("bakery")
    await live.create_business("cafe")
    bread = (await write_post(live.client, bakery, content="Rye today")).json()
    cafe = await businesses.by_username(live.store, "cafe")
    assert cafe is not None
    target = await reactions.find_post(
        live.services, cafe, f"{live.base_url}/@bakery/{bread['id']}"
    )
    assert (target.uri, target.author_uri, target.visibility) == (
        bread["uri"],
        live.urls.actor("bakery"),
        "public",
    )


@pytest.mark.parametrize(
    ("error", "code", "words"),
    [
        (RemoteNotFound("https://h.example/n/1", 404), "not_found", "has no such post"),
        (RemoteGone("https://h.example/n/1", 410), "gone", "deleted from h.example"),
        (FetchFailed("https://h.example/n/1", 401), "refused", "does not show that post"),
        (FetchFailed("https://h.example/n/1", 503), "refused", "try again later"),
        (FetchFailed("https://h.example/n/1", 400), "refused", "refused to show"),
        (ForbiddenAddress("https://h.example/n/1"), "private", "private address"),
        (RemoteUnreachable("https://h.example/n/1", "timeout"), "unreachable", "in time"),
        (RemoteUnreachable("https://h.example/n/1", "connect"), "unreachable", "did not answer"),
        (BadResponse("https://h.example/n/1", "not JSON"), "unusable", "with a post"),
    ],
)
def test_why_a_post_cannot_be_fetched_is_said_in_words(error, code, words) -> None:
    found_code, reason = reactions.why_unfetchable(error, "h.example")
    assert found_code == code
    assert words in reason


@pytest.mark.anyio
async def test_a_deleted_post_takes_its_likes_and_boosts_along(live: Any, peer: TestPeer) -> None:
    # Given the bakery's boost and like of a note by alice, and of a post of the cafe here
    bakery = await live.create_business("bakery")
    cafe = await live.create_business("cafe")
    note = peer.add_note("alice", "<p>Market on Sunday</p>")
    coffee = (await write_post(live.client, cafe, content="New beans")).json()
    for ref in (note["id"], coffee["uri"]):
        for path in ("likes", "boosts"):
            assert (await _give(live, bakery, path, ref)).status_code == 201
    outbox = live.urls.outbox("bakery")
    assert (await live.client.get(outbox, headers=AP_JSON)).json()["totalItems"] == 2

    # When the cafe deletes its post, and alice's server says her note is deleted
    deleted = await live.client.delete(
        f"/api/v1/businesses/cafe/posts/{coffee['id']}", headers=owner(cafe)
    )
    assert deleted.status_code == 204, deleted.text
    alice = peer.actor("alice").uri
    gone = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{note['id']}#delete",
        "type": "Delete",
        "actor": alice,
        "to": [PUBLIC],
        "object": {"id": note["id"], "type": "Tombstone"},
    }
    assert (await peer.post(live.urls.inbox("bakery"), gone)).status_code == 202

    # Then the bakery gave nothing any more, and its outbox lists no boost
    async def forgotten() -> bool:
        return int(await live.store.fetch_val("SELECT COUNT(*) FROM given_reactions")) == 0

    await wait_until(forgotten)
    assert (await live.client.get(outbox, headers=AP_JSON)).json()["totalItems"] == 0
