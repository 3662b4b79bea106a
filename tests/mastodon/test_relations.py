"""Followers, follow requests, relationships and blocks through the Mastodon client API,
deciding through the owner API's own commands."""

from __future__ import annotations

import pytest

from fedi_town.store import moderation, social
from fedi_town.store.db import now_ms
from tests.mastodon.flow import bearer, business_with_token
from tests.outbound.conftest import add_follower

pytestmark = pytest.mark.anyio


async def bakery(app_client) -> tuple[str, int]:
    _owner, token = await business_with_token(app_client)
    me = await app_client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    return token, int(me.json()["id"])


async def test_followers_are_listed_as_accounts_with_a_link_to_older_ones(app_client):
    _token, business_id = await bakery(app_client)
    for n in range(3):
        await add_follower(app_client.services.store, business_id, f"https://m.example/users/f{n}")
    first = await app_client.get(f"/api/v1/accounts/{business_id}/followers?limit=2")
    assert [a["acct"] for a in first.json()] == ["f2@m.example", "f1@m.example"]
    assert 'rel="next"' in first.headers["link"]
    nxt = first.headers["link"].split(">")[0].lstrip("<")
    rest = await app_client.get(nxt)
    assert [a["acct"] for a in rest.json()] == ["f0@m.example"]


async def test_a_follow_request_is_authorised_by_account_id(app_client):
    token, business_id = await bakery(app_client)
    store = app_client.services.store
    actor_id = await add_follower(store, business_id, "https://m.example/users/asker")
    follow = await social.follow_of(store, business_id, actor_id)
    assert follow is not None
    await social.set_follow_state(store, follow.id, "pending", now=now_ms())
    listed = await app_client.get("/api/v1/follow_requests", headers=bearer(token))
    assert [a["id"] for a in listed.json()] == [str(actor_id)]
    before = await app_client.get(
        f"/api/v1/accounts/relationships?id[]={actor_id}&id[]=1&id[]=x", headers=bearer(token)
    )
    assert before.json()[0]["requested_by"] is True
    assert before.json()[1] == {**before.json()[1], "id": "1", "followed_by": False}
    assert before.json()[2]["id"] == "x" and before.json()[2]["following"] is False
    answer = await app_client.post(
        f"/api/v1/follow_requests/{actor_id}/authorize", headers=bearer(token)
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["followed_by"] is True and answer.json()["requested_by"] is False
    again = await app_client.post(
        f"/api/v1/follow_requests/{actor_id}/reject", headers=bearer(token)
    )
    assert again.status_code == 404 and again.json() == {"error": "Record not found"}


async def test_blocking_an_account_ends_its_follow_and_lists_it_among_blocks(app_client):
    token, business_id = await bakery(app_client)
    store = app_client.services.store
    actor_id = await add_follower(store, business_id, "https://m.example/users/rude")
    blocked = await app_client.post(f"/api/v1/accounts/{actor_id}/block", headers=bearer(token))
    assert blocked.json()["blocking"] is True and blocked.json()["followed_by"] is False
    assert await moderation.blocking(store, "https://m.example/users/rude", business_id)
    listed = await app_client.get("/api/v1/blocks", headers=bearer(token))
    assert [a["id"] for a in listed.json()] == [str(actor_id)]
    unblocked = await app_client.post(f"/api/v1/accounts/{actor_id}/unblock", headers=bearer(token))
    assert unblocked.json()["blocking"] is False
    assert (await app_client.get("/api/v1/blocks", headers=bearer(token))).json() == []


async def test_domain_blocks_are_added_listed_and_removed(app_client):
    token, _business_id = await bakery(app_client)
    added = await app_client.post(
        "/api/v1/domain_blocks", data={"domain": "Spam.Example"}, headers=bearer(token)
    )
    assert added.status_code == 200 and added.json() == {}
    listed = await app_client.get("/api/v1/domain_blocks", headers=bearer(token))
    assert listed.json() == ["spam.example"]
    bad = await app_client.post("/api/v1/domain_blocks", data={"domain": ""}, headers=bearer(token))
    assert bad.status_code == 422 and "error" in bad.json()
    removed = await app_client.request(
        "DELETE", "/api/v1/domain_blocks?domain=spam.example", headers=bearer(token)
    )
    assert removed.status_code == 200
    assert (await app_client.get("/api/v1/domain_blocks", headers=bearer(token))).json() == []


async def test_blocks_need_a_token_with_the_blocks_scope(app_client):
    _owner, token = await business_with_token(app_client, scopes="read:statuses")
    answer = await app_client.get("/api/v1/blocks", headers=bearer(token))
    assert answer.status_code == 403 and "error" in answer.json()
    assert (await app_client.get("/api/v1/blocks")).status_code == 401


async def test_following_another_business_is_requested_then_undone(app_client):
    # Given the bakery's app and the florist here, which approves followers by hand
    token, business_id = await bakery(app_client)
    _other, florist_token = await business_with_token(app_client, "florist")
    await app_client.patch(
        "/api/v1/accounts/update_credentials",
        data={"locked": "true"},
        headers=bearer(florist_token),
    )
    florist = await app_client.get("/api/v1/accounts/lookup?acct=florist")
    florist_id = florist.json()["id"]

    # When the bakery follows it (twice: the second changes nothing)
    asked = await app_client.post(f"/api/v1/accounts/{florist_id}/follow", headers=bearer(token))
    again = await app_client.post(f"/api/v1/accounts/{florist_id}/follow", headers=bearer(token))
    # Then the follow is the owner API's: stored for the business, the Relationship says so
    assert asked.status_code == 200, asked.text
    relation = asked.json()
    assert relation["id"] == florist_id and (relation["requested"] or relation["following"])
    assert again.json()["requested"] == relation["requested"]
    store = app_client.services.store
    assert (
        await store.fetch_val(
            "SELECT COUNT(*) FROM following WHERE business_id = :b", {"b": business_id}
        )
        == 1
    )

    # When it unfollows
    ended = await app_client.post(f"/api/v1/accounts/{florist_id}/unfollow", headers=bearer(token))
    # Then nothing is left, and unfollowing again is fine
    assert ended.json()["following"] is False and ended.json()["requested"] is False
    again = await app_client.post(f"/api/v1/accounts/{florist_id}/unfollow", headers=bearer(token))
    assert again.status_code == 200
    unknown = await app_client.post("/api/v1/accounts/999/follow", headers=bearer(token))
    assert unknown.status_code == 404
    _o, reader = await business_with_token(app_client, "deli", scopes="read")
    refused = await app_client.post(f"/api/v1/accounts/{florist_id}/follow", headers=bearer(reader))
    assert refused.status_code == 403
