"""The structured profile through the admin API: every key round trips on SQLite and
PostgreSQL, the computed status, and bad input as a 422 naming the field with nothing written.

The fixed clock stands at Monday 2026-11-23 12:00Z (13:00 in Berlin).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from fedi_town.outbound import profile
from fedi_town.store import businesses
from tests.conftest import admin_headers, create_business
from tests.outbound.conftest import activities, add_follower

pytestmark = pytest.mark.anyio

PROFILE = {
    "category": "Bakery",
    "location": {
        "street_address": "1 High Street",
        "locality": "Bristol",
        "region": "England",
        "postal_code": "BS1 4DJ",
        "country": "GB",
        "latitude": 51.4545,
        "longitude": -2.5879,
    },
    "service_area": None,
    "email": "hello@bakery.example",
    "price_range": "€€",
    "timezone": "Europe/Berlin",
    "hours": {
        "mon": [["07:00", "12:30"], ["14:00", "18:00"]],
        "fri": [["07:00", "18:00"], ["22:00", "02:00"]],
        "sun": [],
    },
    "special_hours": [
        {"start": "2026-12-24", "end": "2026-12-26", "hours": [], "label": "Christmas"},
        {"start": "2026-12-31", "hours": [["08:00", "12:00"]], "label": None},
    ],
    "notice": {"text": "Sold out of rye", "until": "2026-11-23T18:00:00Z"},
    "in_directory": False,
}
URL = "/api/v1/businesses/bakery"


async def test_every_profile_key_round_trips(clocked_client):
    # Given a business
    await create_business(clocked_client)
    # When the admin sets every structured key
    response = await clocked_client.patch(URL, json=PROFILE, headers=admin_headers())
    assert response.status_code == 200, response.text
    # Then reading it back gives each as sent, plus the OSM export and the status
    body = (await clocked_client.get(URL, headers=admin_headers())).json()
    for key, value in PROFILE.items():
        assert body[key] == value, key
    assert (
        body["opening_hours"]
        == "Mo 07:00-12:30,14:00-18:00, Fr 07:00-18:00,22:00-02:00; Tu-Th,Su off"
    )
    assert body["status"] == {
        "open": False,
        "text": "Closed · opens 14:00",
        "changes_at": "2026-11-23T13:00:00Z",
        "today": "7:00–12:30, 14:00–18:00",
    }


async def test_the_profile_can_be_given_at_creation(clocked_client):
    data = await create_business(clocked_client, **PROFILE)

    assert data["category"] == "Bakery"
    assert data["hours"] == PROFILE["hours"]
    assert data["notice"] == PROFILE["notice"]


async def test_null_clears_keys(clocked_client):
    await create_business(clocked_client, **PROFILE)
    cleared = dict.fromkeys(
        ("category", "location", "email", "timezone", "hours", "special_hours", "notice")
    )

    body = (await clocked_client.patch(URL, json=cleared, headers=admin_headers())).json()

    assert body["hours"] == {} and body["location"] == {} and body["special_hours"] == []
    assert body["notice"] is None and body["category"] is None
    assert body["status"] is None  # no hours given: no status, not "Closed"
    assert body["opening_hours"] is None


async def test_opening_hours_are_read_into_the_week(clocked_client):
    await create_business(clocked_client)

    response = await clocked_client.patch(
        URL, json={"opening_hours": "Mo-Fr 07:00-18:00; Sa 08:00-13:00"}, headers=admin_headers()
    )

    assert response.status_code == 200, response.text
    assert response.json()["hours"]["sat"] == [["08:00", "13:00"]]
    assert response.json()["opening_hours"] == "Mo-Fr 07:00-18:00; Sa 08:00-13:00; Su off"
    assert response.json()["status"]["text"] == "Open now · until 18:00"  # UTC: 12:00


async def test_a_notice_vanishes_by_itself(clocked_client, clock):
    await create_business(clocked_client, **PROFILE)
    clock.advance(timedelta(hours=6))

    body = (await clocked_client.get(URL, headers=admin_headers())).json()

    assert body["notice"] is None


BAD = [
    pytest.param(
        {"hours": {"mon": [["07:00", "12:00"], ["11:00", "14:00"]]}}, "/hours/mon/1", id="overlap"
    ),
    pytest.param({"hours": {"mon": [["07:00", "25:00"]]}}, "/hours/mon/0/1", id="hour-25"),
    pytest.param({"hours": {"mon": [["07:60", "09:00"]]}}, "/hours/mon/0/0", id="minute-60"),
    pytest.param({"hours": {"mon": [["09:00", "09:00"]]}}, "/hours/mon/0", id="start-is-end"),
    pytest.param(
        {"hours": {"fri": [["22:00", "03:00"]], "sat": [["02:00", "05:00"]]}},
        "/hours/sat/0",
        id="tail-overlap",
    ),
    pytest.param({"hours": {"monday": []}}, "/hours/monday", id="unknown-day"),
    pytest.param({"timezone": "Mars/Olympus"}, "/timezone", id="unknown-zone"),
    pytest.param(
        {"location": {"latitude": 91, "longitude": 0}}, "/location/latitude", id="latitude"
    ),
    pytest.param(
        {"location": {"latitude": 0, "longitude": 181}}, "/location/longitude", id="longitude"
    ),
    pytest.param({"location": {"latitude": 10}}, "/location/longitude", id="half-a-point"),
    pytest.param({"location": {"country": "gb"}}, "/location/country", id="country"),
    pytest.param(
        {"notice": {"text": "Closed", "until": "2026-11-23T11:59:59Z"}},
        "/notice/until",
        id="notice-past",
    ),
    pytest.param(
        {"notice": {"text": "Closed", "until": "soon"}}, "/notice/until", id="notice-not-a-time"
    ),
    pytest.param(
        {"special_hours": [{"start": "2026-12-26", "end": "2026-12-24", "hours": []}]},
        "/special_hours/0/end",
        id="special-backwards",
    ),
    pytest.param(
        {
            "special_hours": [
                {"start": "2026-12-24", "end": "2026-12-26", "hours": []},
                {"start": "2026-12-25", "hours": []},
            ]
        },
        "/special_hours/1",
        id="special-overlap",
    ),
    pytest.param({"category": "ButcherShop"}, "/category", id="category"),
    pytest.param(
        {"opening_hours": "Mo-Fr 08:00-12:00; PH off"}, "/opening_hours", id="osm-holidays"
    ),
    pytest.param({"opening_hours": "bread o'clock"}, "/opening_hours", id="osm-garbage"),
    pytest.param(
        {"opening_hours": "Mo 08:00-12:00", "hours": {}}, "/opening_hours", id="both-forms"
    ),
]


@pytest.mark.parametrize(("body", "pointer"), BAD)
async def test_bad_input_is_422_naming_the_field_and_writes_nothing(clocked_client, body, pointer):
    # Given a business with a full profile
    await create_business(clocked_client, **PROFILE)
    before = (await clocked_client.get(URL, headers=admin_headers())).json()
    # When the owner sends one bad value next to good ones
    response = await clocked_client.patch(
        URL,
        json={"display_name": "Changed", "email": "new@x.example", **body},
        headers=admin_headers(),
    )
    # Then it is a 422 problem naming that field
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert pointer in [e["pointer"] for e in response.json()["errors"]]
    # And nothing was written
    after = (await clocked_client.get(URL, headers=admin_headers())).json()
    assert after == before


async def test_bad_input_at_creation_creates_nothing(clocked_client):
    response = await clocked_client.post(
        "/api/v1/businesses",
        json={"username": "bakery", "display_name": "B", "timezone": "Nowhere/Town"},
        headers=admin_headers(),
    )

    assert response.status_code == 422
    assert (await clocked_client.get(URL, headers=admin_headers())).status_code == 404


async def test_every_problem_is_listed_at_once(clocked_client):
    await create_business(clocked_client)

    response = await clocked_client.patch(
        URL,
        json={
            "timezone": "Nowhere/Town",
            "hours": {"mon": [["07:00", "12:00"], ["11:00", "14:00"]]},
        },
        headers=admin_headers(),
    )

    assert {e["pointer"] for e in response.json()["errors"]} == {"/timezone", "/hours/mon/1"}


async def test_a_notice_set_by_the_owner_reaches_followers_and_its_end_does_too(
    clocked_client, clock
):
    # Given a business created with hours, followed from one server
    client = clocked_client
    created = await create_business(client, "bakery", **{"hours": PROFILE["hours"]})
    store = client.services.store
    await add_follower(store, created["id"], "https://m.example/users/ann")
    stored = await businesses.by_username(store, "bakery")
    assert stored is not None and stored.profile_check_at is not None  # watched from creation
    # When the owner says "Sold out" until 14:00 UTC
    response = await client.patch(
        "/api/v1/businesses/bakery",
        json={"notice": {"text": "Sold out", "until": "2026-11-23T14:00:00Z"}},
        headers={"Authorization": f"Bearer {created['owner_token']}"},
    )
    assert response.status_code == 200, response.text
    # Then followers get the actor with the notice first, and when it ends, without it
    [first] = await activities(store, "Update")
    assert first["object"]["attachment"][0]["value"] == "Sold out"
    clock.advance(timedelta(hours=2))
    await profile.refresh_due_profiles(client.services)
    updates = await activities(store, "Update")
    assert len(updates) == 2
    assert "Notice" not in [f["name"] for f in updates[1]["object"]["attachment"]]
