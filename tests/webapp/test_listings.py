"""Offers and events pages: publish, change and withdraw through the offers and events API;
a refused date has its sentence next to the field (both backends)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from fedi_town.webapp.listings import when_words
from tests.conftest import admin_headers, create_business
from tests.webapp.kit import owner_of
from tests.webapp.test_business import error_next_to, input_tag, png, unlabelled

pytestmark = pytest.mark.anyio


def local(days: int, hour: int, minute: int = 0) -> str:
    """A datetime-local value ``days`` from now at ``hour``: what the browser sends."""
    moment = (datetime.now() + timedelta(days=days)).replace(hour=hour, minute=minute)
    return f"{moment:%Y-%m-%dT%H:%M}"


async def listed(app_client, plural: str) -> list[dict]:
    answer = await app_client.get(f"/api/v1/businesses/bakery/{plural}", headers=admin_headers())
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


async def post_content(app_client, post_id: str) -> int:
    answer = await app_client.get(
        f"/api/v1/businesses/bakery/posts/{post_id}", headers=admin_headers()
    )
    return answer.status_code


def edit_link(html: str, plural: str) -> str:
    found = re.search(rf'href="(/app/bakery/{plural}/\d+)"', html)
    assert found, f"no link to a {plural} form"
    return found.group(1)


async def test_an_offer_is_published_changed_and_withdrawn(app_client):
    # Given an owner with an earlier offer in pounds
    user = await owner_of(app_client, "bakery", timezone="Europe/London")
    await app_client.post(
        "/api/v1/businesses/bakery/offers",
        json={"title": "Old deal", "price": "1", "currency": "GBP"},
        headers=admin_headers(),
    )
    form = await user.get("/app/bakery/offers/new")
    assert 'value="GBP"' in input_tag(form.text, "currency")  # the last currency, ready
    # When she publishes an offer with a price typed the local way
    page = await user.submit(
        "/app/bakery/offers",
        {
            "title": "Two sourdough loaves",
            "text": "While they last.",
            "price": "6,00",
            "currency": "gbp",
            "valid_until": local(7, 18),
        },
        follow=True,
    )
    # Then the API has it, with a post to followers, and the list shows it running
    offer = (await listed(app_client, "offers"))[0]
    assert (offer["title"], offer["price"], offer["currency"]) == (
        "Two sourdough loaves",
        "6.00",
        "GBP",
    )
    assert offer["valid_until"].startswith(local(7, 18)) and offer["current"] is True
    assert offer["post_id"] and await post_content(app_client, offer["post_id"]) == 200
    assert "Published" in page.text and "Two sourdough loaves" in page.text
    # When she changes the title on its form
    form = await user.get(f"/app/bakery/offers/{offer['id']}")
    assert 'value="6.00"' in input_tag(form.text, "price")
    page = await user.submit(
        f"/app/bakery/offers/{offer['id']}",
        {
            "title": "Three sourdough loaves",
            "text": "While they last.",
            "price": "6.00",
            "currency": "GBP",
            "valid_until": local(7, 18),
        },
        follow=True,
    )
    # Then the API has the new title
    changed = (await listed(app_client, "offers"))[0]
    assert changed["title"] == "Three sourdough loaves"
    assert "Saved" in page.text
    # When she withdraws it
    await user.get(f"/app/bakery/offers/{offer['id']}")
    page = await user.submit(f"/app/bakery/offers/{offer['id']}/delete", {}, follow=True)
    # Then it and its post are gone
    assert [o["title"] for o in await listed(app_client, "offers")] == ["Old deal"]
    assert await post_content(app_client, offer["post_id"]) == 404
    assert "Withdrawn" in page.text


async def test_saving_an_offer_unchanged_sends_nothing(app_client):
    user = await owner_of(app_client, "bakery")
    made = await app_client.post(
        "/api/v1/businesses/bakery/offers", json={"title": "Buns"}, headers=admin_headers()
    )
    offer = made.json()
    await user.get(f"/app/bakery/offers/{offer['id']}")
    page = await user.submit(f"/app/bakery/offers/{offer['id']}", {"title": "Buns"}, follow=True)
    assert "Nothing changed." in page.text
    assert (await listed(app_client, "offers"))[0]["updated_at"] == offer["updated_at"]


async def test_an_offer_ending_in_the_past_is_refused_next_to_its_end(app_client):
    user = await owner_of(app_client, "bakery")
    await user.get("/app/bakery/offers/new")
    page = await user.submit(
        "/app/bakery/offers", {"title": "Late deal", "valid_until": "2020-01-01T10:00"}
    )
    assert page.status_code == 422
    assert error_next_to(page.text, "valid_until") == "The end has to be in the future."
    assert 'value="Late deal"' in input_tag(page.text, "title")
    assert await listed(app_client, "offers") == []
    # And a price without a currency asks for one
    page = await user.submit("/app/bakery/offers", {"title": "Deal", "price": "3.50"})
    assert error_next_to(page.text, "currency") == "A price needs a currency, like EUR."


async def test_an_event_is_published_elsewhere_changed_and_withdrawn(app_client):
    # Given an owner
    user = await owner_of(app_client, "bakery", timezone="Europe/Berlin")
    await user.get("/app/bakery/events/new")
    # When she publishes a tasting at the town hall
    page = await user.submit(
        "/app/bakery/events",
        {
            "title": "Bread tasting",
            "start": local(10, 10),
            "end": local(10, 16),
            "place_kind": "elsewhere",
            "place.name": "Town Hall",
            "place.locality": "Bristol",
            "place.country": "gb",
        },
        follow=True,
    )
    # Then the API has it, in the shop's zone, and the list shows it coming up
    event = (await listed(app_client, "events"))[0]
    assert event["start"].startswith(local(10, 10)) and event["timezone"] == "Europe/Berlin"
    assert event["place"] == {"name": "Town Hall", "locality": "Bristol", "country": "GB"}
    assert event["upcoming"] is True
    assert "Coming up" in page.text and "Bread tasting" in page.text
    assert "10:00–16:00" in page.text
    # When she moves it to the shop and makes it end later
    link = edit_link(page.text, "events")
    form = await user.get(link)
    assert 'value="Town Hall"' in input_tag(form.text, "place-name")
    await user.submit(
        link,
        {
            "title": "Bread tasting",
            "start": local(10, 10),
            "end": local(10, 18),
            "place_kind": "shop",
            "place.name": "Town Hall",
        },
    )
    changed = (await listed(app_client, "events"))[0]
    assert changed["end"].startswith(local(10, 18)) and changed["place"] is None
    # When she withdraws it
    await user.get(link)
    await user.submit(f"{link}/delete", {})
    assert await listed(app_client, "events") == []


async def test_an_event_ending_before_it_starts_is_refused_next_to_its_end(app_client):
    user = await owner_of(app_client, "bakery")
    await user.get("/app/bakery/events/new")
    page = await user.submit(
        "/app/bakery/events", {"title": "Tasting", "start": local(5, 16), "end": local(5, 10)}
    )
    assert page.status_code == 422
    assert error_next_to(page.text, "end") == "The end has to come after the start."
    assert f'value="{local(5, 16)}"' in input_tag(page.text, "start")
    # And a start left empty, and a place without a name
    page = await user.submit(
        "/app/bakery/events",
        {"title": "Tasting", "start": "", "end": local(5, 10), "place_kind": "shop"},
    )
    assert error_next_to(page.text, "start") == "Fill this in."
    page = await user.submit(
        "/app/bakery/events",
        {"title": "Tasting", "start": local(5, 9), "end": local(5, 10), "place_kind": "elsewhere"},
    )
    assert error_next_to(page.text, "place-name") == "Fill this in."
    assert await listed(app_client, "events") == []


async def test_an_offer_with_a_photo_keeps_it_when_the_rest_is_refused(app_client):
    user = await owner_of(app_client, "bakery")
    await user.get("/app/bakery/offers/new")
    page = await user.submit(
        "/app/bakery/offers",
        {"title": "Cake", "valid_until": "2020-01-01T00:00", "photo_description": "A cake"},
        files={"photo": ("cake.png", png(), "image/png")},
    )
    assert page.status_code == 422
    kept = re.search(r'name="photo.kept" value="(\d+)"', page.text)
    assert kept
    await user.submit("/app/bakery/offers", {"title": "Cake", "photo.kept": kept[1]})
    offer = (await listed(app_client, "offers"))[0]
    assert offer["media_id"] == kept[1] and offer["media"]["description"] == "A cake"
    # And its description can be changed on its own later
    form = await user.get(f"/app/bakery/offers/{offer['id']}")
    assert 'value="A cake"' in input_tag(form.text, "photo_description")
    page = await user.submit(
        f"/app/bakery/offers/{offer['id']}",
        {"title": "Cake", "photo_description": "A lemon cake on a plate"},
        follow=True,
    )
    assert "Photo description saved." in page.text
    offer = (await listed(app_client, "offers"))[0]
    assert offer["media"]["description"] == "A lemon cake on a plate"


async def test_another_business_offers_and_a_missing_one_are_not_found(app_client):
    user = await owner_of(app_client, "bakery")
    await create_business(app_client, "florist", display_name="Flowers")
    made = await app_client.post(
        "/api/v1/businesses/florist/events",
        json={"title": "Wreaths", "start": local(3, 10), "end": local(3, 12)},
        headers=admin_headers(),
    )
    other = made.json()["id"]
    await user.get("/app/bakery/offers")
    token = user.csrf()
    for answer in (
        await user.get("/app/florist/offers"),
        await user.get(f"/app/florist/events/{other}"),
        await user.get(f"/app/bakery/events/{other}"),
        await user.submit(f"/app/bakery/events/{other}/delete", {}, csrf=token),
        await user.get("/app/bakery/offers/123"),
    ):
        assert answer.status_code == 404
    assert len(await listed(app_client, "events")) == 0


async def test_every_input_of_the_offer_and_event_forms_has_a_label(app_client):
    user = await owner_of(app_client, "bakery")
    for path in ("/app/bakery/offers/new", "/app/bakery/events/new"):
        page = await user.get(path)
        assert page.status_code == 200
        assert unlabelled(page.text) == []
        assert page.text.count("<h1>") == 1


def test_times_are_said_as_on_a_shop_sign():
    assert when_words("2026-12-12T10:00:00+01:00", "2026-12-12T16:00:00+01:00") == (
        "Sat 12 Dec 2026, 10:00–16:00"
    )
    assert when_words("2026-12-31T22:00:00+01:00", "2027-01-01T02:00:00+01:00") == (
        "Thu 31 Dec 2026, 22:00 to Fri 1 Jan 2027, 02:00"
    )
    assert when_words(None, "2026-12-07T18:00:00+01:00", offer=True) == (
        "Until Mon 7 Dec 2026, 18:00"
    )
    assert when_words(None, None, offer=True) == "Until you withdraw it"
