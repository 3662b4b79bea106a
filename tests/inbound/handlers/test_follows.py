"""inbound.handlers.follows: Follow, Block, and Accept or Reject of our follows, fed as
Mastodon, GoToSocial and Pixelfed send them (tests/inbound/payloads.py)."""

from __future__ import annotations

import pytest

from fedi_town.store import following
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


async def _following(services, bakery, actor_uri):
    """The bakery follows ``actor_uri`` (pending), as ``outbound.following.follow`` leaves it."""
    actor = await add_remote_actor(services.store, actor_uri)
    return await following.insert(
        services.store,
        business_id=bakery.id,
        actor_id=actor.id,
        follow_uri=f"{services.urls.actor(bakery.username)}#activities/1",
        now=1,
    )


def _answer(kind, actor, follow_object):
    return {
        "@context": p.AS,
        "id": f"{actor}#accepts/follows/1",
        "type": kind,
        "actor": actor,
        "object": follow_object,
    }


async def _state(services, bakery):
    rows = await following.page(services.store, bakery.id, limit=5)
    return [f.state for f, _ in rows]


@pytest.mark.parametrize(
    "embedded",
    ["whole", "id only", "same people, other id"],
)
async def test_an_accept_of_our_follow_makes_it_accepted(services, bakery, biz, embedded):
    # Given the bakery's pending follow of alice
    row = await _following(services, bakery, ALICE)
    inner = {"id": row.follow_uri, "type": "Follow", "actor": biz, "object": ALICE}
    if embedded == "id only":
        inner = row.follow_uri
    elif embedded == "same people, other id":
        inner = {**inner, "id": f"{ALICE}#rewritten"}
    # When alice's Accept arrives (Mastodon embeds the Follow; some send its id)
    outcome = await handle(services, _answer("Accept", ALICE, inner))
    # Then the follow is accepted; a repeat changes nothing
    assert outcome == "follow accepted"
    assert await _state(services, bakery) == ["accepted"]
    assert await handle(services, _answer("Accept", ALICE, inner)) == "follow already accepted"


async def test_a_reject_ends_our_follow_pending_or_accepted(services, bakery, biz):
    row = await _following(services, bakery, ALICE)
    inner = {"id": row.follow_uri, "type": "Follow", "actor": biz, "object": ALICE}
    await handle(services, _answer("Accept", ALICE, inner))
    # When alice rejects it later (she removed the bakery as follower)
    outcome = await handle(services, _answer("Reject", ALICE, inner))
    # Then the bakery no longer follows her
    assert outcome == "follow rejected"
    assert await _state(services, bakery) == []


async def test_an_answer_from_someone_else_changes_nothing(services, bakery, biz):
    # Given the bakery's follow of alice, and zork who is not followed
    row = await _following(services, bakery, ALICE)
    await add_remote_actor(services.store, ZORK)
    inner = {"id": row.follow_uri, "type": "Follow", "actor": biz, "object": ALICE}
    # When zork accepts or rejects alice's follow
    for kind in ("Accept", "Reject"):
        outcome = await handle(services, _answer(kind, ZORK, inner))
        # Then nothing happens
        assert outcome == "ignored: no such follow of ours"
    assert await _state(services, bakery) == ["pending"]


async def test_an_accept_of_something_else_is_ignored(services, bakery):
    await _following(services, bakery, ALICE)
    outcome = await handle(services, _answer("Accept", ALICE, {"id": "x:1", "type": "Invite"}))
    assert outcome == "ignored: not about a Follow"
    assert await _state(services, bakery) == ["pending"]


async def test_accept_and_reject_of_unknown_follows_are_acknowledged(services, biz):
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


async def test_a_block_of_a_business_ends_its_follow_of_them_too(services, bakery, biz):
    # Given the bakery following alice (accepted), and alice not following it
    row = await _following(services, bakery, ALICE)
    inner = {"id": row.follow_uri, "type": "Follow", "actor": biz, "object": ALICE}
    await handle(services, _answer("Accept", ALICE, inner))
    # When alice blocks the bakery
    block = {"@context": p.AS, "id": f"{ALICE}#blocks/1", "type": "Block", "actor": ALICE}
    outcome = await handle(services, block | {"object": biz})
    # Then the bakery no longer follows her
    assert outcome == "follow severed"
    assert await _state(services, bakery) == []


async def test_a_followed_account_deleting_itself_ends_the_follow(services, bakery, biz):
    await _following(services, bakery, ALICE)
    delete = {"@context": p.AS, "id": f"{ALICE}#delete", "type": "Delete", "actor": ALICE}
    assert await handle(services, delete | {"object": ALICE}) == "account purged"
    assert await _state(services, bakery) == []
