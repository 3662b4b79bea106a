"""Handlers, fed activities shaped as Mastodon, GoToSocial, Misskey, Pixelfed and Fedify send
them (tests/inbound/payloads.py). Each is handled once with effect, and again with none."""

from __future__ import annotations

import json

import pytest

from tests.inbound import payloads as p
from tests.inbound.helpers import (
    add_business,
    add_remote_actor,
    count,
    dispatch,
    handle,
    keypair,
    notification_types,
    outgoing,
    snapshot,
)

pytestmark = pytest.mark.anyio

ALICE = "https://mastodon.example/users/alice"
ZORK = "https://gts.example/users/zork"
MISSKEY = "https://misskey.example/users/9lk2a1b2c3"
PIXEL = "https://pixelfed.example/users/alice"
HOLLO = "https://hollo.example/@alice"
HANDLE = "@bakery@town.example"


async def twice_changes_nothing(services, activity, **kwargs):
    before = await snapshot(services.store)
    await handle(services, activity, **kwargs)
    assert await snapshot(services.store) == before


# -- Follow ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [p.mastodon_follow, p.gotosocial_follow, p.pixelfed_follow],
    ids=["mastodon", "gotosocial", "pixelfed"],
)
async def test_a_follow_makes_an_accepted_follower_and_queues_an_accept_embedding_it(
    services, bakery, biz, make
):
    # Given a remote account we know
    actor = await add_remote_actor(services.store, ALICE)
    follow = make(ALICE, biz)
    # When its Follow is handled
    outcome = await handle(services, follow)
    # Then it follows the business, the owner is told, and an Accept goes to its inbox
    assert outcome == "new accepted follower"
    assert await count(services.store, "follows", "state = 'accepted'") == 1
    assert await notification_types(services.store) == ["follow"]
    [accept] = await outgoing(services.store, "Accept")
    assert accept["inboxes"] == [actor.inbox]
    assert accept["body"]["actor"] == biz
    assert accept["body"]["object"] == {k: v for k, v in follow.items() if k != "@context"}
    assert accept["body"]["id"].startswith(f"{biz}#activities/")


async def test_a_repeated_follow_is_accepted_again_without_a_second_follower(services, biz):
    await add_remote_actor(services.store, ALICE)
    await handle(services, p.mastodon_follow(ALICE, biz))
    # When the same Follow arrives again (Mastodon re-follows after a key change)
    outcome = await handle(services, p.mastodon_follow(ALICE, biz))
    # Then a second Accept is queued, but nothing else changes
    assert outcome == "repeated follow (accepted)"
    assert await count(services.store, "follows") == 1
    assert await notification_types(services.store) == ["follow"]
    assert len(await outgoing(services.store, "Accept")) == 2


async def test_a_follow_of_a_business_that_approves_by_hand_waits_as_a_request(services):
    cafe = await add_business(services, "cafe", manual=True)
    await add_remote_actor(services.store, ALICE)
    follow = p.mastodon_follow(ALICE, services.urls.actor(cafe.username))
    outcome = await handle(services, follow)
    assert outcome == "new pending follower"
    assert await count(services.store, "follows", "state = 'pending'") == 1
    assert await notification_types(services.store) == ["follow_request"]
    assert await outgoing(services.store) == []
    await twice_changes_nothing(services, follow)


async def test_a_follow_of_someone_who_is_not_ours_is_ignored(services):
    await add_remote_actor(services.store, ALICE)
    outcome = await handle(services, p.mastodon_follow(ALICE, "https://elsewhere.example/u/x"))
    assert outcome.startswith("ignored")
    assert await count(services.store, "follows") == 0


