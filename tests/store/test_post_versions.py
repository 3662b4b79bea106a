"""The versions of an edited post: kept oldest first, with their media, gone with the post."""

from __future__ import annotations

import pytest

from fedi_town.store import post_versions, posts
from tests.store.conftest import a_business, a_post

pytestmark = pytest.mark.anyio


async def test_versions_come_back_oldest_first_and_go_with_the_post(store):
    # Given a post with two versions recorded out of order
    business = await a_business(store)
    post = await a_post(store, business)
    await post_versions.add(
        store,
        post.id,
        content_html="<p>b</p>",
        spoiler_text="",
        sensitive=False,
        media_ids=[7],
        at=2_000,
    )
    await post_versions.add(
        store,
        post.id,
        content_html="<p>a</p>",
        spoiler_text="CW",
        sensitive=True,
        media_ids=[],
        at=1_000,
    )
    # When they are read
    found = await post_versions.of_post(store, post.id)
    # Then the older comes first, each as written
    assert [v.content_html for v in found] == ["<p>a</p>", "<p>b</p>"]
    assert found[0].spoiler_text == "CW" and found[0].sensitive is True
    assert found[1].media_ids == [7] and found[1].created_at == 2_000
    assert await post_versions.count(store, post.id) == 2
    # When the post is deleted, its versions go too
    await posts.mark_deleted(store, post.id, now=3_000)
    assert await post_versions.of_post(store, post.id) == []
