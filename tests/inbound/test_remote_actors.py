"""Actor documents parsed strictly, and keys resolved the ways real servers publish them:
inside the actor (one or several, Mastodon 4.6), or as a separate key document. A key is
bound only to the actor that proves it: no document can take another actor's key."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.inbound.signatures import KeyTemporarilyUnavailable, find_key
from fedi_town.protocol.httpsig import UnknownKey
from fedi_town.remote.actors import BadActorDocument, fetch_key, parse_actor
from fedi_town.store import actors as store_actors
from tests.inbound.helpers import keypair
from tests.live import bind_loopback, live_instance, serve_app
from tests.peer import TestPeer
from tests.reliability import record

pytestmark = pytest.mark.anyio

A = "https://m.example/users/alice"


def actor(**extra: Any) -> dict[str, Any]:
    document = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": A,
        "type": "Person",
        "inbox": f"{A}/inbox",
        "preferredUsername": "alice",
    }
    document.update(extra)
    return document


def test_an_actor_needs_an_id_an_actor_type_and_an_inbox():
    assert parse_actor(actor()).inbox == f"{A}/inbox"
    for broken in (actor(id=None), actor(type="Note"), actor(inbox=None), actor(inbox="mailto:x")):
        with pytest.raises(BadActorDocument):
            parse_actor(broken)


def test_an_actor_type_may_be_a_list():
    assert parse_actor(actor(type=["Service", "Other"])).type == "Service"


def test_profile_fields_are_read_in_their_usual_shapes():
    profile = parse_actor(
        actor(
            name="Alice",
            url="https://elsewhere.example/@alice",  # off-host: ignored, as Mastodon does
            icon=[{"type": "Image", "url": "https://m.example/a.png"}],
            followers={"id": f"{A}/followers"},
            endpoints={"sharedInbox": "https://m.example/inbox"},
            alsoKnownAs="https://old.example/users/alice",
            movedTo="https://new.example/users/alice",
        )
    )
    assert profile.display_name == "Alice"
    assert profile.url is None
    assert profile.icon_url == "https://m.example/a.png"
    assert profile.followers_uri == f"{A}/followers"
    assert profile.shared_inbox == "https://m.example/inbox"
    assert profile.also_known_as == ("https://old.example/users/alice",)
    assert profile.moved_to == "https://new.example/users/alice"


def test_only_keys_owned_by_the_actor_itself_are_kept():
    pem = keypair()[1]
    profile = parse_actor(
        actor(
            publicKey=[
                {"id": f"{A}#main-key", "owner": A, "publicKeyPem": pem},
                {"id": f"{A}#ed25519-key", "owner": A, "publicKeyPem": pem},
                {
                    "id": "https://evil.example/k",
                    "owner": "https://evil.example/u",
                    "publicKeyPem": pem,
                },
            ]
        )
    )
    assert [k for k, _ in profile.keys] == [f"{A}#main-key", f"{A}#ed25519-key"]


def test_a_listed_key_must_name_the_actor_as_owner_and_live_on_its_host():
    # Given an actor document listing keys that are not its own in every way but one
    pem = keypair()[1]
    listed = [
        {"id": f"{A}#main-key", "owner": A, "publicKeyPem": pem},
        {"id": "https://victim.example/users/v#main-key", "owner": A, "publicKeyPem": pem},
        {"id": f"{A}#no-owner", "publicKeyPem": pem},
        {"id": f"{A}#other-owner", "owner": "https://m.example/users/bob", "publicKeyPem": pem},
    ]
    # When it is parsed
    profile = parse_actor(actor(publicKey=listed))
    # Then only the key named as its own, on its own host, is kept
    assert [k for k, _ in profile.keys] == [f"{A}#main-key"]
    for case in ("key id on another host", "no owner", "another owner"):
        record("signatures", f"actor lists a key with {case}", "dropped")


# -- a key stays with the actor that holds it ---------------------------------------------

V = "https://victim.example/users/v"
M = "https://victim.example/users/mallory"


def profile_of(uri: str, keys: tuple[tuple[str, str], ...]) -> store_actors.ActorProfile:
    return store_actors.ActorProfile(uri=uri, type="Person", inbox=f"{uri}/inbox", keys=keys)


async def test_an_actor_listing_a_key_another_actor_holds_does_not_take_it(store):
    # Given the victim's key, stored as the victim's
    pem = keypair()[1]
    await store_actors.upsert(store, profile_of(V, ((f"{V}#main-key", pem),)))
    # When another actor's document lists the same key id as its own
    await store_actors.upsert(store, profile_of(M, ((f"{V}#main-key", pem),)))
    # Then the key still belongs to the victim
    stored = await store_actors.keys(store, [f"{V}#main-key"])
    assert stored[f"{V}#main-key"].owner_uri == V
    record("signatures", "stored key listed by another actor", "kept")


async def test_a_key_moves_only_with_the_proof_of_its_fetched_id(store):
    # Given a key stored as mallory's
    pem = keypair()[1]
    await store_actors.upsert(store, profile_of(M, ((f"{V}#main-key", pem),)))
    # When the victim's own document, reached by fetching the key id, lists it
    await store_actors.upsert(
        store, profile_of(V, ((f"{V}#main-key", pem),)), move_key=f"{V}#main-key"
    )
    # Then the key is the victim's
    stored = await store_actors.keys(store, [f"{V}#main-key"])
    assert stored[f"{V}#main-key"].owner_uri == V


# -- fetching keys from a loopback server ---------------------------------------------


class KeyServer:
    """Serves actors and key documents at http://127.0.0.1:PORT/..."""

    def __init__(self) -> None:
        self.sock = bind_loopback()
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.documents: dict[str, Any] = {}
        self.status: dict[str, int] = {}
        self.app = Starlette(routes=[Route("/{path:path}", self.serve)])

    async def serve(self, request: Request) -> Response:
        path = request.url.path
        if path in self.status:
            return Response(status_code=self.status[path])
        if path not in self.documents:
            return Response(status_code=404)
        return Response(json.dumps(self.documents[path]), media_type="application/activity+json")

    def actor(self, name: str, keys: list[dict[str, Any]] | dict[str, Any]) -> str:
        uri = f"{self.base}/users/{name}"
        self.documents[f"/users/{name}"] = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": uri,
            "type": "Person",
            "inbox": f"{uri}/inbox",
            "preferredUsername": name,
            "publicKey": keys,
        }
        return uri


