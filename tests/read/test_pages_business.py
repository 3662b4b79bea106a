"""The profile page's business facts: open now, notice, hours, address, contact, and the same
read back by machines (schema.org JSON-LD through extruct, the h-card through mf2py)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import extruct
import mf2py
import pytest

from tests.conftest import create_business
from tests.read.helpers import BROWSER, insert_media, set_profile

pytestmark = pytest.mark.anyio

PAGE = "https://town.example/@bakery"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat")
#: A Berlin bakery open Monday to Saturday, 7 to 18, closed on Sunday.
BAKERY = {
    "category": "Bakery",
    "timezone": "Europe/Berlin",
    "hours": {**{d: [["07:00", "18:00"]] for d in WEEKDAYS}, "sun": []},
    "location": {
        "street_address": "Brotstraße 5",
        "locality": "Berlin",
        "postal_code": "10115",
        "country": "DE",
        "latitude": 52.5321,
        "longitude": 13.3849,
    },
    "phone": "+49 30 123 456",
    "email": "hello@bakery.example",
    "website": "https://bakery.example/",
    "price_range": "€",
}


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    """A wall time in Berlin in November 2026 (CET, UTC+1); the 23rd is a Monday."""
    return datetime(2026, 11, day, hour - 1, minute, tzinfo=UTC)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def text_of(html: str) -> str:
    """The page's visible words on one line (tags dropped, entities for & < > undone)."""
    body = html.split("<body>", 1)[1]
    plain = re.sub(r"<[^>]+>", " ", body)
    plain = plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(plain.replace("&#39;", "'").replace("&#34;", '"').split())


async def bakery_page(client: Any, **profile: Any) -> str:
    if not await _exists(client):
        await create_business(client, "bakery", summary="Bread & cake since 1920")
    await set_profile(client, "bakery", **{**BAKERY, **profile})
    response = await client.get("/@bakery", headers=BROWSER)
    assert response.status_code == 200
    html: str = response.text
    return html


async def _exists(client: Any) -> bool:
    return (await client.get("/@bakery", headers=BROWSER)).status_code == 200


def json_ld(html: str) -> dict[str, Any]:
    (found,) = extruct.extract(html, base_url=PAGE, syntaxes=["json-ld"])["json-ld"]
    document: dict[str, Any] = found
    return document


def h_card(html: str) -> dict[str, Any]:
    items = mf2py.parse(doc=html, url=PAGE)["items"]
    (card,) = [i for i in items if "h-card" in i["type"]]
    properties: dict[str, Any] = card["properties"]
    return properties


async def test_the_bakery_is_open_until_18_at_ten_in_the_morning(clocked_client, clock):
    # Given a Berlin bakery open 7-18, at 10:00 on a Monday in Berlin
    clock.now = berlin(23, 10)
    # When someone opens its page
    html = await bakery_page(clocked_client)
    page = text_of(html)
    # Then it says it is open until 18:00, with today's hours first in the week
    assert "Open now · until 18:00" in page
    assert "Opening hours Today 7:00–18:00 Tue 24 Nov 7:00–18:00" in page
    assert "Sun 29 Nov Closed" in page
    assert "Times in Europe/Berlin." in page
    # And its category, price range, address, map link and contact details
    assert "Bakery · €" in page
    assert "Brotstraße 5 10115 Berlin DE Map on OpenStreetMap" in page
    assert '10115</span> <span class="p-locality">Berlin' in html  # a space on screen too
    assert 'href="https://www.openstreetmap.org/?mlat=52.5321&amp;mlon=13.3849' in html
    assert "Phone +49 30 123 456 Email hello@bakery.example" in page


async def test_the_bakery_is_closed_at_seven_in_the_evening_and_opens_tomorrow(
    clocked_client, clock
):
    clock.now = berlin(23, 19)
    page = text_of(await bakery_page(clocked_client))
    assert "Closed · opens tomorrow 7:00" in page
    assert "Open now" not in page


async def test_saturday_evening_opens_on_monday_in_the_business_zone(clocked_client, clock):
    # 23:30 on Saturday in Berlin is already Sunday in Asia: the zone is the business's
    clock.now = berlin(28, 23, 30)
    page = text_of(await bakery_page(clocked_client))
    assert "Closed · opens Mon 7:00" in page
    assert "Today 7:00–18:00 Sun 29 Nov Closed" in page


async def test_a_special_day_shows_its_label_and_hours(clocked_client, clock):
    clock.now = berlin(23, 10)
    special = [
        {"start": "2026-11-25", "hours": [["10:00", "14:00"]], "label": "Market day"},
        {"start": "2026-11-26", "hours": [], "label": "Staff outing"},
    ]
    html = await bakery_page(clocked_client, special_hours=special)
    page = text_of(html)
    assert "Wed 25 Nov 10:00–14:00 · Market day" in page
    assert "Thu 26 Nov Closed · Staff outing" in page
    assert html.count('<tr class="special">') == 2


