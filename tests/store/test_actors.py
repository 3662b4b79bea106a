"""Remote actors and their keys: refreshed in place, keys replaced, another's key never taken."""

from __future__ import annotations

import pytest

from fedi_town.store import actors
from fedi_town.store.db import now_ms
from tests.store.conftest import a_profile, an_actor

pytestmark = pytest.mark.anyio

JO = "https://remote.test/users/jo"
AL = "https://remote.test/users/al"


async def test_an_actor_is_refreshed_in_place_when_fetched_again(store):
    # Given a stored actor
    first = await an_actor(store, "jo", display_name="Jo")
    # When its document is stored again with a new name
    again = await actors.upsert(store, a_profile("jo", display_name="Jo B."), now=now_ms())
    # Then it is the same row, renamed, found by its id, its URI and its handle
    assert again.id == first.id and again.display_name == "Jo B."
    assert (await actors.by_id(store, first.id)) == again
    assert (await actors.by_uri(store, JO)) == again
    assert (await actors.by_handle(store, "JO", "Remote.test")) == again
    assert again.handle == "@jo@remote.test"


async def test_an_actors_keys_are_replaced_by_the_ones_its_document_lists(store):
    # Given an actor with an old key
    await actors.upsert(store, a_profile("jo", keys=((f"{JO}#old", "old-pem"),)), now=now_ms())
    # When its document now lists only a new key
    await actors.upsert(store, a_profile("jo", keys=((f"{JO}#new", "new-pem"),)), now=now_ms())
    # Then the old key no longer verifies anything and the new one is its
    found = await actors.keys(store, [f"{JO}#old", f"{JO}#new"])
    assert list(found) == [f"{JO}#new"]
    assert (found[f"{JO}#new"].owner_uri, found[f"{JO}#new"].public_key_pem) == (JO, "new-pem")


async def test_a_key_another_actor_holds_is_not_taken_by_listing_it(store):
    # Given jo's key
    await actors.upsert(store, a_profile("jo", keys=((f"{JO}#key", "jo-pem"),)), now=now_ms())
    # When al's document lists jo's key id as its own
    await actors.upsert(store, a_profile("al", keys=((f"{JO}#key", "al-pem"),)), now=now_ms())
    # Then the key stays jo's
    key = (await actors.keys(store, [f"{JO}#key"]))[f"{JO}#key"]
    assert (key.owner_uri, key.public_key_pem) == (JO, "jo-pem")


async def test_a_key_moves_only_when_the_caller_proved_the_new_owner(store):
    # Given jo's key
    await actors.upsert(store, a_profile("jo", keys=((f"{JO}#key", "jo-pem"),)), now=now_ms())
    # When fetching the key id led to al, who lists it
    await actors.upsert(
        store, a_profile("al", keys=((f"{JO}#key", "al-pem"),)), move_key=f"{JO}#key", now=now_ms()
    )
    # Then the key is al's now
    assert (await actors.keys(store, [f"{JO}#key"]))[f"{JO}#key"].owner_uri == AL


async def test_an_actor_is_known_by_its_row_or_by_a_key_it_owns(store):
    assert not await actors.is_known(store, JO)
    await an_actor(store, "jo")
    assert await actors.is_known(store, JO)


async def test_the_recent_copy_of_an_actor_follows_its_changes(store):
    # Given an actor read once (so held in memory)
    actor = await an_actor(store, "jo")
    assert await actors.recent_by_uri(store, JO) == actor
    # When it moves
    await actors.set_moved_to(store, actor.id, AL)
    # Then the next read sees the move, not the copy
    moved = await actors.recent_by_uri(store, JO)
    assert moved is not None and moved.moved_to == AL
    assert await actors.recent_by_uri(store, "https://remote.test/users/nobody") is None


async def test_recent_many_reads_the_actors_not_in_memory_and_keeps_them(store):
    # Given two stored actors, one of them read once (so held in memory)
    jo = await an_actor(store, "jo")
    al = await an_actor(store, "al")
    assert await actors.recent_by_uri(store, JO) == jo
    nobody = "https://remote.test/users/nobody"
    # When they and an unknown one are read together
    found = await actors.recent_many(store, [JO, AL, nobody, AL])
    # Then the known ones come back by uri, and the other is now in memory too: its row
    # gone, it is still answered from memory
    assert found == {JO: jo, AL: al}
    await store.execute("DELETE FROM remote_actors WHERE id = :id", {"id": al.id})
    assert await actors.recent_by_uri(store, AL) == al


def test_the_domain_of_an_actor_is_its_host_in_lower_case():
    assert actors.domain_of("https://Remote.Test:8443/users/jo") == "remote.test:8443"
