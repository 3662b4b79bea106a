"""Private keys at rest: sealed in the database, opened once, rotated, refused without a key.

Runs on both backends through the real store; the commands that make and rotate keys
are tested with the command line (tests/test_cli.py).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest

from fedi_town.app import shutdown, startup
from fedi_town.errors import ConfigError
from fedi_town.mastodon.push import vapid_key
from fedi_town.protocol import httpsig
from fedi_town.protocol.keys import generate_rsa_keypair, load_public_key
from fedi_town.protocol.sealed import CannotOpen, Keyring, is_sealed, new_key
from fedi_town.protocol.urls import Urls
from fedi_town.services import Services
from fedi_town.settings import Settings
from fedi_town.store import businesses, keys_at_rest, push
from fedi_town.store.db import now_ms
from tests.conftest import KEY_ENCRYPTION_KEY, create_business
from tests.reliability import record

pytestmark = pytest.mark.anyio

SETTING = "FEDI_TOWN_KEY_ENCRYPTION_KEYS"


async def stored_values(services: Services) -> list[str]:
    """Every private key as its column holds it, the instance actor's included."""
    values = [text for _, text in await businesses.private_keys(services.store)]
    instance = await businesses.get_kv(services.store, keys_at_rest.INSTANCE_KEY)
    if instance is not None:
        values.append(json.loads(instance)["private"])
    return values


async def started(settings: Settings) -> Services:
    services = Services.from_settings(settings)
    await startup(services)
    return services


async def plain_business(services: Services, username: str) -> str:
    """A business stored as before encryption at rest: its private key in plain PEM."""
    private_pem, public_pem = generate_rsa_keypair()
    await businesses.create(
        services.store,
        username=username,
        profile={},
        owner_token_hash=f"hash-{username}",
        sealed_private_key=private_pem,
        public_key_pem=public_pem,
        now=now_ms(),
    )
    return private_pem


# -- the keyring ------------------------------------------------------------------------


def test_a_sealed_secret_opens_with_any_key_of_the_ring_and_only_with_those():
    # Given a secret sealed by a ring whose first key is new and second is old
    old, new = new_key(), new_key()
    sealed = Keyring([new, old]).seal("-----BEGIN PRIVATE KEY-----\nabc\n")
    # Then it is not PEM, opens with the new key alone, and not with another key
    assert is_sealed(sealed) and "BEGIN" not in sealed
    assert Keyring([new]).open(sealed).startswith("-----BEGIN PRIVATE KEY-----")
    with pytest.raises(CannotOpen):
        Keyring([old]).open(sealed)


def test_a_keyring_never_shows_its_keys():
    key = new_key()
    assert key not in repr(Keyring([key]))


# -- storage ------------------------------------------------------------------------------


async def test_a_created_business_and_the_instance_key_are_stored_without_pem(app_client):
    # Given a running instance
    services: Services = app_client.services
    # When a business is created through the admin API
    await create_business(app_client, "bakery")
    # Then no private key column holds a PEM
    values = await stored_values(services)
    assert len(values) == 2
    assert all(is_sealed(v) and "PRIVATE KEY" not in v for v in values)


async def test_a_key_stored_sealed_signs_as_its_business(app_client):
    # Given a business created through the admin API
    services: Services = app_client.services
    await create_business(app_client, "bakery")
    business = await businesses.by_username(services.store, "bakery")
    assert business is not None
    # When it signs a request with its stored key
    signer = services.business_signer(business)
    headers = signer("POST", "https://peer.example/inbox", {}, b"{}", "cavage")
    # Then the signature verifies with its public key
    parsed = httpsig.parse_request_signature(
        "POST", "/inbox", list(headers.items()), b"{}", origin="https://peer.example"
    )
    httpsig.verify_request_signature(
        parsed,
        load_public_key(business.public_key_pem),
        now=services.clock(),
        max_skew=timedelta(seconds=300),
        expected_host="peer.example",
    )


async def test_a_stored_key_is_opened_once_per_process(settings, store):
    # Given a sealed key
    services = Services(settings=settings, store=store, urls=Urls(settings.base_url))
    sealed = services.sealed_keys.seal(generate_rsa_keypair()[0])
    # When it is read twice
    first = services.sealed_keys.private_pem(sealed)
    second = services.sealed_keys.private_pem(sealed)
    # Then the same opened text is returned without opening it again
    assert first is second


async def test_a_started_instance_shows_no_key_in_its_reprs(settings):
    # Given a started instance holding its opened instance key
    services = await started(settings)
    try:
        # When its services and settings are printed
        shown = (
            repr(services)
            + repr(settings)
            + repr(services.sealed_keys)
            + repr(services.sealed_keys.keyring)
        )
        # Then neither a private key nor the key encryption key appears
        assert "PRIVATE KEY" not in shown
        assert KEY_ENCRYPTION_KEY not in shown
    finally:
        await shutdown(services)