async def test_a_notice_shows_until_it_expires(clocked_client, clock):
    # Given a notice that ends at 11:00
    clock.now = berlin(23, 10)
    html = await bakery_page(
        clocked_client, notice_text="Sold out of rye today", notice_until=ms(berlin(23, 11))
    )
    # Then it shows before the bio
    page = text_of(html)
    assert "Notice: Sold out of rye today" in page
    assert page.index("Sold out of rye") < page.index("Bread & cake since 1920")
    # And at 11:00 it is gone by itself
    clock.advance(timedelta(hours=1))
    html = (await clocked_client.get("/@bakery", headers=BROWSER)).text
    assert "Sold out of rye" not in html
    assert 'class="notice"' not in html


async def test_the_json_ld_is_a_schema_org_bakery_with_its_hours_and_address(clocked_client, clock):
    clock.now = berlin(23, 10)
    special = [{"start": "2026-12-25", "end": "2026-12-26", "hours": [], "label": "Christmas"}]
    await create_business(clocked_client, "bakery", summary="Bread & cake since 1920")
    media_id = await insert_media(clocked_client, path="av/at/ar.png")
    document = json_ld(
        await bakery_page(clocked_client, special_hours=special, avatar_media_id=media_id)
    )
    assert document["@context"] == "https://schema.org"
    assert document["@type"] == "Bakery"
    assert document["name"] == "Corner Bakery"
    assert document["url"] == PAGE
    assert document["description"] == "Bread & cake since 1920"
    assert document["telephone"] == "+49 30 123 456"
    assert document["email"] == "hello@bakery.example"
    assert document["sameAs"] == "https://bakery.example/"
    assert document["priceRange"] == "€"
    assert document["image"] == "https://town.example/media/av/at/ar.png"
    assert document["address"] == {
        "@type": "PostalAddress",
        "streetAddress": "Brotstraße 5",
        "addressLocality": "Berlin",
        "postalCode": "10115",
        "addressCountry": "DE",
    }
    assert document["geo"] == {"@type": "GeoCoordinates", "latitude": 52.5321, "longitude": 13.3849}
    days = [f"https://schema.org/{d}day" for d in ("Mon", "Tues", "Wednes", "Thurs", "Fri")]
    assert document["openingHoursSpecification"] == [
        {
            "@type": "OpeningHoursSpecification",
            "opens": "07:00",
            "closes": "18:00",
            "dayOfWeek": [*days, "https://schema.org/Saturday"],
        },
        {
            "@type": "OpeningHoursSpecification",
            "opens": "00:00",
            "closes": "00:00",
            "validFrom": "2026-12-25",
            "validThrough": "2026-12-26",
            "name": "Christmas",
        },
    ]


async def test_the_h_card_names_the_business_its_address_and_contact(clocked_client, clock):
    clock.now = berlin(23, 10)
    await create_business(clocked_client, "bakery", summary="Bread & cake since 1920")
    media_id = await insert_media(clocked_client, path="av/at/ar.png")
    card = h_card(await bakery_page(clocked_client, avatar_media_id=media_id))
    assert card["name"] == ["Corner Bakery"]
    assert card["url"] == [PAGE, "https://bakery.example/"]
    assert card["uid"] == [PAGE]
    assert card["note"] == ["Bread & cake since 1920"]
    assert card["category"] == ["Bakery"]
    assert card["tel"] == ["+49 30 123 456"]
    assert card["email"] == ["mailto:hello@bakery.example"]
    assert [p["value"] for p in card["photo"]] == ["https://town.example/media/av/at/ar.png"]
    (adr,) = card["adr"]
    assert adr["type"] == ["h-adr"]
    assert adr["properties"] == {
        "street-address": ["Brotstraße 5"],
        "postal-code": ["10115"],
        "locality": ["Berlin"],
        "country-name": ["DE"],
    }
    (geo,) = card["geo"]
    assert geo["properties"] == {"latitude": ["52.5321"], "longitude": ["13.3849"]}


async def test_a_service_area_business_publishes_no_street_postal_code_or_coordinates(
    clocked_client, clock
):
    # Given a plumber who works around Berlin from home, with a full private address
    clock.now = berlin(23, 10)
    await create_business(clocked_client, "bakery", display_name="Pipe Fix")
    html = await bakery_page(
        clocked_client,
        category="Plumber",
        service_area="Berlin and 20 km around",
        address="Brotstraße 5, 10115 Berlin",
    )
    # Then neither the page, nor its JSON-LD, nor its h-card says where they live
    for private in ("Brotstraße", "10115", "52.53", "13.38", "mlat"):
        assert private not in html
    page = text_of(html)
    assert "Area served Berlin and 20 km around" in page
    assert "Based in Berlin DE" in page
    document = json_ld(html)
    assert document["@type"] == "Plumber"
    assert document["areaServed"] == "Berlin and 20 km around"
    assert document["address"] == {
        "@type": "PostalAddress",
        "addressLocality": "Berlin",
        "addressCountry": "DE",
    }
    assert "geo" not in document
    card = h_card(html)
    assert card["adr"][0]["properties"] == {"locality": ["Berlin"], "country-name": ["DE"]}
    assert "geo" not in card


