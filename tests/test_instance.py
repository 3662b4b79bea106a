"""The instance actor's key pair: made once, sealed at rest, the same after a restart."""

from __future__ import annotations

import json

import pytest

from fedi_town import instance
from fedi_town.protocol.httpsig import parse_request_signature, verify_request_signature
from fedi_town.protocol.keys import load_public_key
from fedi_town.protocol.sealed import is_sealed
from fedi_town.protocol.urls import Urls
from fedi_town.services import Services
from fedi_town.settings import Settings
from fedi_town.store import businesses
from fedi_town.store.db import Store
from fedi_town.store.migrations import migrate

pytestmark = pytest.mark.anyio


def services_over(settings: Settings, store: Store) -> Services:
    return Services(settings=settings, store=store, urls=Urls(settings.base_url))


async def test_the_key_is_made_once_and_the_same_key_is_read_after_a_restart(
    settings: Settings, store: Store
):
    # Given a migrated database with no instance key
    await migrate(store)
    first = services_over(settings, store)
    # When the instance starts, then starts again with fresh services
    await instance.ensure_instance_key(first)
    again = services_over(settings, store)
    await instance.ensure_instance_key(again)
    # Then both hold the same key pair, under the instance actor's key id
    assert first.instance_key is not None and again.instance_key is not None
    assert first.instance_key.public_pem == again.instance_key.public_pem
    assert first.instance_key.private_pem == again.instance_key.private_pem
    assert repr(first.instance_key) == f"InstanceKey(KeySigner({first.urls.instance_key_id()!r}))"


async def test_the_private_key_is_stored_sealed_never_in_plain_pem(
    settings: Settings, store: Store
):
    # When the instance key is made
    await migrate(store)
    services = services_over(settings, store)
    await instance.ensure_instance_key(services)
    # Then the stored private half is sealed and holds no PEM
    stored = json.loads(await businesses.get_kv(store, instance.KV_KEY) or "{}")
    assert is_sealed(stored["private"])
    assert "PRIVATE KEY" not in stored["private"]


async def test_a_get_signed_as_the_instance_actor_verifies_with_its_public_key(
    settings: Settings, store: Store
):
    # Given a started instance key
    await migrate(store)
    services = services_over(settings, store)
    await instance.ensure_instance_key(services)
    key = services.started_instance_key()
    # When a server-to-server GET is signed with it
    headers = services.instance_signer()("GET", "https://remote.test/users/jo", {}, None, "cavage")
    # Then the remote verifies it with the public key it can fetch
    sig = parse_request_signature("GET", "/users/jo", headers, b"")
    verify_request_signature(sig, load_public_key(key.public_pem), now=services.clock())
    assert sig.key_id == services.urls.instance_key_id()
