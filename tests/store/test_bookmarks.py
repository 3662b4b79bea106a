"""Bookmarks: kept once per business and status, paged newest first both ways."""

from __future__ import annotations

import pytest

from fedi_town.store import bookmarks
from tests.store.conftest import a_business

pytestmark = pytest.mark.anyio

NOTE = "https://remote.test/notes/{}"


async def test_bookmarks_are_kept_once_paged_and_taken_back(store):
    # Given three bookmarks of a business, one made twice
    business = await a_business(store)
    for n in range(3):
        await bookmarks.add(store, business.id, NOTE.format(n), now=1_000 + n)
    await bookmarks.add(store, business.id, NOTE.format(0), now=2_000)
    # When they are paged two at a time
    first = await bookmarks.page(store, business.id, limit=2, max_id=None, min_id=None)
    rest = await bookmarks.page(store, business.id, limit=2, max_id=first[-1].id, min_id=None)
    back = await bookmarks.page(store, business.id, limit=2, max_id=None, min_id=rest[0].id)
    # Then the newest comes first, the first kept once, and min_id leads back
    assert [b.status_uri for b in first] == [NOTE.format(2), NOTE.format(1)]
    assert [b.status_uri for b in rest] == [NOTE.format(0)]
    assert back == first
    marked = await bookmarks.marked(store, business.id, [NOTE.format(1), NOTE.format(9)])
    assert marked == {NOTE.format(1)}
    # When one is taken back (twice), and the business is deleted
    assert await bookmarks.remove(store, business.id, NOTE.format(1)) is True
    assert await bookmarks.remove(store, business.id, NOTE.format(1)) is False
    await bookmarks.delete_all_of(store, business.id)
    # Then none is left
    assert await bookmarks.page(store, business.id, limit=5, max_id=None, min_id=None) == []
