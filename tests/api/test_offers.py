"""The owner API of offers: round trips, the post followers get (as Mastodon renders it),
edits and deletes reaching them, bad input refused with nothing written, other owners
refused. The clock stands at 2026-11-23 12:00 UTC."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fedi_town.outbound import profile
from fedi_town.store import businesses
from tests.conftest import create_business
from tests.outbound.conftest import (
    activities,
    add_follower,
    image_bytes,
    owner,
    table_count,
    upload,
)

pytestmark = pytest.mark.anyio

LOAVES = {
    "title": "Two loaves for £5",
    "text": "Any **two** loaves.",
    "price": "5.00",
    "currency": "GBP",
    "valid_from": "2026-11-20T07:00",
    "valid_until": "2026-12-05T18:00",
}


@pytest.fixture
async def shop(clocked_client):
    """A business in London's zone with a follower."""
    business = await create_business(clocked_client, "bakery")
    store = clocked_client.services.store
    await businesses.update(store, int(business["id"]), {"timezone": "Europe/London"}, now=0)
    await add_follower(store, business["id"], "https://m.example/users/ann")
    return business


async def note_updates(store):
    """The Update{Note} activities queued (the actor's own Updates left out)."""
    return [u for u in await activities(store, "Update") if u["object"]["type"] == "Note"]


def url(shop, rest=""):
    return f"/api/v1/businesses/{shop['username']}/offers{rest}"


async def test_a_new_offer_reads_back_the_same(clocked_client, shop):
    image = (await upload(clocked_client, shop, image_bytes())).json()
    response = await clocked_client.post(
        url(shop), json=LOAVES | {"media_id": image["id"]}, headers=owner(shop)
    )
    assert response.status_code == 201, response.text
    offer = response.json()
    assert offer["valid_until"] == "2026-12-05T18:00:00+00:00"
    assert offer["price"] == "5.00" and offer["currency"] == "GBP"
    assert offer["current"] is True and offer["media"]["id"] == image["id"]
    assert offer["url"] == f"https://town.example/@bakery/offers/{offer['id']}"
    again = await clocked_client.get(response.headers["location"], headers=owner(shop))
    assert again.content == response.content
    listed = await clocked_client.get(url(shop), headers=owner(shop))
    assert listed.json()["items"] == [offer]


async def test_followers_get_a_note_with_the_price_and_the_end_in_the_shops_zone(
    clocked_client, shop
):
    offer = (await clocked_client.post(url(shop), json=LOAVES, headers=owner(shop))).json()
    [create] = await activities(clocked_client.services.store, "Create")
    html = create["object"]["content"]
    assert create["object"]["id"].endswith(f"/statuses/{offer['post_id']}")
    assert f'<strong><a href="https://town.example/@bakery/offers/{offer["id"]}"' in html
    assert "Two loaves for £5" in html
    assert "Price: £5.00" in html
    assert "Valid until: Sat 5 Dec, 18:00 GMT" in html
    assert "From:" not in html  # it has started already
    assert "Any <strong>two</strong> loaves." in html


async def test_an_edit_updates_the_note_and_a_delete_deletes_it(clocked_client, shop):
    offer = (await clocked_client.post(url(shop), json=LOAVES, headers=owner(shop))).json()
    response = await clocked_client.patch(
        url(shop, f"/{offer['id']}"), json={"price": "4.50"}, headers=owner(shop)
    )
    assert response.status_code == 200, response.text
    assert response.json()["price"] == "4.50" and response.json()["currency"] == "GBP"
    store = clocked_client.services.store
    [update] = await note_updates(store)
    assert "Price: £4.50" in update["object"]["content"]
    assert (
        await clocked_client.delete(url(shop, f"/{offer['id']}"), headers=owner(shop))
    ).status_code == 204
    [delete] = await activities(store, "Delete")
    assert delete["object"]["id"] == update["object"]["id"]
    listed = await clocked_client.get(url(shop), headers=owner(shop))
    assert listed.json()["items"] == []


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        (LOAVES | {"valid_until": "2026-11-01T18:00"}, "/valid_until"),
        (LOAVES | {"valid_until": "2026-11-23T12:00:00Z"}, "/valid_until"),
        (LOAVES | {"valid_from": "2026-12-06T07:00"}, "/valid_until"),
        (LOAVES | {"valid_until": "soon"}, "/valid_until"),
        (LOAVES | {"valid_from": "2026-02-30T07:00"}, "/valid_from"),
        (LOAVES | {"price": "5,00"}, "/price"),
        (LOAVES | {"price": "-1"}, "/price"),
        (LOAVES | {"currency": "gbp"}, "/currency"),
        (LOAVES | {"currency": None}, "/currency"),
        (LOAVES | {"title": ""}, "/title"),
        (LOAVES | {"title": " \n "}, "/title"),
        (LOAVES | {"title": "x" * 201}, "/title"),
        (LOAVES | {"text": "x" * 5001}, "/text"),
        (LOAVES | {"media_id": "999"}, "/media_id"),
        (LOAVES | {"media_id": "x"}, "/media_id"),
        ({"text": "no title"}, ""),
    ],
)
async def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    clocked_client, shop, body, pointer
):
    response = await clocked_client.post(url(shop), json=body, headers=owner(shop))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert any(e["pointer"].startswith(pointer) for e in response.json()["errors"])
    store = clocked_client.services.store
    for table in ("offers", "posts", "outgoing_activities", "deliveries"):
        assert await table_count(store, table) == 0


