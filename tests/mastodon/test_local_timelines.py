"""The local timeline and hashtag timelines of the instance's businesses."""

from __future__ import annotations

import pytest

from tests.mastodon.flow import bearer, business_with_token

pytestmark = pytest.mark.anyio


async def post(app_client, token: str, text: str, visibility: str = "public") -> dict:
    answer = await app_client.post(
        "/api/v1/statuses", json={"status": text, "visibility": visibility}, headers=bearer(token)
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_the_local_timeline_has_every_businesss_public_posts_newest_first(app_client):
    _b, bakery = await business_with_token(app_client, "bakery")
    _f, florist = await business_with_token(app_client, "florist")
    rye = await post(app_client, bakery, "Rye #bread")
    await post(app_client, bakery, "Staff only", "private")
    await post(app_client, bakery, "Quiet", "unlisted")
    tulips = await post(app_client, florist, "Tulips")
    first = await app_client.get("/api/v1/timelines/public?local=true&limit=1")
    assert [s["id"] for s in first.json()] == [tulips["id"]]
    assert first.json()[0]["account"]["acct"] == "florist"
    older = first.headers["link"].split(">")[0].lstrip("<")
    assert "local=true" in older
    rest = await app_client.get(older.replace("limit=1", "limit=5"))
    assert [s["id"] for s in rest.json()] == [rye["id"]]
    newer = await app_client.get(f"/api/v1/timelines/public?min_id={rye['id']}")
    assert [s["id"] for s in newer.json()] == [tulips["id"]]
    assert (await app_client.get("/api/v1/timelines/public?remote=true")).json() == []


async def test_a_hashtag_timeline_has_local_public_posts_with_it(app_client):
    _b, bakery = await business_with_token(app_client, "bakery")
    rye = await post(app_client, bakery, "Rye #Bread #sourdough")
    await post(app_client, bakery, "Spelt #bread", "unlisted")
    await post(app_client, bakery, "Cake #cake")
    tagged = await app_client.get("/api/v1/timelines/tag/bread")
    assert [s["id"] for s in tagged.json()] == [rye["id"]]
    none = await app_client.get("/api/v1/timelines/tag/bread?none[]=sourdough")
    assert none.json() == []


async def test_an_accounts_posts_filter_replies_media_and_pins(app_client):
    _b, token = await business_with_token(app_client, "bakery")
    first = await post(app_client, token, "Rye")
    reply = await app_client.post(
        "/api/v1/statuses",
        json={"status": "And spelt", "in_reply_to_id": first["id"]},
        headers=bearer(token),
    )
    assert reply.status_code == 200
    await app_client.post(f"/api/v1/statuses/{first['id']}/pin", headers=bearer(token))
    account = first["account"]["id"]
    path = f"/api/v1/accounts/{account}/statuses"
    no_replies = await app_client.get(f"{path}?exclude_replies=true")
    assert [s["id"] for s in no_replies.json()] == [first["id"]]
    pinned = await app_client.get(f"{path}?pinned=true")
    assert [s["id"] for s in pinned.json()] == [first["id"]]
    assert (await app_client.get(f"{path}?only_media=true")).json() == []
    newer = await app_client.get(f"{path}?since_id={first['id']}")
    assert [s["id"] for s in newer.json()] == [reply.json()["id"]]
    bad = await app_client.get(f"{path}?max_id=abc")
    assert bad.status_code == 400 and "error" in bad.json()
