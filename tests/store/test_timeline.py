"""store.timeline: who a followed account's posts reach, and a business's timeline pages
(newest first, max_id and min_id, the boost's booster, ``replied``), both backends."""

from __future__ import annotations

from typing import Any

import pytest

from fedi_town.store import following, social, stream_events
from fedi_town.store import timeline as timeline_store
from fedi_town.store.db import now_ms
from fedi_town.store.social import NoteContent
from tests.inbound.helpers import add_business, add_post, add_remote_actor

pytestmark = pytest.mark.anyio

ALICE = "https://mastodon.example/users/alice"
BOB = "https://mastodon.example/users/bob"


def content(text: str) -> NoteContent:
    return NoteContent(
        in_reply_to_uri=None,
        content_html=f"<p>{text}</p>",
        summary=None,
        url=None,
        visibility="public",
        published_at=now_ms(),
        document={},
        attachments=(
            {
                "url": "https://x.example/a.png",
                "type": "image",
                "media_type": None,
                "description": "A",
            },
        ),
    )


async def alice_followed_by_bakery_and_asked_by_florist(services) -> tuple[Any, Any]:
    """Alice, followed by the bakery (accepted) and by the florist (pending); the bakery."""
    bakery = await add_business(services, "bakery")
    florist = await add_business(services, "florist")
    alice = await add_remote_actor(services.store, ALICE)
    for business, state in ((bakery, following.ACCEPTED), (florist, following.PENDING)):
        row = await following.insert(
            services.store,
            business_id=business.id,
            actor_id=alice.id,
            follow_uri=f"https://town.example/f/{business.id}",
            now=now_ms(),
        )
        await following.set_state(services.store, row.id, state, now=now_ms())
    return alice, bakery


async def test_only_accepted_follows_receive_an_accounts_posts(services):
    alice, bakery = await alice_followed_by_bakery_and_asked_by_florist(services)
    assert await timeline_store.followers_of(services.store, alice.id) == [bakery.id]


async def test_followers_of_many_accounts_come_in_one_answer(services):
    # Given Alice followed by the bakery (accepted) and the florist (pending), Bob by nobody
    alice, bakery = await alice_followed_by_bakery_and_asked_by_florist(services)
    bob = await add_remote_actor(services.store, BOB)
    # When both are asked about at once
    found = await timeline_store.followers_of_many(services.store, [alice.id, bob.id])
    # Then each has its accepted followers, Bob none
    assert found == {alice.id: [bakery.id], bob.id: []}
    assert await timeline_store.followers_of_many(services.store, []) == {}


async def test_pages_are_newest_first_with_boosters_and_replied_marks(services):
    # Given three entries: two posts by Alice, one boost by Bob of a note by Alice
    bakery = await add_business(services, "bakery")
    alice = await add_remote_actor(services.store, ALICE)
    bob = await add_remote_actor(services.store, BOB)
    ids = []
    for n in range(3):
        uri = f"{ALICE}/statuses/{n}"
        note_id = await social.insert_note(
            services.store, uri=uri, actor_id=alice.id, content=content(f"n{n}"), now=now_ms()
        )
        assert await timeline_store.add(
            services.store,
            business_id=bakery.id,
            note_id=note_id,
            entry_uri=uri if n < 2 else f"{BOB}/statuses/9/activity",
            boosted_by=None if n < 2 else bob.id,
            now=now_ms() + n,
        )
        ids.append(note_id)
    # And the bakery answered the first
    await add_post(services, bakery, in_reply_to_uri=f"{ALICE}/statuses/0")

    # When the first page of two is read
    first = await timeline_store.page(services.store, bakery.id, limit=2)
    # Then it is the boost then the second post
    assert [e.note_uri for e in first] == [f"{ALICE}/statuses/2", f"{ALICE}/statuses/1"]
    assert first[0].booster is not None and first[0].booster.uri == BOB
    assert first[0].author.uri == ALICE
    assert first[0].attachments[0]["url"] == "https://x.example/a.png"
    # And the next page holds the first post, marked replied
    older = await timeline_store.page(services.store, bakery.id, limit=2, max_id=first[-1].id)
    assert [(e.note_uri, e.replied) for e in older] == [(f"{ALICE}/statuses/0", True)]
    # And min_id gives what is newer, still newest first
    newer = await timeline_store.page(services.store, bakery.id, limit=5, min_id=older[0].id)
    assert [e.id for e in newer] == [e.id for e in first]


