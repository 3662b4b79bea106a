"""business.schema_org: a business as schema.org LocalBusiness, hours in Google's conventions."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from fedi_town.business.hours import Schedule
from fedi_town.business.schema_org import (
    local_business,
    opening_hours_specification,
    postal_address,
    script_text,
)

MON, TUE, WED, THU, FRI, SAT, SUN = (
    f"https://schema.org/{d}"
    for d in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
)
SHOP = {
    "street_address": "1 High Street",
    "locality": "Bristol",
    "region": "England",
    "postal_code": "BS1 4DJ",
    "country": "GB",
    "latitude": 51.4545,
    "longitude": -2.5879,
}


def week(**days: list[list[str]]) -> Schedule:
    return Schedule.from_values(days, None, "Europe/Berlin")


def spec(
    hours: dict[str, Any], special: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    return opening_hours_specification(Schedule.from_values(hours, special, "Europe/Berlin"))


def weekly(opens: str, closes: str, *days: str) -> dict[str, Any]:
    return {
        "@type": "OpeningHoursSpecification",
        "opens": opens,
        "closes": closes,
        "dayOfWeek": list(days),
    }


def dated(opens: str, closes: str, start: str, end: str, **extra: str) -> dict[str, Any]:
    return {
        "@type": "OpeningHoursSpecification",
        "opens": opens,
        "closes": closes,
        "validFrom": start,
        "validThrough": end,
        **extra,
    }


WEEKDAYS = {d: [["07:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


@pytest.mark.parametrize(
    ("hours", "special", "expected"),
    [
        pytest.param({}, None, [], id="no hours, no entries"),
        pytest.param(
            {**WEEKDAYS, "sat": [["08:00", "13:00"]], "sun": []},
            None,
            [weekly("07:00", "18:00", MON, TUE, WED, THU, FRI), weekly("08:00", "13:00", SAT)],
            id="days with the same hours merge; a closed day is absent",
        ),
        pytest.param(
            {"mon": [["07:00", "12:30"], ["14:00", "18:00"]], "tue": [["07:00", "12:30"]]},
            None,
            [weekly("07:00", "12:30", MON, TUE), weekly("14:00", "18:00", MON)],
            id="a lunch break: one entry per interval",
        ),
        pytest.param(
            {"fri": [["22:00", "02:00"]], "sat": [["22:00", "02:00"]]},
            None,
            [weekly("22:00", "02:00", FRI, SAT)],
            id="past midnight: on the day it starts",
        ),
        pytest.param(
            {"sun": [["00:00", "24:00"]], "mon": [["18:00", "00:00"]]},
            None,
            [weekly("18:00", "23:59", MON), weekly("00:00", "23:59", SUN)],
            id="an end of the day is 23:59",
        ),
        pytest.param(
            WEEKDAYS,
            [{"start": "2026-12-25", "end": "2026-12-26", "hours": [], "label": "Christmas"}],
            [
                weekly("07:00", "18:00", MON, TUE, WED, THU, FRI),
                dated("00:00", "00:00", "2026-12-25", "2026-12-26", name="Christmas"),
            ],
            id="a closed special day: 00:00 to 00:00",
        ),
        pytest.param(
            {},
            [{"start": "2026-12-24", "hours": [["08:00", "12:00"], ["22:00", "01:00"]]}],
            [
                dated("08:00", "12:00", "2026-12-24", "2026-12-24"),
                dated("22:00", "01:00", "2026-12-24", "2026-12-24"),
            ],
            id="special opening hours: one day, two intervals",
        ),
    ],
)
def test_opening_hours_specification(hours, special, expected):
    assert spec(hours, special) == expected


def test_special_hours_that_ended_are_left_out():
    schedule = Schedule.from_values(
        WEEKDAYS,
        [
            {"start": "2026-11-01", "hours": [], "label": "Gone"},
            {"start": "2026-11-20", "end": "2026-11-23", "hours": [], "label": "Still on"},
        ],
        "UTC",
    )
    entries = opening_hours_specification(schedule, since=date(2026, 11, 23))
    assert [e.get("name") for e in entries] == [None, "Still on"]


def test_the_type_key_is_the_callers_choice():
    schedule = week(mon=[["07:00", "18:00"]])
    doc = local_business(
        name="Bakery",
        url="https://town.example/@bakery",
        location=SHOP,
        schedule=schedule,
        type_key="type",
    )
    assert "@type" not in json.dumps(doc)
    assert doc["type"] == "LocalBusiness"
    assert doc["address"]["type"] == "PostalAddress"
    assert doc["geo"]["type"] == "GeoCoordinates"
    assert doc["openingHoursSpecification"][0]["type"] == "OpeningHoursSpecification"


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        pytest.param({}, None, id="nothing"),
        pytest.param(
            SHOP,
            {
                "@type": "PostalAddress",
                "streetAddress": "1 High Street",
                "addressLocality": "Bristol",
                "addressRegion": "England",
                "postalCode": "BS1 4DJ",
                "addressCountry": "GB",
            },
            id="every part",
        ),
        pytest.param(
            {"locality": "Bristol", "postal_code": ""},
            {"@type": "PostalAddress", "addressLocality": "Bristol"},
            id="empty parts go",
        ),
    ],
)
def test_postal_address(location, expected):
    assert postal_address(location) == expected


def test_a_whole_business():
    doc = local_business(
        name="Corner Bakery",
        url="https://town.example/@bakery",
        category="Bakery",
        description="Fresh bread",
        telephone="+49 30 1234",
        email="hello@bakery.example",
        website="https://bakery.example/",
        price_range="€",
        location=SHOP,
        schedule=week(mon=[["07:00", "18:00"]]),
        image="https://town.example/media/a.png",
    )
    assert doc == {
        "@type": "Bakery",
        "name": "Corner Bakery",
        "url": "https://town.example/@bakery",
        "description": "Fresh bread",
        "image": "https://town.example/media/a.png",
        "telephone": "+49 30 1234",
        "email": "hello@bakery.example",
        "priceRange": "€",
        "sameAs": "https://bakery.example/",
        "address": postal_address(SHOP),
        "geo": {"@type": "GeoCoordinates", "latitude": 51.4545, "longitude": -2.5879},
        "openingHoursSpecification": [weekly("07:00", "18:00", MON)],
    }


def test_an_unknown_or_missing_category_is_a_local_business():
    assert local_business(name="x", url="u", category="Spaceport")["@type"] == "LocalBusiness"
    assert local_business(name="x", url="u")["@type"] == "LocalBusiness"


def test_a_service_area_hides_the_street_postal_code_and_coordinates():
    doc = local_business(
        name="Plumber", url="u", category="Plumber", location=SHOP, service_area="Bristol"
    )
    text = json.dumps(doc)
    assert "High Street" not in text and "BS1" not in text and "51.45" not in text
    assert "geo" not in doc
    assert doc["areaServed"] == "Bristol"
    assert doc["address"] == {
        "@type": "PostalAddress",
        "addressLocality": "Bristol",
        "addressRegion": "England",
        "addressCountry": "GB",
    }


@pytest.mark.parametrize(
    "name",
    ["</script><script>alert(1)</script>", "<!-- x", "Tom & Jerry's <Café>", "a\u2028b"],
)
def test_script_text_cannot_close_the_script_and_parses_back(name):
    text = script_text({"name": name})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"name": name}
