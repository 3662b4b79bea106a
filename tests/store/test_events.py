"""Events as stored: written and read back the same (the place as JSON), changed, deleted,
which are upcoming at a given moment, and where an event with no place of its own is."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fedi_town.protocol.events import Place
from fedi_town.store import events
from tests.store.conftest import a_business

pytestmark = pytest.mark.anyio

HOUR = 3_600_000
NOW = 1_800_000_000_000
PLACE = {"name": "Hall", "locality": "Bristol", "latitude": 51.45, "longitude": -2.58}


async def add(store, business, event_id, start, end, **values):
    row = {"title": f"Event {event_id}", "starts_at": start, "ends_at": end, **values}
    return await events.insert(
        store, event_id=event_id, business_id=business.id, values=row, now=NOW
    )


async def test_an_event_is_returned_as_written_and_read_back_the_same(store):
    business = await a_business(store)
    written = await add(store, business, 1, NOW + HOUR, NOW + 2 * HOUR, place=PLACE)
    found = await events.by_id(store, business.id, 1)
    assert found == written and found.place == PLACE
    await events.update(store, 1, {"place": None, "title": "Moved"}, NOW + 1)
    found = await events.by_id(store, business.id, 1)
    assert found.place is None and found.title == "Moved" and found.updated_at == NOW + 1


async def test_upcoming_events_include_those_going_on_and_leave_when_over(store):
    business = await a_business(store)
    await add(store, business, 1, NOW + 5 * HOUR, NOW + 6 * HOUR)
    await add(store, business, 2, NOW - HOUR, NOW + HOUR)  # going on
    await add(store, business, 3, NOW - 2 * HOUR, NOW - HOUR)  # over
    await add(store, business, 4, NOW + 2 * HOUR, NOW + 3 * HOUR)
    await events.mark_deleted(store, 4, NOW)
    assert [e.id for e in await events.upcoming(store, business.id, NOW, limit=10)] == [2, 1]
    assert [e.id for e in await events.upcoming(store, business.id, NOW + HOUR)] == [1]
    assert [e.id for e in await events.upcoming(store, business.id, NOW, limit=1)] == [2]


async def test_an_event_without_a_place_is_at_the_business_whose_address_is_published(store):
    business = replace(
        await a_business(store),
        display_name="Corner Bakery",
        location={"street_address": "1 High St", "locality": "Bristol", "latitude": 51.4},
    )
    event = await add(store, business, 1, NOW, NOW + HOUR)
    assert events.place_of(business, event) == Place(
        name="Corner Bakery", street_address="1 High St", locality="Bristol", latitude=51.4
    )
    # A business with a service area publishes no street address or coordinates
    mobile = replace(business, service_area="Bristol and 10 miles around")
    assert events.place_of(mobile, event) == Place(name="Corner Bakery", locality="Bristol")
    # An event's own place wins
    elsewhere = replace(event, place=PLACE)
    assert events.place_of(business, elsewhere).name == "Hall"
