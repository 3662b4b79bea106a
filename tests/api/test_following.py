"""The owner API of who a business follows, against a real instance and a real peer on
loopback (both backends): follow by handle or URL, the peer's Accept or Reject, unfollow,
blocks, and every refusal as a problem document with nothing written."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.live import LiveInstance, bind_loopback, wait_until
from tests.peer import AS_CONTEXT, TestPeer

pytestmark = pytest.mark.anyio


async def _owner(live: LiveInstance, username: str = "bakery") -> dict[str, str]:
    data = await live.create_business(username)
    return {"Authorization": f"Bearer {data['owner_token']}"}


async def _follow(
    live: LiveInstance, headers: dict[str, str], account: str, expect: int = 201
) -> dict[str, Any]:
    response = await live.client.post(
        "/api/v1/businesses/bakery/following", json={"account": account}, headers=headers
    )
    assert response.status_code == expect, response.text
    data: dict[str, Any] = response.json()
    return data


async def _following(live: LiveInstance, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await live.client.get("/api/v1/businesses/bakery/following", headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _answer(peer: TestPeer, kind: str, follow: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": AS_CONTEXT,
        "id": f"{peer.actor('alice').uri}#answers/{uuid.uuid4().hex}",
        "type": kind,
        "actor": peer.actor("alice").uri,
        "object": {k: v for k, v in follow.items() if k != "@context"},
    }


async def _sent_follow(peer: TestPeer) -> dict[str, Any]:
    [received] = await peer.wait_for(lambda r: r.type == "Follow")
    assert received.verified, received.error
    return received.json


async def test_following_by_handle_is_pending_until_the_accept(
    live: LiveInstance, peer: TestPeer
) -> None:
    # Given a business
    headers = await _owner(live)

    # When its owner follows alice by her handle
    created = await _follow(live, headers, peer.handle("alice"))

    # Then the follow is pending, and alice's inbox got a signed Follow from the business
    assert created["state"] == "pending"
    assert created["account"]["id"] == peer.actor("alice").uri
    follow = await _sent_follow(peer)
    assert follow["actor"] == live.urls.actor("bakery")
    assert follow["object"] == peer.actor("alice").uri
    # And the following collection does not list it yet
    collection = (await peer.get(live.urls.following("bakery"))).json()
    assert collection["totalItems"] == 0

    # When alice accepts
    accepted = await peer.post(live.urls.inbox("bakery"), _answer(peer, "Accept", follow))
    assert accepted.status_code == 202, accepted.text

    # Then it is accepted, counted, and listed in the following collection
    async def is_accepted() -> bool:
        return [f["state"] for f in await _following(live, headers)] == ["accepted"]

    await wait_until(is_accepted)
    business = (await live.client.get("/api/v1/businesses/bakery", headers=headers)).json()
    assert business["following_count"] == 1
    collection = (await peer.get(live.urls.following("bakery"))).json()
    assert collection["totalItems"] == 1
    page = (await peer.get(collection["first"])).json()
    assert page["orderedItems"] == [peer.actor("alice").uri]


async def test_a_reject_ends_the_follow(live: LiveInstance, peer: TestPeer) -> None:
    # Given a pending follow of alice, by her actor URL
    headers = await _owner(live)
    await _follow(live, headers, peer.actor("alice").uri)
    follow = await _sent_follow(peer)

    # When alice rejects it
    rejected = await peer.post(live.urls.shared_inbox(), _answer(peer, "Reject", follow))
    assert rejected.status_code == 202

    # Then the business no longer follows her, and may ask again
    async def gone() -> bool:
        return await _following(live, headers) == []

    await wait_until(gone)
    await _follow(live, headers, peer.handle("alice"))


async def test_unfollowing_sends_an_undo_of_the_follow(live: LiveInstance, peer: TestPeer) -> None:
    # Given a follow of alice
    headers = await _owner(live)
    created = await _follow(live, headers, peer.handle("alice"))
    follow = await _sent_follow(peer)

    # When the owner unfollows
    response = await live.client.delete(
        f"/api/v1/businesses/bakery/following/{created['id']}", headers=headers
    )

    # Then it is gone, and alice got an Undo embedding that Follow
    assert response.status_code == 204
    assert await _following(live, headers) == []
    [undo] = await peer.wait_for(lambda r: r.type == "Undo")
    assert undo.verified
    assert undo.json["object"]["id"] == follow["id"]
    assert undo.json["object"]["type"] == "Follow"


@pytest.mark.parametrize(
    ("account", "words"),
    [
        ("@nobody@{peer}", "no account by that name"),
        ("not a handle", "handle"),
        ("@alice@{closed}", "did not answer"),
    ],
)
async def test_an_account_that_cannot_be_followed_is_refused_with_nothing_written(
    live: LiveInstance, peer: TestPeer, account: str, words: str
) -> None:
    # Given a business, and a loopback port nobody listens on
    headers = await _owner(live)
    closed = bind_loopback()
    closed_host = f"127.0.0.1:{closed.getsockname()[1]}"
    closed.close()

    # When its owner follows an unknown, malformed or unreachable account
    response = await live.client.post(
        "/api/v1/businesses/bakery/following",
        json={"account": account.format(peer=peer.host, closed=closed_host)},
        headers=headers,
    )

    # Then a problem document says why, and nothing was written or sent
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert words in response.text
    assert await _following(live, headers) == []
    sent = await live.store.fetch_val("SELECT COUNT(*) FROM outgoing_activities")
    assert sent == 0


async def test_a_business_cannot_follow_itself(live: LiveInstance) -> None:
    headers = await _owner(live)
    for account in ("@bakery", live.urls.handle("bakery"), live.urls.actor("bakery")):
        problem = await _follow(live, headers, account, expect=422)
        assert "own account" in problem["errors"][0]["message"]
    assert await _following(live, headers) == []


async def test_following_twice_is_a_conflict(live: LiveInstance, peer: TestPeer) -> None:
    # Given a follow of alice
    headers = await _owner(live)
    await _follow(live, headers, peer.handle("alice"))

    # When the owner follows her again
    problem = await _follow(live, headers, peer.actor("alice").uri, expect=409)

    # Then it is refused, and still one follow and one Follow
    assert "already asked" in problem["detail"]
    assert len(await _following(live, headers)) == 1
    sent = await live.store.fetch_val("SELECT COUNT(*) FROM outgoing_activities")
    assert sent == 1


async def test_unfollowing_someone_not_followed_is_404(live: LiveInstance) -> None:
    headers = await _owner(live)
    response = await live.client.delete(
        "/api/v1/businesses/bakery/following/12345", headers=headers
    )
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_an_owner_reaches_only_their_own_business_following(live: LiveInstance) -> None:
    # Given two businesses
    await _owner(live)
    other = await _owner(live, "cafe")

    # When the cafe's owner lists or changes the bakery's following
    listed = await live.client.get("/api/v1/businesses/bakery/following", headers=other)
    followed = await live.client.post(
        "/api/v1/businesses/bakery/following", json={"account": "@cafe"}, headers=other
    )

    # Then both are 404, as for a business that does not exist
    assert listed.status_code == 404
    assert followed.status_code == 404


async def test_a_blocked_account_or_domain_cannot_be_followed(
    live: LiveInstance, peer: TestPeer
) -> None:
    # Given a business that blocked the peer's domain
    headers = await _owner(live)
    blocked = await live.client.post(
        "/api/v1/businesses/bakery/blocks", json={"domain": peer.host}, headers=headers
    )
    assert blocked.status_code == 201, blocked.text

    # When its owner follows alice there, by handle or URL
    by_handle = await _follow(live, headers, peer.handle("alice"), expect=422)
    by_url = await _follow(live, headers, peer.actor("alice").uri, expect=422)

    # Then both are refused as blocked, and nothing was asked of the peer
    assert by_handle["errors"][0]["code"] == "blocked"
    assert "blocked" in by_url["detail"]
    assert peer.requests == []


async def test_blocking_a_followed_account_ends_the_follow_with_an_undo(
    live: LiveInstance, peer: TestPeer
) -> None:
    # Given a follow of alice
    headers = await _owner(live)
    await _follow(live, headers, peer.handle("alice"))
    follow = await _sent_follow(peer)

    # When the owner blocks her
    blocked = await live.client.post(
        "/api/v1/businesses/bakery/blocks", json={"actor": peer.actor("alice").uri}, headers=headers
    )

    # Then the follow is over and alice got an Undo of it
    assert blocked.status_code == 201
    assert await _following(live, headers) == []
    [undo] = await peer.wait_for(lambda r: r.type == "Undo")
    assert undo.json["object"]["id"] == follow["id"]


async def test_the_following_list_filters_by_state(live: LiveInstance, peer: TestPeer) -> None:
    headers = await _owner(live)
    await _follow(live, headers, peer.handle("alice"))
    client: httpx.AsyncClient = live.client
    pending = await client.get("/api/v1/businesses/bakery/following?state=pending", headers=headers)
    accepted = await client.get(
        "/api/v1/businesses/bakery/following?state=accepted", headers=headers
    )
    wrong = await client.get("/api/v1/businesses/bakery/following?state=maybe", headers=headers)
    assert len(pending.json()["items"]) == 1
    assert accepted.json()["items"] == []
    assert wrong.status_code == 400


async def test_an_instance_domain_block_ends_the_follows_of_that_domain_silently(
    live: LiveInstance, peer: TestPeer
) -> None:
    # Given a follow of alice
    headers = await _owner(live)
    await _follow(live, headers, peer.handle("alice"))
    await _sent_follow(peer)

    # When the admin blocks the peer's whole domain
    blocked = await live.client.post(
        "/api/v1/admin/domain_blocks", json={"domain": peer.host}, headers=live.admin_headers()
    )

    # Then the follow is over, and nothing more is sent to the blocked server
    assert blocked.status_code == 201, blocked.text
    assert await _following(live, headers) == []
    undos = await live.store.fetch_val(
        "SELECT COUNT(*) FROM outgoing_activities WHERE type = 'Undo'"
    )
    assert undos == 0


async def test_a_deleted_business_tells_those_it_follows(
    live: LiveInstance, peer: TestPeer
) -> None:
    # Given a business following alice
    headers = await _owner(live)
    await _follow(live, headers, peer.handle("alice"))
    await _sent_follow(peer)

    # When the business is deleted
    deleted = await live.client.delete("/api/v1/businesses/bakery", headers=headers)

    # Then alice's server hears of it, and the business follows nobody any more
    assert deleted.status_code == 204
    [gone] = await peer.wait_for(lambda r: r.type == "Delete")
    assert gone.json["object"] == live.urls.actor("bakery")
    assert await live.store.fetch_val("SELECT COUNT(*) FROM following") == 0
