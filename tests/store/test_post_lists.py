"""Lists of published posts with Mastodon's paging."""

from __future__ import annotations

import pytest

from fedi_town.store import post_lists
from tests.store.conftest import a_business, a_post

pytestmark = pytest.mark.anyio


async def test_pages_go_older_by_max_id_and_newer_by_min_id_newest_first(store):
    business = await a_business(store)
    posts = [await a_post(store, business) for _ in range(4)]
    ids = sorted(p.id for p in posts)
    wanted = post_lists.Filter(business_id=business.id, visibilities=("public",))
    first = await post_lists.page(store, wanted, limit=2)
    assert [p.id for p in first] == [ids[3], ids[2]]
    older = await post_lists.page(store, wanted, limit=2, max_id=ids[2])
    assert [p.id for p in older] == [ids[1], ids[0]]
    after = await post_lists.page(store, wanted, limit=2, min_id=ids[0])
    assert [p.id for p in after] == [ids[2], ids[1]]
    since = await post_lists.page(store, wanted, limit=2, since_id=ids[0])
    assert [p.id for p in since] == [ids[3], ids[2]]
