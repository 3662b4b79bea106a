"""The read side's queries: only published, live posts listed newest first; tags, pins,
followers, interactions; replies counted without the hidden ones, one query for a page."""

from __future__ import annotations

import pytest

from fedi_town.store import moderation, posts, reads, social
from fedi_town.store.db import now_ms
from fedi_town.store.social import NoteContent
from tests.conftest import create_business
from tests.read import helpers
from tests.store.conftest import a_business, a_post, an_actor

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


async def test_only_published_live_public_posts_are_listed_newest_first(store):
    # Given a business with two public posts, one scheduled, one deleted, one for followers
    business = await a_business(store)
    older = await a_post(store, business, published_at=1_000)
    newer = await a_post(store, business, published_at=2_000)
    await a_post(store, business, published=False, scheduled_at=now_ms() + 60_000)
    deleted = await a_post(store, business)
    await posts.mark_deleted(store, deleted.id, now_ms())
    await a_post(store, business, visibility="followers")
    # When the public list and count are read
    page = await reads.posts_page(store, business.id, limit=10)
    # Then only the two public posts are there, newest first, and the count agrees
    assert [p.id for p in page] == [newer.id, older.id]
    assert await reads.count_posts(store, business.id) == 2
    assert await reads.count_posts(store, business.id, ["followers"]) == 1
    # And a single post is found whatever its state, so the caller can answer 410
    found = await reads.post_by_id(store, business.id, deleted.id)
    assert found is not None and found.deleted_at is not None


async def test_a_tag_is_matched_exactly_whatever_its_case(store):
    business = await a_business(store)
    bread = await a_post(store, business, hashtags=["Bread"])
    await a_post(store, business, hashtags=["breadcrumbs"])
    await a_post(store, business, hashtags=["bread"], visibility="unlisted")
    assert [p.id for p in await reads.tagged_posts(store, business.id, "BREAD")] == [bread.id]


async def test_pinned_posts_come_most_recently_pinned_first(store):
    business = await a_business(store)
    first, second = await a_post(store, business), await a_post(store, business)
    await posts.set_pinned(store, first.id, 2_000)
    await posts.set_pinned(store, second.id, 1_000)
    assert [p.id for p in await reads.pinned_posts(store, business.id)] == [first.id, second.id]


async def test_followers_are_the_accepted_ones(store):
    business = await a_business(store)
    jo, al = await an_actor(store, "jo"), await an_actor(store, "al")
    for actor, state in ((jo, "accepted"), (al, "pending")):
        await social.insert_follow(
            store,
            business_id=business.id,
            actor_id=actor.id,
            state=state,
            follow_uri=None,
            follow_document=None,
            now=now_ms(),
        )
    assert await reads.count_followers(store, business.id) == 1
    assert await reads.followers_page(store, business.id, limit=10, offset=0) == [jo.uri]
    assert await reads.is_follower(store, business.id, jo.uri)
    assert not await reads.is_follower(store, business.id, al.uri)


async def test_likes_and_boosts_are_counted_per_post(store):
    business, actor = await a_business(store), await an_actor(store)
    liked, quiet = await a_post(store, business), await a_post(store, business)
    for kind in ("like", "announce"):
        await social.add_interaction(
            store,
            kind=kind,
            activity_uri=f"https://remote.test/{kind}",
            actor_id=actor.id,
            post_id=liked.id,
            now=now_ms(),
        )
    counts = await reads.interaction_counts(store, [liked.id, quiet.id])
    assert counts == {liked.id: {"like": 1, "announce": 1}, quiet.id: {"like": 0, "announce": 0}}


async def test_replies_from_a_blocked_server_are_hidden_but_the_owner_counts_them(store):
    # Given a post with a reply from jo and one from a server the business blocks
    business = await a_business(store)
    post = await a_post(store, business)
    for name, host in (("jo", "remote.test"), ("spam", "bad.test")):
        actor = await an_actor(store, name, host)
        content = NoteContent(post.uri, f"<p>{name}</p>", None, None, "public", now_ms(), {})
        await social.insert_note(
            store, uri=f"https://{host}/notes/1", actor_id=actor.id, content=content, now=now_ms()
        )
    await moderation.add_block(
        store, business_id=business.id, actor_uri=None, domain="bad.test", now=now_ms()
    )
    # When the replies are counted and shown
    shown = await reads.replies_for_display(store, post.uri, business.id)
    # Then only jo's is shown and counted, while the owner's count has both
    assert [r.actor_username for r in shown] == ["jo"]
    assert await reads.count_replies(store, post.uri, business.id) == 1
    assert await reads.reply_uris(store, post.uri, business.id, limit=10, offset=0) == [
        "https://remote.test/notes/1"
    ]
    assert await reads.count_all_replies(store, post.uri) == 2