async def test_plain_keys_are_sealed_by_the_first_start_with_a_key(settings):
    # Given a database whose business key and instance key were stored in plain PEM
    services = await started(settings)
    instance = await businesses.get_kv(services.store, keys_at_rest.INSTANCE_KEY)
    assert instance is not None
    pair = json.loads(instance)
    plain_instance = services.sealed_keys.private_pem(pair["private"])
    await businesses.replace_kv(
        services.store,
        keys_at_rest.INSTANCE_KEY,
        instance,
        json.dumps({"private": plain_instance, "public": pair["public"]}),
    )
    plain = await plain_business(services, "oldshop")
    await shutdown(services)
    # When the instance starts again
    services = await started(settings)
    try:
        # Then every key is sealed and opens to what it was
        values = await stored_values(services)
        assert all(is_sealed(v) for v in values)
        business = await businesses.by_username(services.store, "oldshop")
        assert business is not None
        assert services.sealed_keys.private_pem(business.sealed_private_key) == plain
        assert services.started_instance_key().private_pem == plain_instance
        # And sealing again changes nothing
        assert (await keys_at_rest.prepare(services.store, services.sealed_keys)).changed == 0
    finally:
        await shutdown(services)


async def test_rotation_reseals_every_key_with_the_first_key(settings):
    # Given keys sealed with the old key, and a new key put first
    services = await started(settings)
    await plain_business(services, "oldshop")
    await keys_at_rest.prepare(services.store, services.sealed_keys)
    await shutdown(services)
    fresh = new_key()
    rotating = dataclasses.replace(settings, key_encryption_keys=(fresh, KEY_ENCRYPTION_KEY))
    services = await started(rotating)
    try:
        # When the keys are rotated
        done = await keys_at_rest.reseal_all(services.store, services.sealed_keys)
        # Then every key was resealed, and a second rotation has nothing to do
        assert (done.changed, done.total) == (2, 2)
        assert (await keys_at_rest.reseal_all(services.store, services.sealed_keys)).changed == 0
    finally:
        await shutdown(services)
    # And the new key alone opens them all
    only_new = dataclasses.replace(settings, key_encryption_keys=(fresh,))
    services = await started(only_new)
    try:
        ring = Keyring([fresh])
        assert all(ring.open(v) for v in await stored_values(services))
    finally:
        await shutdown(services)


async def test_rotation_reseals_the_vapid_key_and_the_push_tokens(settings):
    # Given an instance whose VAPID key and a push subscription's token are sealed with
    # the old key
    services = await started(settings)
    vapid = await vapid_key(services)
    await push.replace(
        services.store,
        token_id=7,
        business_id=1,
        endpoint="https://push.example/sub",
        p256dh="key",
        auth="secret",
        token_sealed=services.sealed_keys.seal("the-access-token"),
        alerts={"mention": True},
        policy="all",
        standard=True,
        now=now_ms(),
    )
    await shutdown(services)
    fresh = new_key()
    rotating = dataclasses.replace(settings, key_encryption_keys=(fresh, KEY_ENCRYPTION_KEY))
    services = await started(rotating)
    try:
        # When the keys are rotated
        await keys_at_rest.reseal_all(services.store, services.sealed_keys)
    finally:
        await shutdown(services)
    # Then with the new key alone the VAPID key and the token still open to what they were
    services = await started(dataclasses.replace(settings, key_encryption_keys=(fresh,)))
    try:
        assert await vapid_key(services) == vapid
        subscription = await push.of_token(services.store, 7)
        assert subscription is not None
        opened = services.sealed_keys.private_pem(subscription.token_sealed)
        assert opened == "the-access-token"
    finally:
        await shutdown(services)


async def test_a_wrong_key_refuses_the_start_naming_the_setting(settings):
    # Given keys sealed with the test key
    services = await started(settings)
    await shutdown(services)
    # When the instance starts with another key
    wrong = dataclasses.replace(settings, key_encryption_keys=(new_key(),))
    with pytest.raises(ConfigError) as refused:
        await started(wrong)
    # Then the error names the setting and shows no key
    assert SETTING in str(refused.value)
    assert KEY_ENCRYPTION_KEY not in str(refused.value)
    record("keys", "wrong key encryption key at start", "refused")


async def test_no_key_refuses_the_start_naming_the_setting(settings):
    # When the instance starts without a key encryption key
    with pytest.raises(ConfigError) as refused:
        await started(dataclasses.replace(settings, key_encryption_keys=()))
    # Then the error names the setting and how to make a key
    assert SETTING in str(refused.value)
    assert "new-key-encryption-key" in str(refused.value)
    record("keys", "no key encryption key at start", "refused")
