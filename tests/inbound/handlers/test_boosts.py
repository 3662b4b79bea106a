"""inbound.handlers.boosts and the timeline side of notes: posts and boosts of followed
accounts reach the home timelines of the businesses following them, and nothing else is
kept (both backends)."""

from __future__ import annotations

import pytest

from fedi_town.store import following, moderation
from tests.inbound.handlers.helpers import ALICE, ZORK, twice_changes_nothing
from tests.inbound.handlers.timeline_kit import (
    AS,
    announce,
    create,
    followed,
    note,
    timeline_uris,
)
from tests.inbound.helpers import add_business, add_remote_actor, count, dispatch, handle

pytestmark = pytest.mark.anyio

BOB = "https://mastodon.example/users/bob"


async def test_a_followed_accounts_post_reaches_the_timeline_sanitised(services, bakery):
    # Given the bakery follows Alice (accepted)
    await followed(services, bakery, ALICE)
    post = note(
        ALICE,
        '<p>Plums!<script>alert(1)</script><img src=x onerror="alert(2)"></p>',
        attachment=[
            {
                "type": "Document",
                "mediaType": "image/jpeg",
                "url": "https://files.mastodon.example/p.jpg",
                "name": "Plums",
            },
            {"type": "Document", "url": "javascript:alert(3)"},
        ],
    )
    # When her Create arrives
    outcome = await handle(services, create(post))
    # Then the note is in the bakery's timeline, sanitised, with the usable attachment only
    assert outcome == "note stored for 0 business(es), 1 timeline(s)"
    assert await timeline_uris(services, bakery) == [(post["id"], None)]
    row = await services.store.fetch_one("SELECT * FROM remote_notes")
    assert "Plums!" in row["content_html"]
    assert "<script" not in row["content_html"] and "onerror" not in row["content_html"]
    assert "https://files.mastodon.example/p.jpg" in row["attachments"]
    assert "javascript" not in row["attachments"]
    # And nobody is notified of an ordinary post
    assert await count(services.store, "notifications") == 0
    await twice_changes_nothing(services, create(post))


async def test_posts_of_accounts_nobody_follows_or_only_asked_to_are_not_kept(services, bakery):
    # Given Bob is known but not followed, and Zork's follow is still pending
    await add_remote_actor(services.store, BOB)
    await followed(services, bakery, ZORK, state=following.PENDING)
    # When both post
    for author in (BOB, ZORK):
        outcome = await handle(services, create(note(author)))
        # Then nothing is stored
        assert outcome == "ignored: concerns none of our businesses"
    assert await count(services.store, "remote_notes") == 0


async def test_a_direct_message_is_not_a_timeline_post(services, bakery):
    await followed(services, bakery, ALICE)
    dm = note(
        ALICE,
        to=["https://elsewhere.example/users/carol"],
        cc=[],
        tag=[{"type": "Mention", "href": "https://elsewhere.example/users/carol"}],
    )
    assert (
        await handle(services, create(dm)) == "ignored: a direct message to none of our businesses"
    )
    assert await count(services.store, "timeline") == 0


async def test_huge_content_is_refused(services, bakery):
    await followed(services, bakery, ALICE)
    row = await dispatch(services, create(note(ALICE, "<p>" + "x" * 200_000 + "</p>")))
    assert row["state"] == "failed"
    assert await count(services.store, "remote_notes") == 0


async def test_a_post_is_stored_once_for_two_followers(services, bakery):
    florist = await add_business(services, "florist")
    await followed(services, bakery, ALICE)
    await followed(services, florist, ALICE)
    post = note(ALICE)
    assert await handle(services, create(post)) == "note stored for 0 business(es), 2 timeline(s)"
    assert await count(services.store, "remote_notes") == 1
    assert await count(services.store, "timeline") == 2