@pytest.mark.parametrize(
    "follow, undo",
    [
        (p.mastodon_follow, p.mastodon_undo_follow),
        (p.pixelfed_follow, p.pixelfed_undo_follow),
    ],
    ids=["mastodon", "pixelfed-mismatched-inner-id"],
)
async def test_undo_follow_removes_the_follower(services, biz, follow, undo):
    actor = ALICE if follow is p.mastodon_follow else PIXEL
    await add_remote_actor(services.store, actor)
    await handle(services, follow(actor, biz))
    # When the follower undoes its Follow (embedded; Pixelfed's inner id differs)
    outcome = await handle(services, undo(actor, biz))
    # Then the follow is gone; undoing again changes nothing
    assert outcome == "follow removed"
    assert await count(services.store, "follows") == 0
    await twice_changes_nothing(services, undo(actor, biz))


async def test_undo_of_a_pending_request_also_removes_its_notification(services):
    cafe = await add_business(services, "cafe", manual=True)
    await add_remote_actor(services.store, ALICE)
    biz = services.urls.actor(cafe.username)
    await handle(services, p.mastodon_follow(ALICE, biz))
    await handle(services, p.mastodon_undo_follow(ALICE, biz))
    assert await count(services.store, "notifications") == 0


# -- Like, Announce, Undo -------------------------------------------------------------


@pytest.mark.parametrize(
    "actor, make",
    [
        (ALICE, lambda a, post, biz: p.mastodon_like(a, post)),
        (ZORK, lambda a, post, biz: p.gotosocial_like(a, post, biz)),
        (MISSKEY, lambda a, post, biz: p.misskey_like(a, post)),
        (HOLLO, lambda a, post, biz: p.fedify_like(a, post)),
    ],
    ids=["mastodon", "gotosocial", "misskey-reaction", "fedify"],
)
async def test_a_like_of_our_post_is_counted_and_notified_once(services, biz, post, actor, make):
    post_id, post_uri = post
    await add_remote_actor(services.store, actor)
    like = make(actor, post_uri, biz)
    assert await handle(services, like) == "Like recorded"
    assert await count(services.store, "interactions", "kind = 'like' AND post_id = :p", p=post_id)
    assert await notification_types(services.store) == ["like"]
    await twice_changes_nothing(services, like)


@pytest.mark.parametrize(
    "actor, like, undo",
    [
        (ALICE, p.mastodon_like, p.mastodon_undo_like),
        (MISSKEY, p.misskey_like, p.misskey_undo_like),
    ],
    ids=["mastodon", "misskey"],
)
async def test_undo_like_removes_the_like_and_its_notification(services, post, actor, like, undo):
    _, post_uri = post
    await add_remote_actor(services.store, actor)
    await handle(services, like(actor, post_uri))
    assert await handle(services, undo(actor, post_uri)) == "like removed"
    assert await count(services.store, "interactions") == 0
    assert await count(services.store, "notifications") == 0
    await twice_changes_nothing(services, undo(actor, post_uri))


async def test_a_like_of_something_that_is_not_our_post_is_ignored(services):
    await add_remote_actor(services.store, ALICE)
    outcome = await handle(services, p.mastodon_like(ALICE, "https://elsewhere.example/n/1"))
    assert outcome.startswith("ignored")
    assert await count(services.store, "interactions") == 0


@pytest.mark.parametrize(
    "actor, make",
    [(ALICE, p.mastodon_announce), (PIXEL, p.pixelfed_announce)],
    ids=["mastodon", "pixelfed"],
)
async def test_a_boost_of_our_post_is_counted_and_notified_once(services, biz, post, actor, make):
    _, post_uri = post
    await add_remote_actor(services.store, actor)
    announce = make(actor, biz, post_uri)
    assert await handle(services, announce) == "Announce recorded"
    assert await count(services.store, "interactions", "kind = 'announce'") == 1
    assert await notification_types(services.store) == ["boost"]
    await twice_changes_nothing(services, announce)


