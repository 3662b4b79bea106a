"""The pure parts of offers and events: local times read in a zone (DST included), times
said as a shop sign says them, escaping in the Note's Markdown, map links, the AS2 Event."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from fedi_town.errors import Unprocessable
from fedi_town.protocol.events import (
    NOTE_LIMIT,
    EventInput,
    Place,
    event_document,
    event_note_source,
    md_escape,
    offer_note_source,
    price_text,
    wall_time,
    when_text,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


@pytest.mark.parametrize(
    ("raw", "zone", "expected"),
    [
        ("2026-12-12T10:00", BERLIN, "2026-12-12T10:00+01:00"),
        ("2026-07-04T10:00", BERLIN, "2026-07-04T10:00+02:00"),
        ("2026-07-04T10:00", NEW_YORK, "2026-07-04T10:00-04:00"),
        ("2026-11-02T10:00", NEW_YORK, "2026-11-02T10:00-05:00"),
        ("2026-12-12T10:00:00Z", BERLIN, "2026-12-12T10:00+00:00"),
        ("2026-12-12T10:00+05:30", BERLIN, "2026-12-12T10:00+05:30"),
    ],
)
def test_a_time_without_an_offset_is_read_on_the_shops_clock(raw, zone, expected):
    assert wall_time(raw, zone, "/start") == ms(expected)


@pytest.mark.parametrize("raw", ["tomorrow", "2026-12-12", "2026-12-32T10:00", "10:00", ""])
def test_what_is_not_a_date_and_time_is_refused_naming_the_field(raw):
    with pytest.raises(Unprocessable) as caught:
        wall_time(raw, BERLIN, "/end")
    assert caught.value.errors[0]["pointer"] == "/end"


@pytest.mark.parametrize(
    ("start", "end", "zone", "expected"),
    [
        ("2026-12-12T10:00+01:00", "2026-12-12T16:00+01:00", BERLIN, "Sat 12 Dec, 10:00–16:00 CET"),
        ("2026-07-04T10:00+02:00", "2026-07-04T16:00+02:00", BERLIN, "Sat 4 Jul, 10:00–16:00 CEST"),
        (
            "2026-12-12T22:00+01:00",
            "2026-12-13T02:00+01:00",
            BERLIN,
            "Sat 12 Dec, 22:00 – Sun 13 Dec, 02:00 CET",
        ),
        (
            "2027-01-09T10:00-05:00",
            "2027-01-09T12:00-05:00",
            NEW_YORK,
            "Sat 9 Jan 2027, 10:00–12:00 EST",
        ),
    ],
)
def test_times_are_said_in_the_shops_zone_with_the_year_only_when_not_this_one(
    start, end, zone, expected
):
    now = ms("2026-11-23T12:00+00:00")
    assert when_text(ms(start), ms(end), zone, now) == expected


def test_owner_text_in_short_fields_stays_text_in_markdown():
    assert md_escape("**Big** [sale](x) <b> & 3.50") == r"\*\*Big\*\* \[sale\]\(x\) \<b\> \& 3\.50"


def test_a_place_links_its_coordinates_or_else_searches_its_address():
    assert Place(latitude=52.5, longitude=13.4).map_url() == (
        "https://www.openstreetmap.org/?mlat=52.500000&mlon=13.400000#map=18/52.500000/13.400000"
    )
    searched = Place(name="Hall", street_address="1 High St", locality="Bristol").map_url()
    assert (
        searched
        == "https://www.openstreetmap.org/search?query=Hall%2C%201%20High%20St%2C%20Bristol"
    )
    assert Place(name="Somewhere").map_url() is None


def test_price_signs():
    assert price_text("3.50", "EUR") == "€3.50"
    assert price_text("12", "CHF") == "12 CHF"
    assert price_text(None, "EUR") is None


def test_a_long_text_is_cut_so_the_note_fits_and_the_links_stay():
    source = event_note_source(
        title="T",
        text="word " * 2000,
        starts_ms=ms("2026-12-12T10:00+01:00"),
        ends_ms=ms("2026-12-12T11:00+01:00"),
        tz=BERLIN,
        place=Place(name="Hall"),
        at_the_shop=False,
        page_url="https://t/p",
        ics_url="https://t/p.ics",
        now_ms=0,
    )
    assert len(source) <= NOTE_LIMIT
    assert source.endswith("[Add to calendar](<https://t/p.ics>)") and "…" in source


def test_an_offer_that_has_not_started_says_from_when():
    source = offer_note_source(
        title="Half price",
        text="",
        price=None,
        currency=None,
        valid_from_ms=ms("2026-12-01T08:00+01:00"),
        valid_until_ms=None,
        tz=BERLIN,
        page_url="https://t/o/1",
        now_ms=ms("2026-11-23T12:00+00:00"),
    )
    assert source == "**[Half price](<https://t/o/1>)**\n\nFrom: Tue 1 Dec, 08\\:00 CET"


def test_the_event_document_follows_fep_8a8e():
    doc = event_document(
        EventInput(
            id="https://t/users/b/events/1",
            url="https://t/@b/events/1",
            attributed_to="https://t/users/b",
            followers="https://t/users/b/followers",
            title="Market",
            content_html="<p>Hi</p>",
            starts_ms=ms("2026-12-12T10:00+01:00"),
            ends_ms=ms("2026-12-12T16:00+01:00"),
            timezone="Europe/Berlin",
            place=Place(name="Hall", locality="Berlin", latitude=52.5, longitude=13.4),
            published_ms=0,
            updated_ms=1000,
        )
    )
    assert doc["type"] == "Event" and doc["name"] == "Market"
    assert doc["@context"][0] == "https://www.w3.org/ns/activitystreams"
    assert (doc["startTime"], doc["endTime"]) == (
        "2026-12-12T10:00:00+01:00",
        "2026-12-12T16:00:00+01:00",
    )
    assert doc["timezone"] == "Europe/Berlin"
    assert doc["location"] == {
        "type": "Place",
        "name": "Hall",
        "address": {"type": "PostalAddress", "addressLocality": "Berlin"},
        "latitude": 52.5,
        "longitude": 13.4,
    }
    assert doc["organizers"]["items"] == ["https://t/users/b"]
    assert doc["updated"] == "1970-01-01T00:00:01Z" and "attachment" not in doc
