"""The post announcing an offer or event: written with it, and an owner who
already deleted that post through the posts API can still change or withdraw the offer."""

from __future__ import annotations

import pytest

from tests.conftest import create_business
from tests.outbound.conftest import activities, add_follower, owner, table_count

pytestmark = pytest.mark.anyio

OFFER = {"title": "Buns", "valid_until": "2026-12-01T18:00:00Z"}


async def test_an_offer_whose_post_was_deleted_can_still_be_changed_and_withdrawn(
    clocked_client,
):
    shop = await create_business(clocked_client, "bakery")
    store = clocked_client.services.store
    await add_follower(store, shop["id"], "https://m.example/users/ann")
    base = "/api/v1/businesses/bakery"
    offer = (await clocked_client.post(f"{base}/offers", json=OFFER, headers=owner(shop))).json()
    # Given the owner deleted the announcing post by itself
    gone = await clocked_client.delete(f"{base}/posts/{offer['post_id']}", headers=owner(shop))
    assert gone.status_code == 204
    # When the offer is changed, then withdrawn
    changed = await clocked_client.patch(
        f"{base}/offers/{offer['id']}", json={"title": "Rolls"}, headers=owner(shop)
    )
    assert changed.status_code == 200 and changed.json()["title"] == "Rolls"
    withdrawn = await clocked_client.delete(f"{base}/offers/{offer['id']}", headers=owner(shop))
    assert withdrawn.status_code == 204
    # Then the deleted post is neither edited nor deleted again (the actor, which lists the
    # offer, is sent on each change: arrival, new title, withdrawal)
    updates = await activities(store, "Update")
    assert [u["object"]["type"] for u in updates] == ["Organization"] * 3
    assert len(await activities(store, "Delete")) == 1


async def test_an_unreachable_mention_stays_text_and_offer_and_post_are_written_together(
    clocked_client,
):
    shop = await create_business(clocked_client, "bakery")
    body = {"title": "For @nobody@127.0.0.1:9 only", "text": "x"}
    response = await clocked_client.post(
        "/api/v1/businesses/bakery/offers", json=body, headers=owner(shop)
    )
    assert response.status_code == 201, response.text
    assert await table_count(clocked_client.services.store, "offers") == 1
    assert await table_count(clocked_client.services.store, "posts") == 1
