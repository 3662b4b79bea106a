"""Move: a follower's account moves; the new account (fetched from a real peer) must name
the old one in alsoKnownAs before its follows are handed over."""

from __future__ import annotations

import pytest

from fedi_town.remote.actors import fetch_actor
from tests.inbound import payloads as p
from tests.inbound.helpers import add_business, handle, snapshot

pytestmark = pytest.mark.anyio


async def follower_ids(store):
    rows = await store.fetch_all(
        "SELECT a.uri FROM follows f JOIN remote_actors a ON a.id = f.actor_id"
    )
    return [r["uri"] for r in rows]


async def test_a_move_to_an_account_that_names_the_old_one_moves_the_follow(services, peer):
    bakery = await add_business(services, "bakery")
    alice, bob = peer.actor("alice"), peer.actor("bob")
    bob.also_known_as = [alice.uri]
    await fetch_actor(services.fetcher(), alice.uri)
    await handle(services, p.mastodon_follow(alice.uri, services.urls.actor(bakery.username)))
    # When alice moves to bob
    move = p.mastodon_move(alice.uri, bob.uri)
    assert await handle(services, move) == f"moved 1 follow(s) to {bob.uri}"
    # Then bob follows the business instead, and alice is marked as moved
    assert await follower_ids(services.store) == [bob.uri]
    moved = await services.store.fetch_val(
        "SELECT moved_to FROM remote_actors WHERE uri = :u", {"u": alice.uri}
    )
    assert moved == bob.uri
    assert peer.of_type("Follow") == [] and not [r for r in peer.requests if r[0] == "POST"]
    # And handling it again changes nothing
    before = await snapshot(services.store)
    await handle(services, move)
    assert await snapshot(services.store) == before


async def test_a_move_to_an_account_that_does_not_name_the_old_one_is_ignored(services, peer):
    bakery = await add_business(services, "bakery")
    alice, bob = peer.actor("alice"), peer.actor("bob")
    await fetch_actor(services.fetcher(), alice.uri)
    await handle(services, p.mastodon_follow(alice.uri, services.urls.actor(bakery.username)))
    outcome = await handle(services, p.mastodon_move(alice.uri, bob.uri))
    assert outcome.startswith("ignored")
    assert await follower_ids(services.store) == [alice.uri]
