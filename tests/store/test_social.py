"""Follows, likes and boosts, remote notes: stored once however often they arrive."""

from __future__ import annotations

import pytest

from fedi_town.store import actors, notifications, social
from fedi_town.store.db import now_ms
from fedi_town.store.social import NoteContent
from tests.store.conftest import a_business, a_post, a_profile, an_actor

pytestmark = pytest.mark.anyio


async def follow(store, business, actor, state="accepted", uri=None) -> int:
    return await social.insert_follow(
        store,
        business_id=business.id,
        actor_id=actor.id,
        state=state,
        follow_uri=uri,
        follow_document={"type": "Follow"} if uri else None,
        now=now_ms(),
    )


def a_note(text: str = "<p>Hi</p>", reply_to: str | None = None) -> NoteContent:
    return NoteContent(
        in_reply_to_uri=reply_to,
        content_html=text,
        summary=None,
        url=None,
        visibility="public",
        published_at=now_ms(),
        document={"type": "Note"},
    )


async def test_a_follow_is_found_by_business_and_actor_by_id_and_by_its_activity(store):
    # Given a pending follow with its activity id
    business, actor = await a_business(store), await an_actor(store)
    follow_id = await follow(store, business, actor, "pending", "https://remote.test/f/1")
    # When it is accepted
    await social.set_follow_state(store, follow_id, "accepted", now=now_ms())
    # Then each way of finding it gives the accepted follow and its document
    by_pair = await social.follow_of(store, business.id, actor.id)
    assert by_pair is not None and by_pair.state == "accepted"
    assert by_pair.follow_document == {"type": "Follow"}
    assert await social.follow_by_id(store, business.id, follow_id) == by_pair
    assert await social.follow_by_uri(store, "https://remote.test/f/1", actor.id) == by_pair


async def test_follows_are_listed_by_state_newest_first_and_by_domain(store):
    # Given followers on a server and its subdomain, and one pending request
    business = await a_business(store)
    jo = await an_actor(store, "jo", "remote.test")
    al = await an_actor(store, "al", "eu.remote.test")
    mo = await an_actor(store, "mo", "other.test")
    for actor in (jo, al):
        await follow(store, business, actor)
    await follow(store, business, mo, "pending")
    # When they are listed
    accepted = await social.list_follows(
        store, business.id, state="accepted", limit=10, max_id=None
    )
    of_domain = await social.follows_from(store, business_id=None, domain="remote.test")
    # Then the accepted ones come newest first, and the domain covers its subdomains
    assert [a.uri for _, a in accepted] == [al.uri, jo.uri]
    assert sorted(a.uri for _, a in of_domain) == sorted([jo.uri, al.uri])


async def test_a_move_hands_follows_to_the_new_actor_unless_it_already_follows(store):
    # Given two businesses followed by the old account, one also by the new account
    bakery, cafe = await a_business(store, "bakery"), await a_business(store, "cafe")
    old, new = await an_actor(store, "old"), await an_actor(store, "new")
    await follow(store, bakery, old)
    await follow(store, cafe, old)
    await follow(store, cafe, new)
    # When the old account moves
    moved = await social.move_follows(store, old.id, new.id, now=now_ms())
    # Then one follow moved, the duplicate was dropped, and the old account follows nobody
    assert moved == 1
    assert (await social.follow_of(store, bakery.id, new.id)) is not None
    assert await social.follows_from(store, business_id=None, actor_uri=old.uri) == []


async def test_a_like_is_stored_once_and_its_undo_removes_its_notification(store):
    # Given a post of a business, liked by an actor
    business, actor = await a_business(store), await an_actor(store)
    post = await a_post(store, business)
    like = {"kind": "like", "activity_uri": "https://remote.test/l/1", "actor_id": actor.id}
    assert await social.add_interaction(store, **like, post_id=post.id, now=now_ms())
    key = social.interaction_key("like", actor.id, post.id)
    await notifications.notify(
        store, business_id=business.id, type="like", dedupe_key=key, actor_id=actor.id, now=now_ms()
    )
    # When the same like arrives again, then is undone
    assert not await social.add_interaction(store, **like, post_id=post.id, now=now_ms())
    found = await social.find_interaction(store, actor_id=actor.id, kind="like", post_id=post.id)
    assert found is not None and found.activity_uri == "https://remote.test/l/1"
    await social.delete_interaction(store, found)
    # Then neither the like nor its notification is left
    assert (
        await social.find_interaction(store, actor_id=actor.id, activity_uri=like["activity_uri"])
        is None
    )
    assert await notifications.page(store, business.id, limit=10) == []


async def test_a_note_is_stored_once_and_edited_in_place(store):
    actor = await an_actor(store)
    uri = "https://remote.test/notes/1"
    note_id = await social.insert_note(
        store, uri=uri, actor_id=actor.id, content=a_note(), now=now_ms()
    )
    again = await social.insert_note(
        store, uri=uri, actor_id=actor.id, content=a_note("<p>x</p>"), now=now_ms()
    )
    assert again == note_id
    await social.update_note(store, note_id, a_note("<p>Edited</p>"), edited_at=now_ms())
    note = await social.note_by_uri(store, uri)
    assert note is not None and note.content_html == "<p>Edited</p>" and note.edited_at


async def test_purging_an_actor_leaves_no_trace_of_it(store):
    # Given an actor with a key, a follow, a like, a note and a notification
    business = await a_business(store)
    actor = await actors.upsert(
        store, a_profile("jo", keys=(("https://remote.test/users/jo#k", "pem"),)), now=now_ms()
    )
    await follow(store, business, actor)
    post = await a_post(store, business)
    await social.add_interaction(
        store,
        kind="announce",
        activity_uri="https://remote.test/b/1",
        actor_id=actor.id,
        post_id=post.id,
        now=now_ms(),
    )
    note_id = await social.insert_note(
        store, uri="https://remote.test/n/1", actor_id=actor.id, content=a_note(), now=now_ms()
    )
    await social.add_note_target(store, note_id, business.id)
    await notifications.notify(
        store,
        business_id=business.id,
        type="mention",
        dedupe_key="note:1:1",
        remote_note_id=note_id,
        now=now_ms(),
    )
    # When the account is purged
    async with store.transaction():
        await social.purge_actor(store, actor)
    # Then nothing of it is left
    assert not await actors.is_known(store, actor.uri)
    assert await social.follow_of(store, business.id, actor.id) is None
    assert await social.note_by_uri(store, "https://remote.test/n/1") is None
    assert await notifications.page(store, business.id, limit=10) == []
    for table in ("interactions", "remote_note_targets"):
        assert await store.fetch_val(f"SELECT COUNT(*) FROM {table}") == 0
