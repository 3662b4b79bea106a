"""inbound.handlers.notes: replies and mentions (Create), their edits (Update) and deletions,
fed as Mastodon, GoToSocial and Misskey send them (tests/inbound/payloads.py). Each is handled
once with effect, and again with none."""

from __future__ import annotations

import pytest

from tests.inbound import payloads as p
from tests.inbound.handlers.helpers import (
    ALICE,
    HANDLE,
    MISSKEY,
    ZORK,
    twice_changes_nothing,
)
from tests.inbound.helpers import (
    add_business,
    add_remote_actor,
    count,
    dispatch,
    handle,
    notification_types,
)

pytestmark = pytest.mark.anyio


async def test_a_mastodon_reply_is_stored_sanitised_and_notified_as_a_reply(services, biz, post):
    _, post_uri = post
    await add_remote_actor(services.store, ALICE)
    create = p.mastodon_create_reply(ALICE, biz, post_uri, handle=HANDLE)
    assert await handle(services, create) == "note stored for 1 business(es)"
    note = await services.store.fetch_one("SELECT * FROM remote_notes")
    assert note["in_reply_to_uri"] == post_uri
    assert note["visibility"] == "public"
    assert "croissant" in note["content_html"]
    assert "<script" not in note["content_html"] and "<img" not in note["content_html"]
    assert "onerror" not in note["content_html"]
    assert await notification_types(services.store) == ["reply"]
    await twice_changes_nothing(services, create)


async def test_a_reply_that_mentions_a_second_business_notifies_both(services, biz, post):
    # Given a reply to the bakery's post that also mentions the cafe
    _, post_uri = post
    cafe = await add_business(services, "cafe")
    cafe_uri = services.urls.actor(cafe.username)
    await add_remote_actor(services.store, ALICE)
    create = p.mastodon_create_reply(ALICE, biz, post_uri, handle=HANDLE)
    create["object"]["tag"].append({"type": "Mention", "href": cafe_uri, "name": "@cafe"})
    # When it is handled: the note, the bakery's target and notification in one go, the
    # cafe's after
    assert await handle(services, create) == "note stored for 2 business(es)"
    # Then each business has its target and its notification, and again changes nothing
    assert await count(services.store, "remote_notes") == 1
    assert await count(services.store, "remote_note_targets") == 2
    assert sorted(await notification_types(services.store)) == ["mention", "reply"]
    await twice_changes_nothing(services, create)


async def test_a_reply_whose_note_id_another_actor_holds_writes_nothing(services, biz, post):
    # Given a note stored as Alice's
    _, post_uri = post
    await add_remote_actor(services.store, ALICE)
    create = p.mastodon_create_reply(ALICE, biz, post_uri, handle=HANDLE)
    await handle(services, create)
    # When Zork's reply claims the same note id (on his own host, so it passes the checks)
    other = p.mastodon_create_reply(ZORK, biz, post_uri, handle=HANDLE)
    other["object"]["id"] = create["object"]["id"].replace(ALICE, ZORK)
    await add_remote_actor(services.store, ZORK)
    await services.store.execute("UPDATE remote_notes SET uri = :u", {"u": other["object"]["id"]})
    # Then it is ignored: no target, no notification for it
    assert await handle(services, other) == "ignored: a note with this id belongs to someone else"
    assert await count(services.store, "remote_note_targets") == 1
    assert await notification_types(services.store) == ["reply"]


async def test_a_gotosocial_reply_with_single_valued_fields_is_understood(services, biz, post):
    _, post_uri = post
    await add_remote_actor(services.store, ZORK)
    create = p.gotosocial_create_reply(ZORK, biz, post_uri, handle=HANDLE)
    assert await handle(services, create) == "note stored for 1 business(es)"
    note = await services.store.fetch_one("SELECT * FROM remote_notes")
    assert note["visibility"] == "public"
    assert note["summary"] is None
    assert await notification_types(services.store) == ["reply"]


async def test_a_misskey_direct_mention_is_a_direct_mention(services, biz):
    await add_remote_actor(services.store, MISSKEY)
    create = p.misskey_mention(MISSKEY, biz, handle=HANDLE)
    assert await handle(services, create) == "note stored for 1 business(es)"
    note = await services.store.fetch_one("SELECT * FROM remote_notes")
    assert note["visibility"] == "direct"
    assert await notification_types(services.store) == ["mention"]
    await twice_changes_nothing(services, create)


async def test_a_note_that_concerns_none_of_our_businesses_is_not_kept(services, biz):
    await add_remote_actor(services.store, ALICE)
    create = p.mastodon_create_reply(ALICE, biz, "https://elsewhere.example/n/1", handle=HANDLE)
    create["object"]["tag"] = []
    create["object"]["cc"] = create["cc"] = [f"{ALICE}/followers"]
    assert (await handle(services, create)).startswith("ignored")
    assert await count(services.store, "remote_notes") == 0


async def test_a_note_attributed_to_someone_else_fails_the_item(services, biz, post):
    _, post_uri = post
    await add_remote_actor(services.store, ALICE)
    create = p.mastodon_create_reply(ALICE, biz, post_uri, handle=HANDLE)
    create["object"]["attributedTo"] = ZORK
    row = await dispatch(services, create)
    assert row["state"] == "failed"
    assert row["last_error"] == "BadActivity"
    assert await count(services.store, "remote_notes") == 0


async def test_an_edit_replaces_the_content_and_records_when(services, biz, post):
    _, post_uri = post
    await add_remote_actor(services.store, ALICE)
    await handle(services, p.mastodon_create_reply(ALICE, biz, post_uri, handle=HANDLE))
    update = p.mastodon_update_note(ALICE, biz, post_uri, handle=HANDLE)
    assert await handle(services, update) == "note edited"
    note = await services.store.fetch_one("SELECT * FROM remote_notes")
    assert note["content_html"] == "<p>Best croissant in town, edited</p>"
    assert note["edited_at"] is not None
    await twice_changes_nothing(services, update)


async def test_only_the_author_may_edit_a_note(services, biz, post):
    _, post_uri = post
    await add_remote_actor(services.store, ALICE)
    await add_remote_actor(services.store, "https://mastodon.example/users/mallory")
    await handle(services, p.mastodon_create_reply(ALICE, biz, post_uri, handle=HANDLE))
    update = p.mastodon_update_note(ALICE, biz, post_uri, handle=HANDLE)
    update["actor"] = "https://mastodon.example/users/mallory"
    row = await dispatch(services, update)
    assert row["state"] == "failed"  # attributedTo is not the actor
    note = await services.store.fetch_one("SELECT content_html FROM remote_notes")
    assert "edited" not in note["content_html"]


async def test_a_tombstone_delete_removes_the_note_and_its_notification(services, biz, post):
    _, post_uri = post
    await add_remote_actor(services.store, ALICE)
    await handle(services, p.mastodon_create_reply(ALICE, biz, post_uri, handle=HANDLE))
    delete = p.mastodon_delete_note(ALICE)
    assert await handle(services, delete) == "note deleted"
    assert await count(services.store, "remote_notes") == 0
    assert await count(services.store, "remote_note_targets") == 0
    assert await count(services.store, "notifications") == 0
    await twice_changes_nothing(services, delete)
