"""inbound.follow_answers: the Accept or Reject a business sends back to a follower embeds the
Follow as received (or rebuilt) and is queued to the follower's own inbox."""

from __future__ import annotations

import pytest

from fedi_town.inbound.follow_answers import enqueue_accept, enqueue_reject, follow_object
from fedi_town.store.social import Follow
from tests.inbound import payloads as p
from tests.inbound.helpers import add_remote_actor, outgoing

pytestmark = pytest.mark.anyio

ALICE = "https://mastodon.example/users/alice"


def follow(business_id: int, actor_id: int, **fields) -> Follow:
    values = {"follow_uri": None, "follow_document": None, "state": "accepted", "created_at": 0}
    values.update(fields)
    return Follow(id=1, business_id=business_id, actor_id=actor_id, **values)


async def test_the_follow_as_received_is_embedded_unchanged(services, bakery, biz):
    # Given a follow stored with the document it arrived as
    actor = await add_remote_actor(services.store, ALICE)
    received = p.mastodon_follow(ALICE, biz)
    stored = follow(bakery.id, actor.id, follow_uri=received["id"], follow_document=received)
    # When the Follow to embed is chosen
    # Then it is the received document itself
    assert follow_object(stored, bakery, actor, services.urls) == received


async def test_a_follow_stored_without_its_document_is_rebuilt_with_its_id(services, bakery, biz):
    # Given a follow stored with its id but not its document
    actor = await add_remote_actor(services.store, ALICE)
    stored = follow(bakery.id, actor.id, follow_uri=f"{ALICE}#follows/7")
    # When the Follow to embed is chosen
    # Then it is rebuilt from who followed whom, with the id the follower gave it
    assert follow_object(stored, bakery, actor, services.urls) == {
        "type": "Follow",
        "actor": ALICE,
        "object": biz,
        "id": f"{ALICE}#follows/7",
    }


async def test_a_follow_without_an_id_is_rebuilt_without_one(services, bakery, biz):
    # Given a follow stored with neither id nor document
    actor = await add_remote_actor(services.store, ALICE)
    # When the Follow to embed is chosen
    rebuilt = follow_object(follow(bakery.id, actor.id), bakery, actor, services.urls)
    # Then Mastodon can still match it by type and actor
    assert rebuilt == {"type": "Follow", "actor": ALICE, "object": biz}


@pytest.mark.parametrize(
    ("enqueue", "kind"), [(enqueue_accept, "Accept"), (enqueue_reject, "Reject")]
)
async def test_an_answer_is_queued_to_the_followers_own_inbox(services, bakery, biz, enqueue, kind):
    # Given a follower with a personal and a shared inbox, and its Follow
    actor = await add_remote_actor(services.store, ALICE)
    received = p.mastodon_follow(ALICE, biz)
    # When the business answers it
    uri = await enqueue(services, bakery, actor, received)
    # Then one activity by the business, embedding the Follow, goes to the personal inbox
    [answer] = await outgoing(services.store, kind)
    assert answer["inboxes"] == [actor.inbox]
    assert answer["body"]["id"] == uri and uri.startswith(f"{biz}#activities/")
    assert answer["body"]["actor"] == biz
    assert answer["body"]["object"]["id"] == received["id"]
