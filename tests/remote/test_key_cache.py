"""Remote keys kept in memory, and read from ``remote_keys`` many per query (``KeyLoader``)."""

from __future__ import annotations

import asyncio

import pytest

from fedi_town.remote.key_cache import KeyLoader
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
