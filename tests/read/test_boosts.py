"""A business's boost is served at its id as it was sent; taken back, 404."""

from __future__ import annotations

import pytest

from tests.outbound.conftest import owner, write_post

pytestmark = pytest.mark.anyio

AP_JSON = {"Accept": "application/activity+json"}


async def test_a_boost_is_served_at_its_id_until_taken_back(app_client, bakery):
    post = (await write_post(app_client, bakery, content="Rye today")).json()
    boost = await app_client.post(
        "/api/v1/businesses/bakery/boosts", json={"object": post["uri"]}, headers=owner(bakery)
    )
    activity = boost.json()["activity"]
    urls = app_client.services.urls

    served = await app_client.get(activity, headers=AP_JSON)

    assert served.status_code == 200
    assert served.headers["content-type"].startswith("application/activity+json")
    document = served.json()
    assert document["id"] == activity
    assert document["type"] == "Announce"
    assert document["actor"] == urls.actor("bakery")
    assert document["object"] == post["uri"]
    assert document["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    assert document["cc"] == [urls.actor("bakery"), urls.followers("bakery")]

    await app_client.delete(
        "/api/v1/businesses/bakery/boosts", params={"object": post["uri"]}, headers=owner(bakery)
    )
    assert (await app_client.get(activity, headers=AP_JSON)).status_code == 404


async def test_an_unknown_or_malformed_boost_id_is_404(app_client, bakery):
    base = app_client.services.urls.actor("bakery")
    for tail in ("123", "x", "99999999999999999999999"):
        assert (await app_client.get(f"{base}/boosts/{tail}", headers=AP_JSON)).status_code == 404
    nobody = app_client.services.urls.actor("nobody")
    assert (await app_client.get(f"{nobody}/boosts/1", headers=AP_JSON)).status_code == 404


async def test_the_outbox_counts_and_lists_boosts_with_posts(app_client, bakery):
    post = (await write_post(app_client, bakery, content="Rye today")).json()
    boost = await app_client.post(
        "/api/v1/businesses/bakery/boosts", json={"object": post["uri"]}, headers=owner(bakery)
    )
    outbox = app_client.services.urls.outbox("bakery")
    collection = await app_client.get(outbox, headers=AP_JSON)
    assert collection.json()["totalItems"] == 2
    page = await app_client.get(outbox + "?page=1", headers=AP_JSON)
    items = page.json()["orderedItems"]
    assert [i["type"] for i in items] == ["Announce", "Create"]
    assert items[0]["id"] == boost.json()["activity"]
    assert items[1]["object"]["id"] == post["uri"]
