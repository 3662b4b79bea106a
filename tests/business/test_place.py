"""business.place: location checked, what a service area hides, addresses and map links."""

from __future__ import annotations

import pytest

from fedi_town.business.place import (
    address_lines,
    address_text,
    location_problems,
    osm_link,
    published,
)

SHOP = {
    "street_address": "1 High Street",
    "locality": "Bristol",
    "postal_code": "BS1 4DJ",
    "country": "GB",
    "latitude": 51.4545,
    "longitude": -2.5879,
}


@pytest.mark.parametrize(
    ("location", "pointers"),
    [
        ({"latitude": 91, "longitude": 0}, ["/location/latitude"]),
        ({"latitude": 0, "longitude": -180.5}, ["/location/longitude"]),
        ({"latitude": 10}, ["/location/longitude"]),
        ({"longitude": 10}, ["/location/latitude"]),
        ({"latitude": True, "longitude": 0}, ["/location/latitude"]),
        ({"latitude": "51", "longitude": 0}, ["/location/latitude"]),
        ({"country": "gb"}, ["/location/country"]),
        ({"country": "GBR"}, ["/location/country"]),
        ({"postal_code": "x" * 21}, ["/location/postal_code"]),
        ({"planet": "Earth"}, ["/location/planet"]),
        ("Bristol", ["/location"]),
    ],
)
def test_bad_locations_name_the_field(location, pointers) -> None:
    assert [p.pointer for p in location_problems(location)] == pointers


def test_a_full_location_has_no_problems() -> None:
    assert location_problems(SHOP) == []
    assert location_problems({"latitude": -90, "longitude": 180}) == []


def test_a_service_area_publishes_no_street_postcode_or_coordinates() -> None:
    assert published(SHOP, "Bristol and 10 miles around") == {
        "locality": "Bristol",
        "country": "GB",
    }
    assert published(SHOP, None) == SHOP


def test_the_address_in_lines_and_on_one_line() -> None:
    assert address_lines(SHOP) == ["1 High Street", "Bristol", "BS1 4DJ", "GB"]
    assert address_text(SHOP) == "1 High Street, Bristol, BS1 4DJ, GB"


def test_an_osm_link_marks_the_coordinates() -> None:
    assert osm_link(SHOP) == (
        "https://www.openstreetmap.org/?mlat=51.4545&mlon=-2.5879#map=18/51.4545/-2.5879"
    )


def test_without_coordinates_the_osm_link_searches_the_address() -> None:
    assert osm_link(published(SHOP, "Bristol")) == (
        "https://www.openstreetmap.org/search?query=Bristol%2C+GB"
    )
    assert osm_link({}) is None


@pytest.mark.parametrize(
    ("location", "lines"),
    [
        # the United States: town, state and ZIP on one line
        (
            {
                "street_address": "1 Main Street",
                "locality": "Smallville",
                "region": "KS",
                "postal_code": "66002",
                "country": "US",
            },
            ["1 Main Street", "Smallville, KS 66002", "US"],
        ),
        # Germany (and most of the world): the postal code before the town
        (
            {
                "street_address": "Mühlenweg 1",
                "locality": "Berlin",
                "postal_code": "10115",
                "country": "DE",
            },
            ["Mühlenweg 1", "10115 Berlin", "DE"],
        ),
        # no country: the same, and missing parts leave no empty line
        ({"locality": "Lyon", "postal_code": "69001"}, ["69001 Lyon"]),
        ({"locality": "Toronto", "country": "CA"}, ["Toronto", "CA"]),
    ],
)
def test_an_address_is_written_in_the_order_its_country_writes_one(location, lines):
    assert address_lines(location) == lines
