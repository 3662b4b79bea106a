"""Verifying signed requests: keys found in memory, in storage or fetched, with every
refusal; and over real HTTP, no actor can lock another out by claiming its key."""

from __future__ import annotations

from typing import Any

import pytest

from fedi_town.protocol.httpsig import UnknownKey
from fedi_town.remote.verify import KeyTemporarilyUnavailable, find_key
from fedi_town.store import actors as store_actors
from tests.inbound.helpers import keypair
from tests.live import live_instance
from tests.peer import TestPeer
from tests.reliability import record

pytestmark = pytest.mark.anyio


async def test_a_key_document_whose_owner_does_not_list_it_is_refused(services, keys_server):
    pem = keypair()[1]
    uri = keys_server.actor("victim", {"id": "x", "owner": "y", "publicKeyPem": pem})
    keys_server.documents["/keys/forged"] = {
        "id": f"{keys_server.base}/keys/forged",
        "owner": uri,
        "publicKeyPem": pem,
    }
    with pytest.raises(UnknownKey):
        await find_key(services.verifier(), f"{keys_server.base}/keys/forged")


async def test_a_key_document_whose_owner_is_on_another_host_is_refused(services, keys_server):
    # Given a key document naming an owner on another host (which does list the key)
    pem = keypair()[1]
    elsewhere = "http://127.0.0.2:9/users/eve"
    keys_server.documents["/keys/k1"] = {
        "id": f"{keys_server.base}/keys/k1",
        "owner": elsewhere,
        "publicKeyPem": pem,
    }
    # When the key is looked up
    with pytest.raises(UnknownKey):
        await find_key(services.verifier(), f"{keys_server.base}/keys/k1")
    # Then it is refused and nothing is stored for it
    assert await store_actors.keys(services.store, [f"{keys_server.base}/keys/k1"]) == {}
    record("signatures", "key document owned on another host", "401")


async def test_a_missing_key_is_unknown_and_a_failing_server_is_temporary(services, keys_server):
    with pytest.raises(UnknownKey):
        await find_key(services.verifier(), f"{keys_server.base}/users/nobody#main-key")
    keys_server.status["/users/busy"] = 503
    with pytest.raises(KeyTemporarilyUnavailable):
        await find_key(services.verifier(), f"{keys_server.base}/users/busy#main-key")


async def test_a_known_key_is_answered_from_memory_without_a_fetch(services, keys_server):
    pem = keypair()[1]
    uri = keys_server.actor(
        "alice",
        {
            "id": f"{keys_server.base}/users/alice#main-key",
            "owner": f"{keys_server.base}/users/alice",
            "publicKeyPem": pem,
        },
    )
    first, fetched = await find_key(services.verifier(), f"{uri}#main-key")
    del keys_server.documents["/users/alice"]
    again, fetched_again = await find_key(services.verifier(), f"{uri}#main-key")
    assert fetched and not fetched_again
    assert again.owner_uri == first.owner_uri == uri


# -- the lock-out attack, over real HTTP ------------------------------------------------


def claim_key_of(peer: TestPeer, thief: str, victim: TestPeer, name: str) -> None:
    """Make ``thief``'s document list ``victim``'s key as the thief's own."""
    own = peer.actor(thief)
    stolen = victim.actor(name)
    own.extra["publicKey"] = [
        {"id": own.key_id, "owner": own.uri, "publicKeyPem": own.public_pem},
        {"id": stolen.key_id, "owner": own.uri, "publicKeyPem": stolen.public_pem},
    ]


async def follow_from(live: Any, peer: TestPeer, name: str) -> int:
    business = live.urls.actor("bakery")
    response = await peer.post(live.urls.inbox("bakery"), peer.follow(business, name), name=name)
    return response.status_code


async def test_a_server_claiming_a_victims_key_cannot_lock_the_victim_out(database_url, tmp_path):
    async with (
        live_instance(database_url, tmp_path) as live,
        TestPeer.running("victim") as home,
        TestPeer.running("mallory") as evil,
    ):
        # Given a business, and mallory's server listing the victim's key as mallory's
        await live.create_business("bakery")
        claim_key_of(evil, "mallory", home, "victim")
        # When mallory sends a signed activity (so we fetch mallory's document)
        assert await follow_from(live, evil, "mallory") == 202
        # Then the victim's key was not bound to mallory
        key_id = home.actor("victim").key_id
        assert await store_actors.keys(live.store, [key_id]) == {}
        # And the victim's next activity is still accepted
        status = await follow_from(live, home, "victim")
        assert status == 202
        # And the victim's key is stored as the victim's
        stored = await store_actors.keys(live.store, [key_id])
        assert stored[key_id].owner_uri == home.actor("victim").uri
        record("signatures", "actor on another host claims a victim's key", str(status))


async def test_a_neighbour_claiming_a_victims_key_first_is_undone_by_the_key_id(
    database_url, tmp_path
):
    async with (
        live_instance(database_url, tmp_path) as live,
        TestPeer.running("victim", "mallory") as shared,
    ):
        # Given mallory, on the victim's own server, listing the victim's key as hers,
        # and her activity arriving before the victim was ever seen
        await live.create_business("bakery")
        claim_key_of(shared, "mallory", shared, "victim")
        assert await follow_from(live, shared, "mallory") == 202
        key_id = shared.actor("victim").key_id
        taken = await store_actors.keys(live.store, [key_id])
        assert taken[key_id].owner_uri == shared.actor("mallory").uri
        # When the victim sends a signed activity
        status = await follow_from(live, shared, "victim")
        # Then the key is fetched from its id once more, proven the victim's, and accepted
        assert status == 202
        stored = await store_actors.keys(live.store, [key_id])
        assert stored[key_id].owner_uri == shared.actor("victim").uri
        record("signatures", "same-host actor claims a victim's key first", str(status))


async def test_a_key_of_another_actor_still_cannot_sign_for_the_activitys_actor(
    database_url, tmp_path
):
    async with (
        live_instance(database_url, tmp_path) as live,
        TestPeer.running("victim", "mallory") as shared,
    ):
        # Given both actors known with their own keys
        await live.create_business("bakery")
        assert await follow_from(live, shared, "mallory") == 202
        # When mallory signs an activity whose actor is the victim
        activity = shared.follow(live.urls.actor("bakery"), "victim")
        response = await shared.post(live.urls.inbox("bakery"), activity, name="mallory")
        # Then it is refused after one refetch of mallory's key
        assert response.status_code == 401
        record("signatures", "activity signed by another actor's key", str(response.status_code))
