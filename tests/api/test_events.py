"""The owner API of events: round trips, the post followers get (as Mastodon renders it),
edits and deletes reaching them, bad input refused with nothing written, other owners
refused. The clock stands at 2026-11-23 12:00 UTC."""

from __future__ import annotations

import pytest

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

BERLIN_MARKET = {
    "title": "Christmas market <stall>",
    "text": "Mulled wine & **stollen**.",
    "start": "2026-12-12T10:00",
    "end": "2026-12-12T16:00",
    "place": {
        "name": "Marktplatz",
        "street_address": "Am Markt 1",
        "locality": "Berlin",
        "postal_code": "10178",
        "country": "DE",
        "latitude": 52.5163,
        "longitude": 13.4037,
    },
}


@pytest.fixture
async def shop(clocked_client):
    """A business in Berlin's zone with a follower and an address of its own."""
    business = await create_business(clocked_client, "bakery")
    store = clocked_client.services.store
    await businesses.update(
        store,
        int(business["id"]),
        {
            "timezone": "Europe/Berlin",
            "location": {
                "street_address": "Brotgasse 2",
                "locality": "Berlin",
                "latitude": 52.52,
                "longitude": 13.40,
            },
        },
        now=0,
    )
    await add_follower(store, business["id"], "https://m.example/users/ann")
    return business


async def note_updates(store):
    """The Update{Note} activities queued (the actor's own Updates left out)."""
    return [u for u in await activities(store, "Update") if u["object"]["type"] == "Note"]


def url(shop, rest=""):
    return f"/api/v1/businesses/{shop['username']}/events{rest}"


async def test_a_new_event_reads_back_the_same_and_its_local_times_keep_the_zone(
    clocked_client, shop
):
    # Given an image to show
    image = (await upload(clocked_client, shop, image_bytes(), description="Stall")).json()
    # When the owner writes an event with local times and a place
    response = await clocked_client.post(
        url(shop), json=BERLIN_MARKET | {"media_id": image["id"]}, headers=owner(shop)
    )
    assert response.status_code == 201, response.text
    event = response.json()
    # Then the times were read on Berlin's clock and come back with its offset
    assert event["start"] == "2026-12-12T10:00:00+01:00"
    assert event["end"] == "2026-12-12T16:00:00+01:00"
    assert event["timezone"] == "Europe/Berlin"
    assert event["place"]["name"] == "Marktplatz" and event["place"]["country"] == "DE"
    assert event["media"]["id"] == image["id"] and event["upcoming"] is True
    assert event["uri"] == f"https://town.example/users/bakery/events/{event['id']}"
    # And reading it back gives the same answer, byte for byte
    again = await clocked_client.get(response.headers["location"], headers=owner(shop))
    assert again.content == response.content
    listed = await clocked_client.get(url(shop), headers=owner(shop))
    assert listed.json()["items"] == [event]


async def test_followers_get_a_note_that_says_what_when_where_as_mastodon_shows_it(
    clocked_client, shop
):
    # When the owner publishes an event
    response = await clocked_client.post(url(shop), json=BERLIN_MARKET, headers=owner(shop))
    event = response.json()
    # Then one public Create{Note} goes to the follower, the post is linked from the event
    [create] = await activities(clocked_client.services.store, "Create")
    note = create["object"]
    assert note["type"] == "Note" and note["id"].endswith(f"/statuses/{event['post_id']}")
    assert "https://www.w3.org/ns/activitystreams#Public" in note["to"]
    html = note["content"]
    # And its HTML, in the tags Mastodon keeps, says what (escaped), when in Berlin time,
    # where with a map link, and links the page and the calendar file
    assert '<strong><a href="https://town.example/@bakery/events/' in html
    assert "Christmas market &lt;stall&gt;" in html
    assert "Sat 12 Dec, 10:00–16:00 CET" in html
    assert (
        'href="https://www.openstreetmap.org/?mlat=52.516300&amp;mlon=13.403700'
        '#map=18/52.516300/13.403700"' in html
    )
    assert "Marktplatz, Am Markt 1, 10178 Berlin, DE" in html
    assert f'href="https://town.example/@bakery/events/{event["id"]}.ics"' in html
    assert "Mulled wine &amp; <strong>stollen</strong>." in html
    assert "<img" not in html and "<h" not in html


async def test_an_event_at_the_shop_says_so_with_the_shops_address(clocked_client, shop):
    body = BERLIN_MARKET | {"place": None, "title": "Tasting"}
    response = await clocked_client.post(url(shop), json=body, headers=owner(shop))
    assert response.status_code == 201, response.text
    [create] = await activities(clocked_client.services.store, "Create")
    html = create["object"]["content"]
    assert 'Where: <a href="https://www.openstreetmap.org/?mlat=52.520000' in html
    assert ">at the shop, Brotgasse 2, Berlin</a>" in html


async def test_an_image_is_attached_to_the_note(clocked_client, shop):
    image = (await upload(clocked_client, shop, image_bytes(), description="Stall")).json()
    body = BERLIN_MARKET | {"media_id": image["id"]}
    await clocked_client.post(url(shop), json=body, headers=owner(shop))
    [create] = await activities(clocked_client.services.store, "Create")
    [attachment] = create["object"]["attachment"]
    assert attachment["url"] == image["url"] and attachment["name"] == "Stall"