async def test_a_bad_change_leaves_the_offer_and_its_post_as_they_were(clocked_client, shop):
    offer = (await clocked_client.post(url(shop), json=LOAVES, headers=owner(shop))).json()
    for body, pointer in [
        ({"valid_until": "2026-11-22T12:00"}, "/valid_until"),
        ({"currency": None}, "/currency"),
        ({"price": "abc"}, "/price"),
    ]:
        response = await clocked_client.patch(
            url(shop, f"/{offer['id']}"), json=body, headers=owner(shop)
        )
        assert response.status_code == 422, response.text
        assert any(e["pointer"].startswith(pointer) for e in response.json()["errors"])
    after = await clocked_client.get(url(shop, f"/{offer['id']}"), headers=owner(shop))
    assert after.json() == offer
    assert await note_updates(clocked_client.services.store) == []
    [actor] = await activities(clocked_client.services.store, "Update")  # the offer's arrival
    assert actor["object"]["type"] == "Organization"


async def test_an_image_used_by_a_post_cannot_be_taken_by_an_offer(clocked_client, shop):
    image = (await upload(clocked_client, shop, image_bytes())).json()
    post = await clocked_client.post(
        f"/api/v1/businesses/{shop['username']}/posts",
        json={"content": "Bread", "media_ids": [image["id"]]},
        headers=owner(shop),
    )
    assert post.status_code == 201
    response = await clocked_client.post(
        url(shop), json=LOAVES | {"media_id": image["id"]}, headers=owner(shop)
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/media_id"
    assert await table_count(clocked_client.services.store, "offers") == 0


async def test_another_owner_can_neither_see_nor_change_my_offers(clocked_client, shop):
    offer = (await clocked_client.post(url(shop), json=LOAVES, headers=owner(shop))).json()
    cafe = await create_business(clocked_client, "cafe")
    for method in ("get", "patch", "delete"):
        kwargs = {"json": {"title": "Mine"}} if method == "patch" else {}
        response = await getattr(clocked_client, method)(
            url(shop, f"/{offer['id']}"), headers=owner(cafe), **kwargs
        )
        assert response.status_code == 404
    assert (await clocked_client.get(url(shop), headers=owner(cafe))).status_code == 404


async def test_the_actor_shows_the_offer_until_it_expires_and_followers_hear_both(
    clocked_client, shop, clock
):
    # Given an offer valid until Sat 5 Dec 18:00 London time
    offer = (await clocked_client.post(url(shop), json=LOAVES, headers=owner(shop))).json()
    store = clocked_client.services.store
    # Then followers get the actor with the offer linked, after the contact fields
    [update] = await activities(store, "Update")
    assert update["object"]["type"] == "Organization"
    fields = {f["name"]: f["value"] for f in update["object"]["attachment"]}
    assert fields["Offer"] == (
        f'<a href="https://town.example/@bakery/offers/{offer["id"]}">Two loaves for £5</a>'
        " · £5.00 · until Sat 5 Dec, 18:00 GMT"
    )
    # When the offer has expired and the worker looks
    clock.advance(timedelta(days=13))
    assert await profile.refresh_due_profiles(clocked_client.services) == 1
    # Then the actor sent last has no offer any more, and nothing more goes out
    last = (await activities(store, "Update"))[-1]
    assert "Offer" not in [f["name"] for f in last["object"]["attachment"]]
    clock.advance(timedelta(days=1))
    assert await profile.refresh_due_profiles(clocked_client.services) == 0
