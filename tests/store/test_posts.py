"""A business's own posts: written as given, paged, edited, pinned, published once, deleted."""

from __future__ import annotations

import asyncio

import pytest

from fedi_town.store import businesses, posts, social
from fedi_town.store.db import now_ms
from tests.store.conftest import a_business, a_post, an_actor

pytestmark = pytest.mark.anyio


async def test_a_new_post_is_returned_as_it_is_then_read_back(store):
    # Given a post with mentions and hashtags
    business = await a_business(store)
    mention = {"href": "https://remote.test/users/jo", "name": "@jo@remote.test"}
    written = await a_post(store, business, mentions=[mention], hashtags=["bread"])
    # When it is read back by id and by URI
    by_id = await posts.by_id(store, business.id, written.id)
    by_uri = await posts.by_uri(store, written.uri)
    # Then both are what the writer was given
    assert by_id == written and by_uri == written
    assert written.mentions == [mention] and written.hashtags == ["bread"]


async def test_a_scheduled_post_is_in_the_owners_page_but_not_found_by_uri(store):
    business = await a_business(store)
    scheduled = await a_post(store, business, published=False, scheduled_at=now_ms() + 60_000)
    published = await a_post(store, business)
    assert await posts.by_uri(store, scheduled.uri) is None
    page = await posts.page(store, business.id, max_id=None, limit=10)
    assert [p.id for p in page] == sorted([scheduled.id, published.id], reverse=True)
    older = await posts.page(store, business.id, max_id=page[0].id, limit=10)
    assert [p.id for p in older] == [page[1].id]


async def test_an_edit_changes_only_editable_columns(store):
    business = await a_business(store)
    post = await a_post(store, business)
    await posts.update(
        store, post.id, {"content_html": "<p>Rye</p>", "hashtags": ["rye"], "edited_at": 5}
    )
    edited = await posts.by_id(store, business.id, post.id)
    assert edited is not None
    assert (edited.content_html, edited.hashtags, edited.edited_at) == ("<p>Rye</p>", ["rye"], 5)
    with pytest.raises(KeyError):
        await posts.update(store, post.id, {"business_id": 1})


async def test_a_due_scheduled_post_is_published_by_one_claimer_only(store):
    # Given a scheduled post whose time has come
    business = await a_business(store)
    post = await a_post(store, business, published=False, scheduled_at=now_ms() - 1)
    now = now_ms()
    assert await posts.due_ids(store, now) == [post.id]

    async def claim():
        async with store.transaction():
            return await posts.claim_publication(store, post.id, now)

    # When two workers claim it at once
    results = await asyncio.gather(claim(), claim())
    # Then exactly one won it, and it is no longer due
    winners = [r for r in results if r is not None]
    assert len(winners) == 1 and winners[0].published_at == now
    assert await posts.due_ids(store, now) == []


async def test_a_business_that_moved_away_publishes_no_scheduled_post(store):
    # Given a due scheduled post of a business that then moved to another server
    business = await a_business(store)
    await a_post(store, business, published=False, scheduled_at=now_ms() - 1)
    assert await businesses.mark_moved(store, business.id, "https://new.example/u/b", now=1)
    # Then the post is not due: the business posts no more here
    assert await posts.due_ids(store, now_ms()) == []
    # And a second move is refused by the store too
    assert not await businesses.mark_moved(store, business.id, "https://x.example/u/b", now=2)


async def test_only_a_post_never_published_can_be_discarded(store):
    business = await a_business(store)
    scheduled = await a_post(store, business, published=False, scheduled_at=now_ms() + 1)
    published = await a_post(store, business)
    assert await posts.discard_unpublished(store, scheduled.id)
    assert not await posts.discard_unpublished(store, published.id)
    assert await posts.by_id(store, business.id, published.id) is not None


async def test_pins_are_counted_and_a_deleted_post_loses_its_pin_and_its_likes(store):
    # Given a pinned post with a like
    business, actor = await a_business(store), await an_actor(store)
    post = await a_post(store, business)
    await posts.set_pinned(store, post.id, now_ms())
    await social.add_interaction(
        store,
        kind="like",
        activity_uri="https://remote.test/l/1",
        actor_id=actor.id,
        post_id=post.id,
        now=now_ms(),
    )
    assert await posts.pinned_count(store, business.id) == 1
    # When it is deleted
    await posts.mark_deleted(store, post.id, now_ms())
    # Then it is gone from the owner's view, unpinned, and its like went with it
    assert await posts.by_id(store, business.id, post.id) is None
    assert await posts.pinned_count(store, business.id) == 0
    assert (
        await social.find_interaction(store, actor_id=actor.id, kind="like", post_id=post.id)
        is None
    )


async def test_by_id_any_finds_a_live_post_of_any_business(store):
    business = await a_business(store)
    written = await a_post(store, business)
    assert await posts.by_id_any(store, written.id) == written
    await posts.mark_deleted(store, written.id, now_ms())
    assert await posts.by_id_any(store, written.id) is None