async def test_undo_announce_embedded_removes_the_boost(services, biz, post):
    _, post_uri = post
    await add_remote_actor(services.store, ALICE)
    await handle(services, p.mastodon_announce(ALICE, biz, post_uri))
    undo = p.mastodon_undo_announce(ALICE, biz, post_uri)
    assert await handle(services, undo) == "announce removed"
    assert await count(services.store, "interactions") == 0
    assert await count(services.store, "notifications") == 0
    await twice_changes_nothing(services, undo)


async def test_undo_announce_by_bare_id_removes_the_boost(services, biz, post):
    _, post_uri = post
    await add_remote_actor(services.store, PIXEL)
    await handle(services, p.pixelfed_announce(PIXEL, biz, post_uri))
    assert await handle(services, p.pixelfed_undo_announce_by_id(PIXEL)) == "announce removed"
    assert await count(services.store, "interactions") == 0


async def test_someone_cannot_undo_another_persons_like(services, post):
    _, post_uri = post
    await add_remote_actor(services.store, ALICE)
    await add_remote_actor(services.store, ZORK)
    await handle(services, p.mastodon_like(ALICE, post_uri))
    forged = p.mastodon_undo_like(ALICE, post_uri) | {"actor": ZORK}
    assert (await handle(services, forged)).startswith("ignored")
    assert await count(services.store, "interactions") == 1


# -- Create, Update, Delete of notes --------------------------------------------------


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


# -- accounts -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make", [p.mastodon_update_person, p.fedify_update_person], ids=["mastodon", "fedify"]
)
async def test_a_profile_update_refreshes_the_cached_actor_and_keys(services, make):
    actor = ALICE if make is p.mastodon_update_person else HOLLO
    await add_remote_actor(services.store, actor)
    _, new_pem = keypair()
    update = make(actor, name="Alice Renamed", public_pem=new_pem)
    assert await handle(services, update) == "profile refreshed"
    row = await services.store.fetch_one("SELECT * FROM remote_actors")
    host = actor.split("/")[2]
    assert row["display_name"] == "Alice Renamed"
    assert row["url"] == f"https://{host}/@alice"
    assert row["icon_url"].startswith(f"https://{host}/")
    assert row["shared_inbox"] == f"https://{host}/inbox"
    [key] = await services.store.fetch_all("SELECT * FROM remote_keys")
    assert key["key_id"] == f"{actor}#main-key" and key["owner_uri"] == actor
    await twice_changes_nothing(services, update)


async def test_nobody_may_update_someone_elses_profile(services):
    await add_remote_actor(services.store, ALICE)
    await add_remote_actor(services.store, ZORK)
    update = p.mastodon_update_person(ALICE, name="Hijacked", public_pem=keypair()[1])
    update["actor"] = ZORK
    assert (await handle(services, update)).startswith("ignored")
    row = await services.store.fetch_one(
        "SELECT display_name FROM remote_actors WHERE uri = :u", {"u": ALICE}
    )
    assert row["display_name"] == "Alice"


@pytest.mark.parametrize(
    "actor, make",
    [(ALICE, p.mastodon_delete_actor), (MISSKEY, p.misskey_delete_actor)],
    ids=["mastodon", "misskey"],
)
async def test_an_account_delete_removes_every_trace_of_that_person(
    services, biz, post, actor, make
):
    _, post_uri = post
    await add_remote_actor(services.store, actor)
    other = await add_remote_actor(services.store, ZORK)
    await handle(services, p.mastodon_follow(actor, biz) | {"id": f"{actor}#f1"})
    await handle(services, p.mastodon_like(actor, post_uri) | {"id": f"{actor}#l1"})
    await handle(services, p.mastodon_announce(actor, biz, post_uri) | {"id": f"{actor}#a1"})
    reply = p.mastodon_create_reply(actor, biz, post_uri, handle=HANDLE)
    reply["object"]["id"] = f"{actor}/notes/1"
    reply["object"]["attributedTo"] = actor
    await handle(services, reply | {"id": f"{actor}/notes/1/activity"})
    await handle(services, p.mastodon_follow(ZORK, biz))
    # When the account is deleted
    assert await handle(services, make(actor)) == "account purged"
    # Then nothing of it remains, and others are untouched
    for table in ("interactions", "remote_notes", "remote_note_targets"):
        assert await count(services.store, table) == 0, table
    assert await count(services.store, "follows") == 1
    assert await count(services.store, "notifications") == 1
    assert await count(services.store, "remote_actors") == 1
    assert await count(services.store, "remote_keys", "owner_uri = :u", u=actor) == 0
    assert (await services.store.fetch_one("SELECT id FROM remote_actors"))["id"] == other.id
    await twice_changes_nothing(services, make(actor))


