"""The fetch guard over real HTTP: who GETs our ActivityPub documents, and may they.

A live fedi-town (uvicorn on loopback) and the signing test peer: a signed GET is always
verified; under authorized fetch an unsigned one is refused, except the instance actor.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from fedi_town.protocol.httpsig import sign_request
from fedi_town.protocol.keys import generate_rsa_keypair, load_private_key
from tests.live import live_instance

pytestmark = pytest.mark.anyio


@pytest.fixture
async def secure_live(database_url: str, tmp_path: Path):
    async with live_instance(database_url, tmp_path, authorized_fetch=True) as instance:
        yield instance


async def test_authorized_fetch_refuses_unsigned_gets_but_serves_the_instance_actor(
    secure_live, peer
):
    await secure_live.create_business("bakery")
    actor_url = secure_live.urls.actor("bakery")
    unsigned = await peer.get(actor_url, name=None)
    signed = await peer.get(actor_url)
    instance = await peer.get(secure_live.urls.instance_actor(), name=None)
    assert unsigned.status_code == 401
    assert signed.status_code == 200, signed.text
    assert signed.json()["id"] == actor_url
    assert instance.status_code == 200


async def test_a_signed_get_with_a_bad_signature_is_refused_even_without_authorized_fetch(
    live, peer
):
    await live.create_business("bakery")
    url = live.urls.actor("bakery")
    # Given a GET claiming alice's key but signed with a key nobody publishes
    stray_key = load_private_key(generate_rsa_keypair()[0])
    headers = sign_request(
        "GET",
        url,
        {"Accept": "application/activity+json"},
        None,
        key_id=peer.actor().key_id,
        private_key=stray_key,
        now=datetime.now(UTC),
    )
    response = await peer.client.get(url, headers=headers)
    assert response.status_code == 401
    assert "InvalidSignature" in response.json()["detail"]


async def test_every_signed_get_of_a_kept_document_is_verified_though_the_key_is_kept(live, peer):
    # Given a kept actor document, fetched once signed by alice (her key now in memory)
    await live.create_business("bakery")
    url = live.urls.actor("bakery")
    assert (await peer.get(url)).status_code == 200
    assert (await peer.get(url)).status_code == 200
    fetches = [path for method, path in peer.requests if method == "GET"]
    # When the same signed headers come again with the Date changed after signing
    headers = sign_request(
        "GET",
        url,
        {"Accept": "application/activity+json"},
        None,
        key_id=peer.actor().key_id,
        private_key=load_private_key(peer.actor().private_pem),
        now=datetime.now(UTC),
    )
    headers["Date"] = format_datetime(datetime.now(UTC) - timedelta(seconds=5), usegmt=True)
    tampered = await peer.client.get(url, headers=headers)
    # Then it is refused (the signature checked, not a memo of earlier ones), and a good
    # signature after it is served again
    assert tampered.status_code == 401
    assert "InvalidSignature" in tampered.json()["detail"]
    assert (await peer.get(url)).status_code == 200
    # and alice's key was fetched once only (the refetch a failed signature makes aside)
    again = [path for method, path in peer.requests if method == "GET"][len(fetches) :]
    assert len(again) <= 1
