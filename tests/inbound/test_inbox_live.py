"""The inbox over real HTTP: a live fedi-town and a test peer exchanging signed requests.

The peer signs with our own signer here and verifies what it receives by fetching our keys
over HTTP; fedi-town verifies the peer by fetching its actor. Nothing is patched.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest

from fedi_town.store import businesses, reads
from tests.inbound.helpers import add_post, count
from tests.live import wait_until

pytestmark = pytest.mark.anyio


async def bakery(live, **extra):
    data = await live.create_business("bakery", **extra)
    business = await businesses.by_username(live.store, "bakery")
    assert business is not None
    return data, business


def without_context(activity):
    return {k: v for k, v in activity.items() if k != "@context"}


async def notifications(live, *query):
    response = await live.client.get(
        "/api/v1/businesses/bakery/notifications" + (f"?{'&'.join(query)}" if query else ""),
        headers=live.admin_headers(),
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def handled(live, n=1):
    """Wait until ``n`` inbox items are no longer pending."""

    async def done():
        return await count(live.store, "inbox_items", "state <> 'pending'") >= n

    await wait_until(done, timeout=10)


# -- the happy paths ------------------------------------------------------------------


async def test_a_peer_follows_a_business_and_receives_a_verified_accept(live, peer):
    # Given a business
    await bakery(live)
    biz = live.urls.actor("bakery")
    # When alice's server posts her signed Follow to the business's inbox
    follow = peer.follow(biz)
    response = await peer.post(live.urls.inbox("bakery"), follow)
    # Then it is accepted for handling at once
    assert response.status_code == 202
    # And alice's server receives an Accept, signed by the business, embedding her Follow
    [accept] = await peer.wait_for(lambda r: r.type == "Accept")
    assert accept.verified, accept.error
    assert accept.path == "/users/alice/inbox"
    assert accept.json["actor"] == biz
    assert accept.json["object"] == without_context(follow)
    # And the owner sees a new follower
    [note] = await notifications(live)
    assert note["type"] == "follow"
    assert note["account"]["id"] == peer.actor().uri
    assert note["account"]["handle"] == peer.handle()
    followers = await live.client.get(
        "/api/v1/businesses/bakery/followers", headers=live.admin_headers()
    )
    assert [f["account"]["id"] for f in followers.json()["items"]] == [peer.actor().uri]


async def test_replies_likes_and_boosts_and_their_undos_reach_the_owner(live, peer):
    _, business = await bakery(live)
    post_id, post_uri = await add_post(live.services, business)
    biz = live.urls.actor("bakery")
    shared = live.urls.base + "/inbox"
    like, boost = peer.like(post_uri), peer.announce(post_uri, biz, name="bob")
    reply = peer.reply(post_uri, biz, "<p>Lovely <b>bread</b><script>x()</script></p>")
    # When alice likes and replies and bob boosts
    for activity, name in ((like, "alice"), (reply, "alice"), (boost, "bob")):
        assert (await peer.post(shared, activity, name=name)).status_code == 202
    await handled(live, 3)
    # Then the owner is told, newest first, and the post's counts include them
    items = await notifications(live)
    assert sorted(n["type"] for n in items) == ["boost", "like", "reply"]
    [reply_note] = [n for n in items if n["type"] == "reply"]
    assert reply_note["note"]["content"] == "<p>Lovely <b>bread</b></p>"
    [like_note] = [n for n in items if n["type"] == "like"]
    assert like_note["post"] == {"id": str(post_id), "uri": post_uri}
    assert await reads.interaction_counts(live.store, [post_id]) == {
        post_id: {"like": 1, "announce": 1}
    }
    assert await reads.count_all_replies(live.store, post_uri) == 1
    # When the like and the boost are undone
    await peer.post(shared, peer.undo(like))
    await peer.post(shared, peer.undo(boost, name="bob"), name="bob")
    await handled(live, 5)
    # Then only the reply remains
    assert [n["type"] for n in await notifications(live)] == ["reply"]
    counts = await reads.interaction_counts(live.store, [post_id])
    assert counts == {post_id: {"like": 0, "announce": 0}}
    assert await reads.count_all_replies(live.store, post_uri) == 1
    # And the notifications can be filtered by type
    assert await notifications(live, "types=like,boost") == []


async def test_a_business_approving_by_hand_accepts_and_rejects_requests(live, peer):
    data, _ = await bakery(live, manually_approves_followers=True)
    owner = {"Authorization": f"Bearer {data['owner_token']}"}
    biz = live.urls.actor("bakery")
    # Given requests from alice and bob
    alice_follow, bob_follow = peer.follow(biz), peer.follow(biz, name="bob")
    await peer.post(live.urls.inbox("bakery"), alice_follow)
    await peer.post(live.urls.inbox("bakery"), bob_follow, name="bob")
    await handled(live, 2)
    requests = await live.client.get("/api/v1/businesses/bakery/follow_requests", headers=owner)
    by_actor = {r["account"]["id"]: r["id"] for r in requests.json()["items"]}
    assert set(by_actor) == {peer.actor("alice").uri, peer.actor("bob").uri}
    assert peer.of_type("Accept") == []
    # When the owner accepts alice and rejects bob
    base = "/api/v1/businesses/bakery/follow_requests"
    accepted = await live.client.post(f"{base}/{by_actor[peer.actor().uri]}/accept", headers=owner)
    rejected = await live.client.post(
        f"{base}/{by_actor[peer.actor('bob').uri]}/reject", headers=owner
    )
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
    assert rejected.status_code == 204
    # Then alice gets an Accept and bob a Reject, each embedding their own Follow
    [accept] = await peer.wait_for(lambda r: r.type == "Accept")
    [reject] = await peer.wait_for(lambda r: r.type == "Reject")
    assert accept.verified and reject.verified
    assert accept.json["object"] == without_context(alice_follow)
    assert reject.json["object"] == without_context(bob_follow)
    assert reject.path == "/users/bob/inbox"
    followers = await live.client.get("/api/v1/businesses/bakery/followers", headers=owner)
    assert [f["account"]["id"] for f in followers.json()["items"]] == [peer.actor().uri]
    assert (await live.client.get(base, headers=owner)).json()["items"] == []


async def test_the_same_activity_delivered_twice_is_stored_once(live, peer):
    await bakery(live)
    follow = peer.follow(live.urls.actor("bakery"))
    first = await peer.post(live.urls.inbox("bakery"), follow)
    second = await peer.post(live.base_url + "/inbox", follow)
    assert (first.status_code, second.status_code) == (202, 202)
    assert await count(live.store, "inbox_items") == 1


async def test_a_delete_of_an_unknown_account_is_accepted_without_fetching_anything(live, peer):
    await bakery(live)
    alice = peer.actor().uri
    delete = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{alice}#delete",
        "type": "Delete",
        "actor": alice,
        "object": alice,
    }
    response = await peer.post(live.base_url + "/inbox", delete)
    assert response.status_code == 202
    assert [r for r in peer.requests if r[0] == "GET"] == []
    assert await count(live.store, "inbox_items") == 0


async def test_a_key_rotated_since_we_cached_it_is_fetched_again(live, peer):
    await bakery(live)
    biz = live.urls.actor("bakery")
    assert (await peer.post(live.urls.inbox("bakery"), peer.follow(biz))).status_code == 202
    # When alice's server rotates her key and signs with the new one
    fresh = peer.add_actor("alice")
    response = await peer.post(live.urls.inbox("bakery"), peer.follow(biz))
    # Then the cached key fails, the key is fetched again, and the request passes
    assert response.status_code == 202, response.text
    row = await live.store.fetch_one("SELECT public_key_pem FROM remote_keys")
    assert row["public_key_pem"] == fresh.public_pem


# -- refusals -------------------------------------------------------------------------


def _digest(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def tampered_body(headers, body):
    return headers, body.replace(b"Follow", b"Like", 1)


def tampered_body_and_digest(headers, body):
    body = body.replace(b"Follow", b"Like", 1)
    return {**headers, "Digest": _digest(body)}, body


def wrong_digest(headers, body):
    return {**headers, "Digest": _digest(b"something else")}, body


def missing_signed_header(headers, body):
    return {k: v for k, v in headers.items() if k.lower() != "date"}, body


def bad_base64(headers, body):
    signature = headers["Signature"]
    start = signature.index('signature="') + len('signature="')
    return {**headers, "Signature": signature[:start] + "!!not*base64!!" + signature[-1:]}, body


@pytest.mark.parametrize(
    "tamper, expected",
    [
        (tampered_body, "DigestMismatch"),
        (tampered_body_and_digest, "InvalidSignature"),
        (wrong_digest, "DigestMismatch"),
        (missing_signed_header, "MissingSignedHeader"),
        (bad_base64, "BadBase64"),
    ],
    ids=["tampered-body", "body-and-digest-replaced", "wrong-digest", "no-date", "bad-base64"],
)
async def test_a_broken_signature_is_refused_with_401_and_nothing_stored(
    live, peer, tamper, expected
):
    await bakery(live)
    follow = peer.follow(live.urls.actor("bakery"))
    response = await peer.post(live.urls.inbox("bakery"), follow, tamper=tamper)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert expected in response.json()["detail"]
    assert "publicKeyPem" not in response.text and "(request-target)" not in response.text
    assert await count(live.store, "inbox_items") == 0


@pytest.mark.parametrize(
    "shift, expected",
    [(timedelta(hours=-2), "DateTooOld"), (timedelta(hours=2), "DateInFuture")],
    ids=["stale", "future"],
)
async def test_a_signature_outside_the_time_window_is_refused(live, peer, shift, expected):
    await bakery(live)
    follow = peer.follow(live.urls.actor("bakery"))
    response = await peer.post(live.urls.inbox("bakery"), follow, now=datetime.now(UTC) + shift)
    assert response.status_code == 401
    assert expected in response.json()["detail"]
    assert [r for r in peer.requests if r[0] == "GET"] == []  # refused before any key fetch
    assert await count(live.store, "inbox_items") == 0


async def test_a_key_that_cannot_be_found_is_refused(live, peer):
    await bakery(live)
    follow = peer.follow(live.urls.actor("bakery"))
    response = await peer.post(
        live.urls.inbox("bakery"), follow, key_id=f"{peer.base}/users/nobody#main-key"
    )
    assert response.status_code == 401
    assert "UnknownKey" in response.json()["detail"]
    assert ("GET", "/users/nobody") in peer.requests
    assert await count(live.store, "inbox_items") == 0


async def test_a_key_of_another_actor_is_refused(live, peer):
    await bakery(live)
    follow = peer.follow(live.urls.actor("bakery"))  # actor: alice
    bob = peer.actor("bob")
    response = await peer.post(
        live.urls.inbox("bakery"), follow, key_id=bob.key_id, private_pem=bob.private_pem
    )
    assert response.status_code == 401
    assert "KeyOwnerMismatch" in response.json()["detail"]
    assert await count(live.store, "inbox_items") == 0


async def test_an_unsigned_post_is_refused(live, peer):
    await bakery(live)
    body = json.dumps(peer.follow(live.urls.actor("bakery"))).encode()
    response = await live.client.post(
        "/users/bakery/inbox", content=body, headers={"Content-Type": "application/activity+json"}
    )
    assert response.status_code == 401
    assert "MissingSignature" in response.json()["detail"]


async def test_an_oversized_body_is_refused_with_413(live):
    await bakery(live)
    body = b'{"x":"' + b"a" * (live.settings.max_body_bytes + 1) + b'"}'
    response = await live.client.post(
        "/users/bakery/inbox", content=body, headers={"Content-Type": "application/activity+json"}
    )
    assert response.status_code == 413


async def test_a_body_that_is_not_json_typed_is_refused_with_415(live):
    await bakery(live)
    response = await live.client.post(
        "/inbox",
        content=b"type=Follow",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b'{"type": "Follow", "actor": "https://a.example/u"}'],
    ids=["malformed", "not-an-object", "no-id"],
)
async def test_malformed_activities_are_refused_with_400(live, body):
    await bakery(live)
    response = await live.client.post(
        "/inbox", content=body, headers={"Content-Type": "application/activity+json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_personal_inbox_of_an_unknown_or_deleted_business_is_404_or_410(live, peer):
    await bakery(live)
    assert (await peer.post(live.urls.inbox("nobody"), peer.follow("x"))).status_code == 404
    await live.client.delete("/api/v1/businesses/bakery", headers=live.admin_headers())
    assert (await peer.post(live.urls.inbox("bakery"), peer.follow("x"))).status_code == 410


async def test_a_blocked_domain_is_refused_with_403(live, peer):
    await bakery(live)
    blocked = await live.client.post(
        "/api/v1/admin/domain_blocks", json={"domain": peer.host}, headers=live.admin_headers()
    )
    assert blocked.status_code == 201, blocked.text
    response = await peer.post(live.urls.inbox("bakery"), peer.follow(live.urls.actor("bakery")))
    assert response.status_code == 403
    assert await count(live.store, "inbox_items") == 0


async def test_a_business_block_refuses_its_personal_inbox_and_ends_the_follow(live, peer):
    data, _ = await bakery(live)
    owner = {"Authorization": f"Bearer {data['owner_token']}"}
    await peer.post(live.urls.inbox("bakery"), peer.follow(live.urls.actor("bakery")))
    await handled(live)
    # When the owner blocks alice by her handle
    block = await live.client.post(
        "/api/v1/businesses/bakery/blocks", json={"actor": peer.handle()}, headers=owner
    )
    assert block.status_code == 201, block.text
    assert block.json()["actor"] == peer.actor().uri
    # Then she no longer follows, is told so with a Reject, and is refused from now on
    assert await count(live.store, "follows") == 0
    [reject] = await peer.wait_for(lambda r: r.type == "Reject")
    assert reject.verified
    again = await peer.post(live.urls.inbox("bakery"), peer.like(live.urls.actor("bakery")))
    assert again.status_code == 403


async def test_an_rfc9421_signed_activity_is_accepted(live, peer):
    await bakery(live)
    follow = peer.follow(live.urls.actor("bakery"))
    response = await peer.post(live.urls.inbox("bakery"), follow, scheme="rfc9421")
    assert response.status_code == 202, response.text
    [accept] = await peer.wait_for(lambda r: r.type == "Accept")
    assert accept.verified, accept.error


async def test_a_refusal_is_logged_as_a_decision_without_the_body(live, peer, caplog):
    await bakery(live)
    follow = peer.follow(live.urls.actor("bakery"))
    follow["secret"] = "do-not-log-me"
    caplog.set_level("INFO", logger="fedi_town.inbound.inbox")
    response = await peer.post(live.urls.inbox("bakery"), follow, tamper=tampered_body)
    assert response.status_code == 401
    [record] = [r for r in caplog.records if r.name == "fedi_town.inbound.inbox"]
    assert record.getMessage() == (
        f"inbox: refused {follow['id']} from {peer.actor().uri}: DigestMismatch"
    )
    assert "do-not-log-me" not in caplog.text