@pytest.fixture
async def keys_server() -> AsyncIterator[KeyServer]:
    server = KeyServer()
    async with serve_app(server.app, server.sock):
        yield server


async def test_a_key_listed_among_several_in_the_actor_is_found(services, keys_server):
    pem = keypair()[1]
    uri = f"{keys_server.base}/users/alice"
    keys_server.actor(
        "alice",
        [
            {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": pem},
            {"id": f"{uri}#other", "owner": uri, "publicKeyPem": pem},
        ],
    )
    key = await fetch_key(services, f"{uri}#other")
    assert (key.key_id, key.owner_uri) == (f"{uri}#other", uri)
    stored = await store_actors.by_uri(services.store, uri)
    assert stored is not None and stored.username == "alice"


async def test_a_separate_key_document_counts_when_its_owner_lists_it(services, keys_server):
    pem = keypair()[1]
    uri = f"{keys_server.base}/users/zork"
    key_id = f"{uri}/main-key"
    keys_server.actor("zork", {"id": key_id, "owner": uri, "publicKeyPem": pem})
    keys_server.documents["/users/zork/main-key"] = {
        "@context": "https://w3id.org/security/v1",
        "id": key_id,
        "type": "Key",
        "owner": uri,
        "publicKeyPem": pem,
    }
    key = await fetch_key(services, key_id)
    assert key.owner_uri == uri


async def test_a_key_document_whose_owner_does_not_list_it_is_refused(services, keys_server):
    pem = keypair()[1]
    uri = keys_server.actor("victim", {"id": "x", "owner": "y", "publicKeyPem": pem})
    keys_server.documents["/keys/forged"] = {
        "id": f"{keys_server.base}/keys/forged",
        "owner": uri,
        "publicKeyPem": pem,
    }
    with pytest.raises(UnknownKey):
        await find_key(services, f"{keys_server.base}/keys/forged")


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
        await find_key(services, f"{keys_server.base}/keys/k1")
    # Then it is refused and nothing is stored for it
    assert await store_actors.keys(services.store, [f"{keys_server.base}/keys/k1"]) == {}
    record("signatures", "key document owned on another host", "401")


async def test_a_missing_key_is_unknown_and_a_failing_server_is_temporary(services, keys_server):
    with pytest.raises(UnknownKey):
        await find_key(services, f"{keys_server.base}/users/nobody#main-key")
    keys_server.status["/users/busy"] = 503
    with pytest.raises(KeyTemporarilyUnavailable):
        await find_key(services, f"{keys_server.base}/users/busy#main-key")


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
    first, fetched = await find_key(services, f"{uri}#main-key")
    del keys_server.documents["/users/alice"]
    again, fetched_again = await find_key(services, f"{uri}#main-key")
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
