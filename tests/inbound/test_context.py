"""inbound.context: what a handler gets (the activity's type and object, who sent it, our
business it names, whether the sender is blocked), over a real store and a real remote peer."""

from __future__ import annotations

import pytest

from fedi_town.inbound.context import Inbound, group_reads
from fedi_town.store import moderation
from fedi_town.store.db import now_ms
from tests.inbound.helpers import add_business, add_remote_actor, count

pytestmark = pytest.mark.anyio

ALICE = "https://mastodon.example/users/alice"


def inbound(services, activity, **extra) -> Inbound:
    return Inbound(services, item_id=0, activity=activity, actor_uri=ALICE, **extra)


async def test_the_type_is_the_one_the_inbox_chose_else_the_first_of_the_activity(services):
    # Given a Like typed ["Like", "Foo"]
    like = {"type": ["Like", "Foo"], "actor": ALICE, "object": "https://town.example/x"}
    # When it is read without and with the type the inbox chose
    # Then the first type is used, unless the inbox chose another
    assert inbound(services, like).type == "Like"
    assert inbound(services, like, kind="Foo").type == "Foo"
    assert inbound(services, like).object == "https://town.example/x"


async def test_an_activity_without_a_type_has_an_empty_one(services):
    # Given an activity with no type
    # When its type is read
    # Then it is empty, so no handler matches it
    assert inbound(services, {"actor": ALICE}).type == ""


async def test_our_actor_id_names_its_business(services, bakery, biz):
    # Given the bakery and its actor id
    ctx = inbound(services, {"type": "Follow"})
    # When the business at that id is looked up
    found = await ctx.business_at(biz)
    # Then it is the bakery
    assert found is not None and found.id == bakery.id


@pytest.mark.parametrize(
    "uri",
    [
        None,
        "",
        "https://town.example/users/",
        "https://town.example/users/nobody",
        "https://town.example/users/bakery/outbox",
        "https://town.example/users/bakery#main-key",
        "https://town.example/users/bakery?x=1",
        "https://town.example/users/BAKERY",
        "https://elsewhere.example/users/bakery",
    ],
)
async def test_anything_but_our_exact_actor_id_names_no_business(services, bakery, uri):
    # Given the bakery, and an id that is not exactly its actor id
    ctx = inbound(services, {"type": "Follow"})
    # When the business at that id is looked up
    # Then there is none
    assert await ctx.business_at(uri) is None


async def test_a_known_sender_is_read_from_the_store_without_a_fetch(services):
    # Given a sender we have stored (its host does not exist, so a fetch would fail)
    stored = await add_remote_actor(services.store, ALICE)
    ctx = inbound(services, {"type": "Like"})
    # When the handler asks who sent it
    actor = await ctx.actor()
    # Then it is the stored actor
    assert (actor.id, actor.uri) == (stored.id, ALICE)


async def test_an_unknown_sender_is_fetched_once_and_stored(services, peer):
    # Given a sender we have never seen, served by a real remote server
    alice = peer.actor("alice")
    ctx = Inbound(services, item_id=0, activity={"type": "Like"}, actor_uri=alice.uri)
    # When the handler asks who sent it, twice
    first = await ctx.actor()
    again = await ctx.actor()
    # Then its document is fetched once, and the actor stored
    assert first.uri == again.uri == alice.uri
    assert [r for r in peer.requests if r == ("GET", "/users/alice")] == [("GET", "/users/alice")]
    assert await count(services.store, "remote_actors", "uri = :u", u=alice.uri) == 1


async def test_a_block_by_one_business_blocks_the_sender_for_it_only(services, bakery):
    # Given the bakery blocks the sender, and the cafe does not
    cafe = await add_business(services, "cafe")
    await moderation.add_block(
        services.store, business_id=bakery.id, actor_uri=ALICE, domain=None, now=now_ms()
    )
    ctx = inbound(services, {"type": "Follow"})
    # When each asks whether the sender is blocked
    # Then only the bakery blocks it
    assert await ctx.blocked_by(bakery.id) is True
    assert await ctx.blocked_by(cafe.id) is False


async def test_an_instance_block_of_the_senders_domain_blocks_it_for_every_business(
    services, bakery
):
    # Given the instance blocks the sender's domain
    await moderation.add_block(
        services.store, business_id=None, actor_uri=None, domain="mastodon.example", now=now_ms()
    )
    ctx = inbound(services, {"type": "Follow"})
    # When the bakery asks whether the sender is blocked
    # Then it is
    assert await ctx.blocked_by(bakery.id) is True


async def test_in_a_group_our_posts_and_businesses_are_read_once(services, bakery, biz, post):
    # Given the bakery's post, and a second item of the same group (a fresh Inbound each)
    post_id, uri = post
    first, second = inbound(services, {"type": "Like"}), inbound(services, {"type": "Like"})
    with group_reads():
        # When both look the post and the business up
        seen = await first.post_at(uri)
        # (the post is deleted meanwhile, by nobody the group waits for)
        await services.store.execute(
            "UPDATE posts SET deleted_at = 1 WHERE id = :i", {"i": post_id}
        )
        again = await second.post_at(uri)
        businesses = [await first.business_at(biz), await second.business_at(biz)]
        # Then the group read each once and saw one answer
        assert seen is again and seen is not None and seen.id == post_id
        assert businesses[0] is businesses[1] and businesses[0] is not None
        assert await second.post_at(None) is None
    # And outside a group every look-up reads afresh
    assert await inbound(services, {"type": "Like"}).post_at(uri) is None
