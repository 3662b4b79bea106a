"""Reply counts for a page of posts come from one query and match the one-by-one count."""

from __future__ import annotations

import pytest

from fedi_town.store import reads
from tests.conftest import create_business
from tests.read import helpers

pytestmark = pytest.mark.anyio


async def test_reply_counts_for_many_posts_match_counting_each(app_client):
    # Given two posts, one with two public replies and a followers-only one, one with none
    await create_business(app_client, "bakery")
    owner = await helpers.business(app_client, "bakery")
    first = await helpers.insert_post(app_client, "bakery")
    second = await helpers.insert_post(app_client, "bakery")
    uris = [app_client.services.urls.post("bakery", p) for p in (first, second)]
    actor_row, _ = await helpers.insert_remote_actor(app_client)
    await helpers.insert_reply(app_client, actor_row, uris[0])
    await helpers.insert_reply(app_client, actor_row, uris[0])
    await helpers.insert_reply(app_client, actor_row, uris[0], visibility="followers")
    store = app_client.services.store
    # When they are counted together
    counts = await reads.reply_counts(store, uris, owner.id)
    # Then each matches its own count
    assert counts == {uris[0]: 2, uris[1]: 0}
    for uri in uris:
        assert counts[uri] == await reads.count_replies(store, uri, owner.id)
