"""Actor documents parsed strictly, and keys resolved the ways real servers publish them:
inside the actor (one or several, Mastodon 4.6), or as a separate key document."""

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
from tests.live import bind_loopback, serve_app

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
