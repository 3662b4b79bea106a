"""Actor documents parsed strictly, and keys resolved the ways real servers publish them:
inside the actor (one or several, Mastodon 4.6), or as a separate key document. A key is
bound only to the actor that proves it: no document can take another actor's key."""

from __future__ import annotations

from typing import Any

import pytest

from fedi_town.remote.actors import BadActorDocument, fetch_key, parse_actor
from fedi_town.store import actors as store_actors
from fedi_town.store.db import now_ms
from tests.inbound.helpers import keypair
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
    await store_actors.upsert(store, profile_of(V, ((f"{V}#main-key", pem),)), now=now_ms())
    # When another actor's document lists the same key id as its own
    await store_actors.upsert(store, profile_of(M, ((f"{V}#main-key", pem),)), now=now_ms())
    # Then the key still belongs to the victim
    stored = await store_actors.keys(store, [f"{V}#main-key"])
    assert stored[f"{V}#main-key"].owner_uri == V
    record("signatures", "stored key listed by another actor", "kept")


async def test_a_key_moves_only_with_the_proof_of_its_fetched_id(store):
    # Given a key stored as mallory's
    pem = keypair()[1]
    await store_actors.upsert(store, profile_of(M, ((f"{V}#main-key", pem),)), now=now_ms())
    # When the victim's own document, reached by fetching the key id, lists it
    await store_actors.upsert(
        store, profile_of(V, ((f"{V}#main-key", pem),)), move_key=f"{V}#main-key", now=now_ms()
    )
    # Then the key is the victim's
    stored = await store_actors.keys(store, [f"{V}#main-key"])
    assert stored[f"{V}#main-key"].owner_uri == V


# -- fetching keys from a loopback server (``keys_server``: tests/remote/conftest.py) --


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
    key = await fetch_key(services.fetcher(), f"{uri}#other")
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
    key = await fetch_key(services.fetcher(), key_id)
    assert key.owner_uri == uri
