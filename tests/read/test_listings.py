"""Offers and events as visitors and peers see them: the AS2 Event (FEP-8a8e), the pages
with their schema.org JSON-LD, the calendar files, and what leaves when it is over. The
clock stands at 2026-11-23 12:00 UTC."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import icalendar
import pytest

from fedi_town.protocol.events import Place
from fedi_town.read.listings import schema_place
from fedi_town.store import businesses
from tests.conftest import create_business
from tests.outbound.conftest import image_bytes, owner, upload
from tests.read.helpers import AP, BROWSER

pytestmark = pytest.mark.anyio

MARKET = {
    "title": "Christmas market",
    "text": "Mulled wine & stollen. </script><script>alert(1)</script>",
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
    business = await create_business(clocked_client, "bakery")
    await businesses.update(
        clocked_client.services.store,
        int(business["id"]),
        {"timezone": "Europe/Berlin", "category": "Bakery"},
        now=0,
    )
    return business


async def new(client, shop, kind, body):
    response = await client.post(
        f"/api/v1/businesses/{shop['username']}/{kind}", json=body, headers=owner(shop)
    )
    assert response.status_code == 201, response.text
    return response.json()


def json_ld(html: str) -> dict:
    [found] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return json.loads(found)


async def test_a_peer_fetching_the_event_gets_an_as2_event_with_time_place_and_zone(
    clocked_client, shop
):
    image = (await upload(clocked_client, shop, image_bytes(), description="Stalls")).json()
    event = await new(clocked_client, shop, "events", MARKET | {"media_id": image["id"]})
    for address in (event["uri"], event["url"]):
        response = await clocked_client.get(address, headers=AP)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/activity+json")
        doc = response.json()
        assert doc["@context"][0] == "https://www.w3.org/ns/activitystreams"
        assert doc["id"] == event["uri"] and doc["type"] == "Event"
        assert doc["name"] == "Christmas market"
        assert doc["startTime"] == "2026-12-12T10:00:00+01:00"
        assert doc["endTime"] == "2026-12-12T16:00:00+01:00"
        assert doc["timezone"] == "Europe/Berlin"
        assert doc["attributedTo"] == "https://town.example/users/bakery"
        assert doc["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
        assert doc["url"] == event["url"]
        assert "&lt;/script&gt;" in doc["content"] and "<script" not in doc["content"]
        assert doc["location"] == {
            "type": "Place",
            "name": "Marktplatz",
            "address": {
                "type": "PostalAddress",
                "streetAddress": "Am Markt 1",
                "addressLocality": "Berlin",
                "postalCode": "10178",
                "addressCountry": "DE",
            },
            "latitude": 52.5163,
            "longitude": 13.4037,
        }
        assert doc["attachment"] == [
            {"type": "Image", "url": image["url"], "mediaType": "image/jpeg", "name": "Stalls"}
        ]
        context = doc["@context"][1]
        assert context["address"]["@id"] == "https://schema.org/address"


async def test_the_event_page_shows_the_local_time_the_map_link_and_escaped_json_ld(
    clocked_client, shop
):
    event = await new(clocked_client, shop, "events", MARKET)
    response = await clocked_client.get(event["url"], headers=BROWSER)
    assert response.status_code == 200
    html = response.text
    assert "Sat 12 Dec, 10:00–16:00 CET" in html
    assert 'href="https://www.openstreetmap.org/?mlat=52.516300&amp;mlon=13.403700' in html
    assert f'href="{event["ics"]}"' in html and "Add to calendar" in html
    assert f'<link rel="alternate" type="application/activity+json" href="{event["uri"]}">' in html
    # The owner's text cannot end the JSON-LD script or start another
    assert "<script>alert(1)" not in html
    data = json_ld(html)
    assert data["@context"] == "https://schema.org" and data["@type"] == "Event"
    assert data["name"] == "Christmas market"
    assert data["startDate"] == "2026-12-12T10:00:00+01:00"
    assert data["endDate"] == "2026-12-12T16:00:00+01:00"
    assert data["location"]["address"]["postalCode"] == "10178"
    assert data["location"]["geo"] == {
        "@type": "GeoCoordinates",
        "latitude": 52.5163,
        "longitude": 13.4037,
    }
    assert data["organizer"]["@type"] == "Bakery"
    assert "</script><script>alert(1)</script>" in data["description"]


async def test_the_ics_file_parses_back_with_the_zone_and_the_details(clocked_client, shop):
    event = await new(clocked_client, shop, "events", MARKET)
    response = await clocked_client.get(event["ics"])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(response.content)
    [vevent] = cal.walk("VEVENT")
    assert str(vevent["uid"]) == event["uri"]
    start = vevent.decoded("dtstart")
    assert start.isoformat() == "2026-12-12T10:00:00+01:00"
    assert vevent["dtstart"].params["TZID"] == "Europe/Berlin"
    assert vevent.decoded("dtend").isoformat() == "2026-12-12T16:00:00+01:00"
    assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert str(vevent["summary"]) == "Christmas market"
    assert str(vevent["location"]) == "Marktplatz, Am Markt 1, 10178 Berlin, DE"
    assert str(vevent["url"]) == event["url"]
    assert "Mulled wine & stollen." in str(vevent["description"])


async def test_the_business_calendar_lists_only_events_not_over(clocked_client, shop):
    soon = await new(clocked_client, shop, "events", MARKET | {"title": "Soon"})
    later = await new(
        clocked_client,
        shop,
        "events",
        MARKET | {"title": "Later", "start": "2027-01-09T10:00", "end": "2027-01-09T12:00"},
    )
    calendar_url = "/@bakery/events.ics"

    async def uids():
        cal = icalendar.Calendar.from_ical((await clocked_client.get(calendar_url)).content)
        return [str(e["uid"]) for e in cal.walk("VEVENT")]

    assert await uids() == [soon["uri"], later["uri"]]
    # When the first one is over, it leaves the calendar by itself
    clocked_client.services.clock.advance(timedelta(days=20))
    assert await uids() == [later["uri"]]


async def test_a_deleted_event_is_gone_for_peers_browsers_and_calendars(clocked_client, shop):
    event = await new(clocked_client, shop, "events", MARKET)
    await clocked_client.delete(
        f"/api/v1/businesses/bakery/events/{event['id']}", headers=owner(shop)
    )
    response = await clocked_client.get(event["uri"], headers=AP)
    assert response.status_code == 410 and response.json()["type"] == "Tombstone"
    assert (await clocked_client.get(event["url"], headers=BROWSER)).status_code == 410
    assert (await clocked_client.get(event["ics"])).status_code == 410
    cal = icalendar.Calendar.from_ical((await clocked_client.get("/@bakery/events.ics")).content)
    assert cal.walk("VEVENT") == []


async def test_unknown_events_and_offers_are_404(clocked_client, shop):
    for path in (
        "/@bakery/events/123",
        "/@bakery/events/123.ics",
        "/users/bakery/events/123",
        "/@bakery/offers/123",
        "/@bakery/offers/best",
        "/@nobody/events.ics",
    ):
        assert (await clocked_client.get(path, headers=BROWSER)).status_code == 404, path


async def test_the_offer_page_shows_price_and_end_with_offer_json_ld(clocked_client, shop):
    offer = await new(
        clocked_client,
        shop,
        "offers",
        {
            "title": "Stollen <half price>",
            "text": "While stocks last",
            "price": "6.50",
            "currency": "EUR",
            "valid_until": "2026-12-24T14:00",
        },
    )
    response = await clocked_client.get(offer["url"], headers=BROWSER)
    assert response.status_code == 200
    html = response.text
    assert "Stollen &lt;half price&gt;" in html
    assert "€6.50" in html and "Thu 24 Dec, 14:00 CET" in html
    data = json_ld(html)
    assert data["@type"] == "Offer" and data["name"] == "Stollen <half price>"
    assert data["price"] == "6.50" and data["priceCurrency"] == "EUR"
    assert data["validThrough"] == "2026-12-24T14:00:00+01:00"
    assert data["seller"] == {
        "@type": "Bakery",
        "name": "Corner Bakery",
        "url": "https://town.example/@bakery",
    }
    # Once it has ended the page says so; withdrawn, it is gone
    clocked_client.services.clock.advance(timedelta(days=40))
    assert "This offer has ended." in (await clocked_client.get(offer["url"])).text
    await clocked_client.delete(
        f"/api/v1/businesses/bakery/offers/{offer['id']}", headers=owner(shop)
    )
    assert (await clocked_client.get(offer["url"], headers=BROWSER)).status_code == 410


def test_an_event_place_in_json_ld_has_the_address_parts_given_and_its_coordinates():
    # Given a place with some address parts and coordinates, and one with a name only
    hall = Place(name="Hall", locality="Berlin", country="DE", latitude=52.5, longitude=13.4)
    # When each is said in schema.org terms
    # Then only the parts given appear, the coordinates as GeoCoordinates
    assert schema_place(hall) == {
        "@type": "Place",
        "name": "Hall",
        "address": {"@type": "PostalAddress", "addressLocality": "Berlin", "addressCountry": "DE"},
        "geo": {"@type": "GeoCoordinates", "latitude": 52.5, "longitude": 13.4},
    }
    assert schema_place(Place(name="Hall")) == {"@type": "Place", "name": "Hall"}
