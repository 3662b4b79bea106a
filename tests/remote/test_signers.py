"""Signers bound to one of our actors: what they sign verifies with the actor's public key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import pytest

from fedi_town.protocol.httpsig import parse_request_signature, verify_request_signature
from fedi_town.protocol.keys import load_public_key
from fedi_town.remote.signers import InstanceKey, KeySigner, business_signer
from fedi_town.services import Services
from tests.inbound.helpers import add_business, keypair

NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
INBOX = "https://remote.test/users/jo/inbox"


def verify(headers: dict[str, str], body: bytes, public_pem: str) -> str:
    """Verify a POST to INBOX as the remote would; return the key id it was signed with."""
    sig = parse_request_signature("POST", "/users/jo/inbox", headers, body)
    verify_request_signature(sig, load_public_key(public_pem), now=NOW)
    return sig.key_id


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
def test_a_key_signer_signs_a_request_that_verifies_with_its_public_key(
    scheme: Literal["cavage", "rfc9421"],
) -> None:
    # Given a signer for a key id and its private key
    private_pem, public_pem = keypair()
    signer = KeySigner("https://town.test/users/bakery#main-key", private_pem, lambda: NOW)
    body = b'{"type": "Follow"}'
    # When it signs a POST in the scheme the client asks for
    headers = signer("POST", INBOX, {"Content-Type": "application/activity+json"}, body, scheme)
    # Then the remote verifies it with the public key, under that key id
    assert verify(headers, body, public_pem) == "https://town.test/users/bakery#main-key"


def test_a_key_signer_and_an_instance_key_never_show_the_key_in_their_repr() -> None:
    # Given the instance key and its signer
    private_pem, public_pem = keypair()
    key = InstanceKey("https://town.test/actor#main-key", private_pem, public_pem, lambda: NOW)
    # When they are printed (a log line, a traceback)
    shown = repr(key) + repr(key.signer)
    # Then the key id is there and neither PEM is
    assert "https://town.test/actor#main-key" in shown
    assert "PRIVATE" not in shown and "PUBLIC" not in shown


@pytest.mark.anyio
async def test_a_business_signer_signs_as_the_business_with_its_key_opened(
    services: Services,
) -> None:
    # Given a business whose private key is sealed at rest
    business = await add_business(services, "bakery")
    # When its signer signs a delivery
    signer = business_signer(
        business, urls=services.urls, keys=services.sealed_keys, clock=lambda: NOW
    )
    headers = signer("POST", INBOX, {}, b"{}", "cavage")
    # Then it verifies with the business's public key, under the business's key id
    assert verify(headers, b"{}", business.public_key_pem) == services.urls.key_id("bakery")
