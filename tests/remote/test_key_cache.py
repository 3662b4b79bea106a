"""Remote keys kept in memory, and read from ``remote_keys`` many per query (``KeyLoader``)."""

from __future__ import annotations

import asyncio

import pytest

from fedi_town.protocol.keys import load_public_key
from fedi_town.remote.key_cache import CachedKey, KeyCache, KeyLoader
from fedi_town.remote.verify import find_key
from tests.inbound.helpers import add_remote_actor, keypair

pytestmark = pytest.mark.anyio


async def test_keys_asked_for_together_are_read_with_one_query(services):
    # Given three known actors and a key nobody has
    uris = [f"https://remote.example/users/u{n}" for n in range(3)]
    for uri in uris:
        await add_remote_actor(services.store, uri)
    loader = KeyLoader(services.store)
    asked = [f"{uri}#main-key" for uri in uris] + ["https://remote.example/users/x#main-key"]
    # When requests ask for them at the same moment (one key twice)
    found = await asyncio.gather(*(loader.load(k) for k in [*asked, asked[0]]))
    # Then one query answered all of them, the unknown one with None
    assert loader.queries == 1
    assert [k.owner_uri if k else None for k in found] == [*uris, None, uris[0]]
    assert found[0] is not None and found[0].public_key_pem == keypair()[1]


async def test_a_key_read_from_storage_is_kept_in_memory(services):
    uri = "https://remote.example/users/alice"
    await add_remote_actor(services.store, uri)
    # When the same key is needed twice
    first, fetched = await find_key(services.verifier(), f"{uri}#main-key")
    again, _ = await find_key(services.verifier(), f"{uri}#main-key")
    # Then storage was read once, and nothing was fetched over the network
    assert not fetched
    assert first.owner_uri == uri and again is first
    loader = services.parts.find(KeyLoader)
    assert loader is not None and loader.queries == 1


def test_the_cache_keeps_the_most_recently_used_keys_up_to_its_size():
    # Given a cache of two keys, the first one used again after the second was put
    public_key = load_public_key(keypair()[1])
    cache = KeyCache(max_keys=2)
    cache.put(CachedKey("https://a.example/u#k", "https://a.example/u", public_key))
    cache.put(CachedKey("https://b.example/u#k", "https://b.example/u", public_key))
    assert cache.get("https://a.example/u#k") is not None
    # When a third key comes in
    cache.put(CachedKey("https://c.example/u#k", "https://c.example/u", public_key))
    # Then the least recently used one went
    assert len(cache) == 2
    assert cache.get("https://b.example/u#k") is None


def test_an_actors_keys_are_forgotten_together():
    public_key = load_public_key(keypair()[1])
    cache = KeyCache()
    for key_id in ("https://a.example/u#k1", "https://a.example/u#k2"):
        cache.put(CachedKey(key_id, "https://a.example/u", public_key))
    cache.put(CachedKey("https://b.example/u#k", "https://b.example/u", public_key))
    # When alice's document is stored again
    cache.forget_owner("https://a.example/u")
    # Then only her keys are gone
    assert len(cache) == 1 and cache.get("https://b.example/u#k") is not None