async def test_the_same_entry_is_added_once(services):
    bakery = await add_business(services, "bakery")
    alice = await add_remote_actor(services.store, ALICE)
    note_id = await social.insert_note(
        services.store, uri=f"{ALICE}/s/1", actor_id=alice.id, content=content("x"), now=now_ms()
    )
    values = {
        "business_id": bakery.id,
        "note_id": note_id,
        "entry_uri": f"{ALICE}/s/1",
        "boosted_by": None,
    }
    assert await timeline_store.add(services.store, **values, now=now_ms())
    assert not await timeline_store.add(services.store, **values, now=now_ms())


async def test_a_note_is_shown_only_to_the_business_whose_timeline_holds_it(services):
    bakery = await add_business(services, "bakery")
    florist = await add_business(services, "florist")
    alice = await add_remote_actor(services.store, ALICE)
    note_id = await social.insert_note(
        services.store, uri=f"{ALICE}/s/7", actor_id=alice.id, content=content("x"), now=now_ms()
    )
    await timeline_store.add(
        services.store,
        business_id=bakery.id,
        note_id=note_id,
        entry_uri=f"{ALICE}/s/7",
        boosted_by=None,
        now=now_ms(),
    )
    shown = await timeline_store.note_shown(services.store, bakery.id, note_id)
    assert shown is not None and shown["uri"] == f"{ALICE}/s/7" and shown["a_uri"] == ALICE
    assert await timeline_store.note_shown(services.store, florist.id, note_id) is None


async def test_entries_and_their_removal_are_recorded_for_streaming_apps(services):
    # Given the bakery, and a post and a boost of notes of Alice on its timeline
    store = services.store
    bakery = await add_business(services, "bakery")
    alice = await add_remote_actor(store, ALICE)
    bob = await add_remote_actor(store, BOB)
    start = now_ms()
    async with store.transaction():
        note = await social.insert_note(
            store, uri=f"{ALICE}/1", actor_id=alice.id, content=content("One"), now=start
        )
        await timeline_store.add(
            store,
            business_id=bakery.id,
            note_id=note,
            entry_uri=f"{ALICE}/1",
            boosted_by=None,
            now=start,
        )
        await timeline_store.add(
            store,
            business_id=bakery.id,
            note_id=note,
            entry_uri=f"{BOB}/boost",
            boosted_by=bob.id,
            now=start,
        )
    entries = await timeline_store.page(store, bakery.id, limit=10)
    [post, boost] = sorted(entries, key=lambda e: e.booster is not None)
    # When the boost is undone and the note deleted
    async with store.transaction():
        await timeline_store.remove_boost(
            store, booster_id=bob.id, announce_uri=f"{BOB}/boost", note_id=None, now=now_ms()
        )
        await social.delete_note(store, note, now=now_ms())
    # Then each entry was a "timeline" event of the bakery, and each removal a "delete" of
    # the status id apps know it by (the boost's entry id, then the note's)
    events = await stream_events.recent(store, since=start)
    assert [(e.event, e.business_id) for e in events] == [
        ("timeline", bakery.id),
        ("timeline", bakery.id),
        ("delete", bakery.id),
        ("delete", bakery.id),
    ]
    assert {events[0].ref_id, events[1].ref_id} == {post.id, boost.id}
    assert [events[2].ref_id, events[3].ref_id] == [boost.id, note]
