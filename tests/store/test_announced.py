"""The queries offers and events share, on the offers table: a row written from its
editable columns reads back, a change of a column not offered is refused with nothing
written, a deleted row is found only when asked for, and pages run newest first."""

from __future__ import annotations

import pytest

from fedi_town.store import announced, offers
from tests.store.conftest import a_business

pytestmark = pytest.mark.anyio

NOW = 1_800_000_000_000


async def add(store, business, row_id, **values):
    row = announced.new_row(offers.EDITABLE, {"title": f"Row {row_id}", **values})
    await announced.insert(
        store, "offers", row_id=row_id, business_id=business.id, row=row, now=NOW
    )


def test_a_new_row_has_every_editable_column_and_text_is_never_null():
    row = announced.new_row(("title", "text", "price"), {"title": "Buns", "other": 1})
    assert row == {"title": "Buns", "text": "", "price": None}


async def test_a_row_reads_back_with_its_owner_and_times(store):
    business = await a_business(store)
    await add(store, business, 1, price="2.00", currency="EUR")
    row = await announced.by_id(store, "offers", business.id, 1, include_deleted=False)
    assert row is not None
    assert (row["title"], row["price"], row["business_id"]) == ("Row 1", "2.00", business.id)
    assert row["created_at"] == row["updated_at"] == NOW
    other = await a_business(store, "cafe")
    assert await announced.by_id(store, "offers", other.id, 1, include_deleted=False) is None


async def test_a_change_outside_the_columns_is_refused_and_nothing_changes(store):
    business = await a_business(store)
    await add(store, business, 1)
    with pytest.raises(KeyError):
        await announced.update(
            store, "offers", offers.EDITABLE, 1, {"title": "New", "business_id": 2}, NOW + 5
        )
    row = await announced.by_id(store, "offers", business.id, 1, include_deleted=False)
    assert row["title"] == "Row 1" and row["updated_at"] == NOW


async def test_a_deleted_row_is_found_only_when_asked_for_and_leaves_pages(store):
    business = await a_business(store)
    for row_id in (1, 2, 3):
        await add(store, business, row_id)
    await announced.mark_deleted(store, "offers", 2, NOW + 1)
    assert await announced.by_id(store, "offers", business.id, 2, include_deleted=False) is None
    gone = await announced.by_id(store, "offers", business.id, 2, include_deleted=True)
    assert gone["deleted_at"] == gone["updated_at"] == NOW + 1
    first = await announced.page(store, "offers", business.id, max_id=None, limit=1)
    rest = await announced.page(store, "offers", business.id, max_id=first[-1]["id"], limit=5)
    assert [r["id"] for r in first + rest] == [3, 1]
