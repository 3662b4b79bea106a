"""inbound.handlers.follows: Follow, Block, and Accept or Reject of our follows, fed as
Mastodon, GoToSocial and Pixelfed send them (tests/inbound/payloads.py)."""

from __future__ import annotations

import pytest

from tests.inbound import payloads as p
from tests.inbound.handlers.helpers import (
    ALICE,
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
    outgoing,
)

pytestmark = pytest.mark.anyio


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
    "actor, make", [(ALICE, p.mastodon_block), (ZORK, p.gotosocial_block)], ids=["mastodon", "gts"]
)
async def test_a_block_of_a_business_ends_their_follow(services, biz, actor, make):
    await add_remote_actor(services.store, actor)
    await handle(services, p.gotosocial_follow(actor, biz))
    assert await handle(services, make(actor, biz)) == "follow severed"
    assert await count(services.store, "follows") == 0
    await twice_changes_nothing(services, make(actor, biz))


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