@pytest.mark.parametrize(
    "actor, make", [(ALICE, p.mastodon_block), (ZORK, p.gotosocial_block)], ids=["mastodon", "gts"]
)
async def test_a_block_of_a_business_ends_their_follow(services, biz, actor, make):
    await add_remote_actor(services.store, actor)
    await handle(services, p.gotosocial_follow(actor, biz))
    assert await handle(services, make(actor, biz)) == "follow severed"
    assert await count(services.store, "follows") == 0
    await twice_changes_nothing(services, make(actor, biz))


@pytest.mark.parametrize(
    "instance, make",
    [
        ("https://mastodon.example/actor", p.mastodon_flag),
        ("https://gts.example/users/gts.example", p.gotosocial_flag),
    ],
    ids=["mastodon", "gotosocial"],
)
async def test_a_flag_becomes_a_report_the_business_and_admin_see(
    services, bakery, biz, post, instance, make
):
    _, post_uri = post
    await add_remote_actor(services.store, instance)
    flag = make(instance, biz, post_uri)
    assert await handle(services, flag) == "report stored for 1 business(es)"
    report = await services.store.fetch_one("SELECT * FROM reports")
    assert report["business_id"] == bakery.id
    assert json.loads(report["object_uris"]) == [biz, post_uri]
    assert await notification_types(services.store) == ["report"]
    await twice_changes_nothing(services, flag)


async def test_accept_and_reject_of_follows_are_acknowledged_and_ignored(services, biz):
    await add_remote_actor(services.store, ALICE)
    accept = {
        "@context": p.AS,
        "id": f"{ALICE}#accepts/follows/1",
        "type": "Accept",
        "actor": ALICE,
        "object": {"id": f"{biz}#follows/1", "type": "Follow", "actor": biz, "object": ALICE},
    }
    row = await dispatch(services, accept)
    assert row["state"] == "done"


# -- the dispatcher -------------------------------------------------------------------


async def test_an_unknown_activity_type_is_marked_done(services):
    row = await dispatch(
        services,
        {"id": f"{ALICE}#reads/1", "type": "Read", "actor": ALICE, "object": f"{ALICE}/x"},
    )
    assert row["state"] == "done"


async def test_an_item_from_a_sender_blocked_after_it_arrived_is_not_handled(services, biz):
    from fedi_town.store import moderation

    await add_remote_actor(services.store, ALICE)
    await moderation.add_block(
        services.store,
        business_id=None,
        actor_uri=None,
        domain="mastodon.example",
        now=services.now_ms(),
    )
    row = await dispatch(services, p.mastodon_follow(ALICE, biz))
    assert row["state"] == "done"
    assert await count(services.store, "follows") == 0


async def test_a_business_block_stops_that_business_only(services, bakery, biz):
    from fedi_town.store import moderation

    cafe = await add_business(services, "cafe")
    await add_remote_actor(services.store, ALICE)
    await moderation.add_block(
        services.store, business_id=bakery.id, actor_uri=ALICE, domain=None, now=services.now_ms()
    )
    assert (await handle(services, p.mastodon_follow(ALICE, biz))).startswith("ignored")
    cafe_follow = p.mastodon_follow(ALICE, services.urls.actor(cafe.username)) | {
        "id": f"{ALICE}#2"
    }
    assert await handle(services, cafe_follow) == "new accepted follower"
