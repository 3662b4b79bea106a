"""store.post_activity: a post's replies and its likes and boosts, newest first, with who."""

from __future__ import annotations

import pytest

from fedi_town.store import post_activity, social
from fedi_town.store.db import now_ms
from fedi_town.store.social import NoteContent
from tests.store.conftest import a_business, a_post, an_actor

pytestmark = pytest.mark.anyio


def a_reply(to: str, visibility: str = "public") -> NoteContent:
    return NoteContent(
        in_reply_to_uri=to,
        content_html="<p>Lovely</p>",
        summary=None,
        url=None,
        visibility=visibility,
        published_at=now_ms(),
        document={"type": "Note"},
    )


async def test_every_reply_to_the_post_is_paged_newest_first_with_its_author(store):
    # Given three replies to a post (one followers-only) and one to another post
    business = await a_business(store)
    post, other = await a_post(store, business), await a_post(store, business)
    authors = [await an_actor(store, name) for name in ("jo", "al", "mo")]
    for index, actor in enumerate(authors):
        await social.insert_note(
            store,
            uri=f"https://remote.test/notes/{index}",
            actor_id=actor.id,
            content=a_reply(post.uri, "followers" if index == 1 else "public"),
            now=now_ms(),
        )
    await social.insert_note(
        store,
        uri="https://remote.test/x",
        actor_id=authors[0].id,
        content=a_reply(other.uri),
        now=now_ms(),
    )
    # When they are read two at a time
    first = await post_activity.replies(store, post.uri, limit=2)
    rest = await post_activity.replies(store, post.uri, limit=2, max_id=first[-1].id)
    # Then all three come, newest first, the followers-only one too
    assert [r.actor.username for r in first + rest] == ["mo", "al", "jo"]
    assert [r.visibility for r in first + rest] == ["public", "followers", "public"]


async def test_likes_and_boosts_are_read_together_or_by_kind(store):
    business = await a_business(store)
    post = await a_post(store, business)
    jo, al = await an_actor(store, "jo"), await an_actor(store, "al")
    await social.add_interaction(
        store,
        kind="like",
        activity_uri="https://remote.test/l/1",
        actor_id=jo.id,
        post_id=post.id,
        now=now_ms(),
    )
    await social.add_interaction(
        store,
        kind="announce",
        activity_uri="https://remote.test/a/1",
        actor_id=al.id,
        post_id=post.id,
        now=now_ms(),
    )
    both = await post_activity.interactions(store, post.id, limit=10)
    likes = await post_activity.interactions(store, post.id, limit=10, kind="like")
    assert [(i.kind, i.actor.username) for i in both] == [("announce", "al"), ("like", "jo")]
    assert [i.actor.username for i in likes] == ["jo"]