async def test_edits_apply_and_a_delete_removes_the_post(services, bakery):
    await followed(services, bakery, ALICE)
    post = note(ALICE)
    await handle(services, create(post))
    edited = {**post, "content": "<p>Plums sold out</p>", "updated": "2026-12-01T12:00:00Z"}
    update = {**create(edited), "type": "Update", "id": f"{post['id']}#updates/1"}
    assert await handle(services, update) == "note edited"
    row = await services.store.fetch_one("SELECT content_html, edited_at FROM remote_notes")
    assert "sold out" in row["content_html"] and row["edited_at"] is not None
    delete = {
        "@context": AS,
        "id": f"{post['id']}#delete",
        "type": "Delete",
        "actor": ALICE,
        "object": {"id": post["id"], "type": "Tombstone"},
    }
    assert await handle(services, delete) == "note deleted"
    assert await count(services.store, "timeline") == 0
    assert await count(services.store, "remote_notes") == 0


async def test_a_boost_of_an_embedded_same_host_note_shows_who_boosted_it(services, bakery):
    # Given the bakery follows Alice, and Bob (same server) wrote a note
    alice = await followed(services, bakery, ALICE)
    await add_remote_actor(services.store, BOB)
    boosted = note(BOB, "<p>Bob's bread</p>")
    # When Alice boosts it
    boost = announce(ALICE, boosted)
    assert await handle(services, boost) == "boost shown in 1 timeline(s)"
    # Then Bob's note shows in the timeline, boosted by Alice
    assert await timeline_uris(services, bakery) == [(boosted["id"], alice.id)]
    await twice_changes_nothing(services, boost)
    # And her Undo takes it off
    undo = {
        "@context": AS,
        "id": f"{boost['id']}/undo",
        "type": "Undo",
        "actor": ALICE,
        "object": {k: v for k, v in boost.items() if k != "@context"},
    }
    assert await handle(services, undo) == "boost removed from 1 timeline(s)"
    assert await timeline_uris(services, bakery) == []


async def test_a_boost_of_an_author_the_business_blocks_is_not_shown(services, bakery):
    await followed(services, bakery, ALICE)
    await add_remote_actor(services.store, BOB)
    await services.store.execute(
        "INSERT INTO blocks (id, business_id, actor_uri, created_at) VALUES (1, :b, :a, 0)",
        {"b": bakery.id, "a": BOB},
    )

    moderation.blocks_changed(services.store)
    assert (
        await handle(services, announce(ALICE, note(BOB)))
        == "ignored: the boosted author is blocked"
    )


async def test_a_boost_by_nobody_followed_is_ignored(services, bakery):
    await add_remote_actor(services.store, ALICE)
    outcome = await handle(services, announce(ALICE, note(ALICE)))
    assert outcome.startswith("ignored")
    assert await count(services.store, "remote_notes") == 0


async def test_an_account_delete_removes_its_posts_and_boosts(services, bakery):
    await followed(services, bakery, ALICE)
    await add_remote_actor(services.store, BOB)
    await handle(services, create(note(ALICE)))
    await handle(services, announce(ALICE, note(BOB)))
    assert await count(services.store, "timeline") == 2
    delete = {
        "@context": AS,
        "id": f"{ALICE}#delete",
        "type": "Delete",
        "actor": ALICE,
        "object": ALICE,
    }
    assert await handle(services, delete) == "account purged"
    assert await count(services.store, "timeline") == 0


async def test_ending_the_follow_takes_the_accounts_posts_off_the_timeline(services, bakery):
    alice = await followed(services, bakery, ALICE)
    await handle(services, create(note(ALICE)))
    row = await following.of_actor(services.store, bakery.id, alice.id)
    assert row is not None
    await following.delete(services.store, row.id)
    assert await count(services.store, "timeline") == 0


async def test_a_boost_from_a_blocked_server_is_not_fetched(services, bakery):
    # Given the bakery follows Alice and the instance blocks gts.example
    await followed(services, bakery, ALICE)
    await services.store.execute(
        "INSERT INTO blocks (id, domain, created_at) VALUES (2, 'gts.example', 0)"
    )
    moderation.blocks_changed(services.store)
    # When Alice boosts a note on gts.example by its id (nothing serves it: a fetch would fail)
    outcome = await handle(services, announce(ALICE, f"{ZORK}/statuses/1"))
    # Then it is ignored without asking that server
    assert outcome == "ignored: the boosted note's server is blocked"