async def test_a_business_without_structured_data_has_no_facts_boxes(clocked_client):
    await create_business(clocked_client, "bakery", summary="Just bread")
    html = (await clocked_client.get("/@bakery", headers=BROWSER)).text
    for absent in ("<script", "hours-box", "fields contact", 'class="notice"', "category"):
        assert absent not in html
    assert h_card(html)["name"] == ["Corner Bakery"]


async def test_the_website_phone_and_old_address_show_once(clocked_client):
    # Given a business with only the older free-text profile
    await create_business(
        clocked_client,
        "bakery",
        website="https://bakery.example/",
        phone="030 123",
        address="Brotstraße 5, Berlin",
        fields=[{"name": "Since", "value": "1920"}],
    )
    html = (await clocked_client.get("/@bakery", headers=BROWSER)).text
    page = text_of(html)
    # Then each shows once, the website as a verifiable rel=me link, the phone callable
    assert page.count("https://bakery.example/") == 1
    assert page.count("030 123") == 1
    assert "Address Brotstraße 5, Berlin" in page
    assert "Since 1920" in page
    assert 'rel="me nofollow noopener noreferrer"' in html
    assert '<a href="tel:030123">030 123</a>' in html


@pytest.mark.parametrize(
    "name", ["Tom & Jerry's <Bakery>", "</script><script>alert(1)</script><!--"]
)
async def test_names_with_markup_characters_read_back_equal(clocked_client, clock, name):
    clock.now = berlin(23, 10)
    await create_business(clocked_client, "bakery", display_name=name)
    html = await bakery_page(clocked_client, notice_text=f"{name} & more")
    # Then the raw page never contains them as markup
    assert "<Bakery>" not in html and "<script>alert" not in html
    assert html.count("</script>") == 1  # the JSON-LD's own end
    # And every reader gets the name back exactly
    assert json_ld(html)["name"] == name
    assert h_card(html)["name"] == [name]
    assert f"Notice: {name} & more" in text_of(html)
    script = html.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert json.loads(script)["name"] == name


async def test_the_page_lists_current_offers_and_upcoming_events_until_they_pass(
    clocked_client, clock
):
    # Given a bakery in London with an offer until Sat 5 Dec and an event on Sat 12 Dec
    client = clocked_client
    shop = await create_business(client, "bakery", timezone="Europe/London")
    auth = {"Authorization": f"Bearer {shop['owner_token']}"}
    offer = await client.post(
        "/api/v1/businesses/bakery/offers",
        json={
            "title": "Two loaves & a bun",
            "price": "5.00",
            "currency": "GBP",
            "valid_until": "2026-12-05T18:00",
        },
        headers=auth,
    )
    event = await client.post(
        "/api/v1/businesses/bakery/events",
        json={"title": "Christmas market", "start": "2026-12-12T10:00", "end": "2026-12-12T16:00"},
        headers=auth,
    )
    assert offer.status_code == event.status_code == 201, (offer.text, event.text)
    # When the page is opened now
    html = (await client.get("/@bakery", headers=BROWSER)).text
    # Then both are listed with their times in the shop's zone, the event with its calendar
    assert "Two loaves &amp; a bun" in html
    assert "£5.00 · until Sat 5 Dec, 18:00 GMT" in html
    assert "Christmas market" in html and "Sat 12 Dec, 10:00–16:00 GMT" in html
    assert f'href="https://town.example/@bakery/events/{event.json()["id"]}.ics"' in html

    # When the offer has expired, and then the event is over
    # (their announcing posts stay in the timeline; the listing is what passes)
    def listed(page: str) -> str:
        found = re.search(r'<section class="listings".*?</section>', page, re.S)
        return found.group(0) if found else ""

    clock.advance(timedelta(days=13))
    html = (await client.get("/@bakery", headers=BROWSER)).text
    assert "Two loaves" not in listed(html) and "Christmas market" in listed(html)
    clock.advance(timedelta(days=7))
    html = (await client.get("/@bakery", headers=BROWSER)).text
    assert listed(html) == ""


async def test_a_us_address_reads_town_state_and_zip_on_one_line_and_parses_as_an_h_card(
    app_client,
):
    await create_business(app_client, "bakery")
    location = {
        "street_address": "1 Main Street",
        "locality": "Smallville",
        "region": "KS",
        "postal_code": "66002",
        "country": "US",
    }
    await set_profile(app_client, "bakery", location=location)
    html = (await app_client.get("/@bakery", headers=BROWSER)).text
    text = re.sub(r"<[^>]+>", "", html)
    assert "Smallville, KS 66002" in text
    card = mf2py.parse(doc=html, url="https://town.example/@bakery")["items"][0]
    adr = card["properties"]["adr"][0]["properties"]
    assert (adr["locality"], adr["region"], adr["postal-code"]) == (
        ["Smallville"],
        ["KS"],
        ["66002"],
    )
