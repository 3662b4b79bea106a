"""Offers as stored: written and read back the same, changed, deleted, and which are
current at a given moment (what the profile page lists)."""

from __future__ import annotations

import pytest

from fedi_town.store import offers
from tests.store.conftest import a_business

pytestmark = pytest.mark.anyio

DAY = 86_400_000
NOW = 1_800_000_000_000


async def add(store, business, offer_id, **values):
    row = {"title": f"Offer {offer_id}", "text": "", **values}
    return await offers.insert(
        store, offer_id=offer_id, business_id=business.id, values=row, now=NOW
    )


async def test_an_offer_is_returned_as_written_and_read_back_the_same(store):
    business = await a_business(store)
    written = await add(
        store, business, 1, price="5.00", currency="EUR", valid_until=NOW + DAY, post_id=9
    )
    assert await offers.by_id(store, business.id, 1) == written
    other = await a_business(store, "cafe")
    assert await offers.by_id(store, other.id, 1) is None


async def test_a_change_stamps_updated_at_and_only_editable_columns_change(store):
    business = await a_business(store)
    await add(store, business, 1)
    await offers.update(store, 1, {"title": "New", "price": "1.00"}, NOW + 5)
    found = await offers.by_id(store, business.id, 1)
    assert found.title == "New" and found.price == "1.00" and found.updated_at == NOW + 5
    with pytest.raises(KeyError):
        await offers.update(store, 1, {"business_id": 2}, NOW)


async def test_current_offers_leave_when_they_expire_or_are_deleted(store):
    business = await a_business(store)
    await add(store, business, 1, valid_until=NOW + DAY)
    await add(store, business, 2)  # until withdrawn
    await add(store, business, 3, valid_until=NOW - 1)  # expired
    await add(store, business, 4, valid_from=NOW + DAY, valid_until=NOW + 2 * DAY)  # to come
    await add(store, business, 5, valid_until=NOW + DAY)
    await offers.mark_deleted(store, 5, NOW)
    assert [o.id for o in await offers.current(store, business.id, NOW)] == [1, 2, 4]
    assert [o.id for o in await offers.current(store, business.id, NOW + DAY)] == [2, 4]
    assert [o.id for o in await offers.page(store, business.id, max_id=None, limit=10)] == [
        4,
        3,
        2,
        1,
    ]
    assert await offers.by_id(store, business.id, 5) is None
    assert (await offers.by_id(store, business.id, 5, include_deleted=True)).deleted_at == NOW
