"""inbound.handlers.undo: Undo of a Follow, a Like or an Announce, embedded or by bare id, and
only by whoever did it."""

from __future__ import annotations

import pytest

from tests.inbound import payloads as p
from tests.inbound.handlers.helpers import (
    ALICE,
    MISSKEY,
    PIXEL,
    ZORK,
    twice_changes_nothing,
)
from tests.inbound.helpers import (
    add_business,
    add_remote_actor,
    count,
    handle,
)

pytestmark = pytest.mark.anyio


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