async def test_an_edit_updates_the_note_and_a_delete_deletes_it(clocked_client, shop):
    event = (await clocked_client.post(url(shop), json=BERLIN_MARKET, headers=owner(shop))).json()
    # When the owner moves it by an hour
    response = await clocked_client.patch(
        url(shop, f"/{event['id']}"), json={"end": "2026-12-12T17:00"}, headers=owner(shop)
    )
    assert response.status_code == 200, response.text
    assert response.json()["end"] == "2026-12-12T17:00:00+01:00"
    assert response.json()["start"] == event["start"]
    # Then the follower gets an Update of the same Note with the new time
    store = clocked_client.services.store
    [update] = await note_updates(store)
    assert update["object"]["id"].endswith(f"/statuses/{event['post_id']}")
    assert "10:00–17:00 CET" in update["object"]["content"]
    # When the owner deletes it, the follower gets a Delete and it is gone from the API
    gone = await clocked_client.delete(url(shop, f"/{event['id']}"), headers=owner(shop))
    assert gone.status_code == 204
    [delete] = await activities(store, "Delete")
    assert delete["object"]["id"] == update["object"]["id"]
    missing = await clocked_client.get(url(shop, f"/{event['id']}"), headers=owner(shop))
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        (BERLIN_MARKET | {"end": "2026-12-12T09:00"}, "/end"),
        (BERLIN_MARKET | {"end": "2026-12-12T10:00"}, "/end"),
        (BERLIN_MARKET | {"start": "2026-11-01T10:00", "end": "2026-11-02T10:00"}, "/end"),
        (BERLIN_MARKET | {"start": "next saturday"}, "/start"),
        (BERLIN_MARKET | {"start": "2026-12-12"}, "/start"),
        (BERLIN_MARKET | {"end": "2026-13-12T10:00"}, "/end"),
        (BERLIN_MARKET | {"title": "   "}, "/title"),
        (BERLIN_MARKET | {"title": "x" * 201}, "/title"),
        (BERLIN_MARKET | {"text": "x" * 5001}, "/text"),
        (BERLIN_MARKET | {"place": BERLIN_MARKET["place"] | {"latitude": 91}}, "/place/latitude"),
        (
            BERLIN_MARKET | {"place": BERLIN_MARKET["place"] | {"longitude": -180.5}},
            "/place/longitude",
        ),
        (BERLIN_MARKET | {"place": {"name": "Hall", "latitude": 52.0}}, "/place/longitude"),
        (BERLIN_MARKET | {"place": {"street_address": "No name"}}, "/place"),
        (
            BERLIN_MARKET | {"place": BERLIN_MARKET["place"] | {"country": "Germany"}},
            "/place/country",
        ),
        (BERLIN_MARKET | {"media_id": "12345"}, "/media_id"),
        (BERLIN_MARKET | {"colour": "red"}, ""),
        ({"title": "No times"}, ""),
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
    for table in ("events", "posts", "outgoing_activities", "deliveries"):
        assert await table_count(store, table) == 0


async def test_a_bad_change_leaves_the_event_and_its_post_as_they_were(clocked_client, shop):
    event = (await clocked_client.post(url(shop), json=BERLIN_MARKET, headers=owner(shop))).json()
    for body, pointer in [
        ({"start": "2026-12-12T18:00"}, "/end"),
        ({"place": {"name": "Ship", "latitude": 100, "longitude": 0}}, "/place/latitude"),
        ({}, ""),
    ]:
        response = await clocked_client.patch(
            url(shop, f"/{event['id']}"), json=body, headers=owner(shop)
        )
        assert response.status_code == 422, response.text
        assert any(e["pointer"].startswith(pointer) for e in response.json()["errors"])
    after = await clocked_client.get(url(shop, f"/{event['id']}"), headers=owner(shop))
    assert after.json() == event
    assert await note_updates(clocked_client.services.store) == []


async def test_another_owner_can_neither_see_nor_change_my_events(clocked_client, shop):
    event = (await clocked_client.post(url(shop), json=BERLIN_MARKET, headers=owner(shop))).json()
    cafe = await create_business(clocked_client, "cafe")
    for method in ("get", "patch", "delete"):
        kwargs = {"json": {"title": "Mine"}} if method == "patch" else {}
        response = await getattr(clocked_client, method)(
            url(shop, f"/{event['id']}"), headers=owner(cafe), **kwargs
        )
        assert response.status_code == 404
    # Nor reach it through their own business
    response = await clocked_client.get(
        f"/api/v1/businesses/cafe/events/{event['id']}", headers=owner(cafe)
    )
    assert response.status_code == 404


async def test_another_businesss_image_cannot_be_used(clocked_client, shop):
    cafe = await create_business(clocked_client, "cafe")
    image = (await upload(clocked_client, cafe, image_bytes())).json()
    body = BERLIN_MARKET | {"media_id": image["id"]}
    response = await clocked_client.post(url(shop), json=body, headers=owner(shop))
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/media_id"
