"""HTTP signatures both ways: Fedify's RFC 9421 is verified on the first knock (its key
fetches too, signed over the key id's ``#main-key``), our draft-cavage is verified by
Fedify, authorized fetch lets Fedify's signed GETs through and refuses unsigned ones, and a
broken signature or a forged Accept is refused by Fedify.

The forged and broken requests are built here, signed with a business's real key through our
own signer (nothing in fedi-town is patched), and POSTed straight to Fedify's inbox.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from fedi_town.protocol.httpsig import sign_request
from fedi_town.protocol.keys import generate_rsa_keypair, load_private_key
from fedi_town.store import businesses
from tests.interop.harness import FedifyClient
from tests.interop.owner import Owner, followed_by_fedify
from tests.live import LiveInstance, live_instance

pytestmark = pytest.mark.anyio

AP_JSON = "application/activity+json"


@pytest.fixture
async def secure_live(database_url: str, tmp_path: Path) -> AsyncIterator[LiveInstance]:
    """fedi-town with authorized fetch on: unsigned GETs of actors and posts answer 401."""
    async with live_instance(database_url, tmp_path, authorized_fetch=True) as instance:
        yield instance


async def signed_post_to_fedify(
    live: LiveInstance,
    username: str,
    inbox: str,
    activity: dict[str, Any],
    *,
    private_pem: str | None = None,
    tamper: Any = None,
) -> httpx.Response:
    """POST ``activity`` to a Fedify inbox, signed (draft-cavage) with ``username``'s key."""
    business = await businesses.by_username(live.store, username)
    assert business is not None
    body = json.dumps(activity).encode()
    headers = sign_request(
        "POST",
        inbox,
        {"Content-Type": AP_JSON, "Accept": AP_JSON},
        body,
        key_id=live.urls.key_id(username),
        private_key=load_private_key(
            private_pem or live.services.sealed_keys.private_pem(business.sealed_private_key)
        ),
        now=datetime.now(UTC),
    )
    if tamper is not None:
        headers = tamper(dict(headers))
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(inbox, content=body, headers=headers)


def accept_of(owner: Owner, follow: dict[str, Any], actor: str | None = None) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{owner.actor}#accepts/{uuid.uuid4().hex}",
        "type": "Accept",
        "actor": actor or owner.actor,
        "object": follow,
    }


# -- both schemes, each way -----------------------------------------------------------


async def test_fedify_follow_is_one_rfc9421_request_we_verify_and_our_accept_is_cavage(
    live: Any, fedify: FedifyClient
) -> None:
    owner = await Owner.create(live, "corner_bakery")

    # When Fedify follows the business
    result = await fedify.follow(owner.actor)

    # Then its one POST was RFC 9421 and we answered 202 (no draft-cavage fallback)
    posts = [(r["signature"], r["status"]) for r in result["requests"] if r["method"] == "POST"]
    assert posts == [("rfc9421", 202)]
    sent = [r for r in await fedify.sent() if r["method"] == "POST"]
    assert [(r["signature"], r["status"]) for r in sent] == [("rfc9421", 202)]
    # And our Accept, signed with draft-cavage, was verified by Fedify
    [accept] = await fedify.wait_for("Accept")
    assert (accept["signature"], accept["verified"]) == ("draft-cavage", True)
    [request] = [r for r in await fedify.inbox_requests() if r["activity_type"] == "Accept"]
    assert request["status"] == 202


async def test_fedify_fetches_our_key_on_the_first_knock(live: Any, fedify: FedifyClient) -> None:
    owner = await Owner.create(live, "corner_bakery")

    # When Fedify follows and verifies our Accept, fetching our key id (…#main-key) to do so
    await fedify.follow(owner.actor)
    [accept] = await fedify.wait_for("Accept")
    assert accept["verified"], accept

    # Then its key fetch, RFC 9421-signed over the key id fragment and all, was served on
    # the first knock: no 401, no draft-cavage retry
    key_fetches = [
        (r["signature"], r["status"])
        for r in await fedify.sent()
        if r["method"] == "GET" and r["url"] == live.urls.key_id(owner.username)
    ]
    assert key_fetches == [("rfc9421", 200)]
    assert [r for r in await fedify.sent() if r["status"] == 401] == []


@pytest.mark.parametrize("spec", ["rfc9421", "draft-cavage-http-signatures-12"])
async def test_fedify_signed_get_of_an_actor_is_verified_by_us(
    live: Any, fedify: FedifyClient, spec: str
) -> None:
    owner = await Owner.create(live, "corner_bakery")
    result = await fedify.signed_get(owner.actor, spec=spec)
    assert result["status"] == 200, result
    assert result["json"]["id"] == owner.actor


# -- authorized fetch -----------------------------------------------------------------


async def test_under_authorized_fetch_fedify_signed_gets_work_and_unsigned_are_refused(
    secure_live: Any, fedify: FedifyClient
) -> None:
    # Given a business with a public post on an instance with authorized fetch
    owner = await Owner.create(secure_live, "corner_bakery")
    post = await owner.post("Only for those who sign")

    # When Fedify fetches the actor and the post unsigned, then signed (RFC 9421)
    unsigned_actor = await fedify.signed_get(owner.actor, unsigned=True)
    unsigned_post = await fedify.signed_get(post["uri"], unsigned=True)
    signed_actor = await fedify.signed_get(owner.actor)
    signed_post = await fedify.signed_get(post["uri"])

    # Then unsigned GETs are refused with 401 and signed ones served
    assert (unsigned_actor["status"], unsigned_post["status"]) == (401, 401)
    assert signed_actor["status"] == 200 and signed_actor["json"]["id"] == owner.actor
    assert signed_post["status"] == 200 and signed_post["json"]["id"] == post["uri"]
    # And Fedify's own lookups work when signed and fail when not
    assert (await fedify.lookup(secure_live.urls.acct(owner.username), signed=True))["found"]
    await fedify.clear()
    assert not (await fedify.lookup(secure_live.urls.acct(owner.username)))["found"]


async def test_under_authorized_fetch_fedify_can_still_follow_and_be_accepted(
    secure_live: Any, fedify: FedifyClient
) -> None:
    owner = await Owner.create(secure_live, "corner_bakery")
    accept = await followed_by_fedify(owner, fedify)
    assert accept["verified"], accept


# -- the suite has teeth: Fedify refuses what is broken ---------------------------------


async def test_an_accept_signed_by_another_business_is_refused_by_fedify(
    live: Any, fedify: FedifyClient
) -> None:
    # Given Fedify following a business (its Follow is known), and a second business
    owner = await Owner.create(live, "corner_bakery")
    await Owner.create(live, "impostor")
    sent = await fedify.follow(owner.actor)
    await fedify.wait_for("Accept")
    await fedify.clear()

    # When the impostor POSTs an Accept that claims to come from the followed business
    forged = accept_of(owner, sent["activity"])
    response = await signed_post_to_fedify(
        live, "impostor", f"{fedify.peer.base_url}/inbox", forged
    )

    # Then Fedify refuses it: the signer does not own the actor
    assert response.status_code == 401, response.text
    assert [a for a in await fedify.received() if a["verified"]] == []


async def test_an_accept_signed_with_a_key_nobody_publishes_is_refused_by_fedify(
    live: Any, fedify: FedifyClient
) -> None:
    owner = await Owner.create(live, "corner_bakery")
    sent = await fedify.follow(owner.actor)
    await fedify.wait_for("Accept")
    await fedify.clear()

    # When an Accept carries the business's keyId but is signed by a stray key
    stray_pem = generate_rsa_keypair()[0]
    response = await signed_post_to_fedify(
        live,
        owner.username,
        f"{fedify.peer.base_url}/inbox",
        accept_of(owner, sent["activity"]),
        private_pem=stray_pem,
    )

    # Then Fedify answers 401 and records it as unverified
    assert response.status_code == 401
    [received] = await fedify.received()
    assert (received["type"], received["verified"]) == ("Accept", False)


def drop_digest_from_signed_headers(headers: dict[str, str]) -> dict[str, str]:
    """Claim a different header list than was signed: the signing string no longer matches."""
    signature = headers["Signature"]
    headers["Signature"] = signature.replace(
        'headers="(request-target) host date digest content-type"',
        'headers="(request-target) host date content-type digest"',
    )
    assert headers["Signature"] != signature
    return headers


def corrupt_signature_value(headers: dict[str, str]) -> dict[str, str]:
    head, _, value = headers["Signature"].partition('signature="')
    flipped = ("A" if value[0] != "A" else "B") + value[1:]
    headers["Signature"] = f'{head}signature="{flipped}'
    return headers


@pytest.mark.parametrize("tamper", [drop_digest_from_signed_headers, corrupt_signature_value])
async def test_a_draft_cavage_post_with_a_broken_signature_header_is_refused_by_fedify(
    live: Any, fedify: FedifyClient, tamper: Any
) -> None:
    owner = await Owner.create(live, "corner_bakery")
    inbox = f"{fedify.peer.base_url}/inbox"
    like = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{owner.actor}#likes/{uuid.uuid4().hex}",
        "type": "Like",
        "actor": owner.actor,
        "object": fedify.actor_id,
    }
    # Given that the same Like, signed properly, is accepted
    good = await signed_post_to_fedify(live, owner.username, inbox, like)
    assert good.status_code == 202, good.text

    # When a copy's Signature header is broken after signing
    like = {**like, "id": f"{owner.actor}#likes/{uuid.uuid4().hex}"}
    bad = await signed_post_to_fedify(live, owner.username, inbox, like, tamper=tamper)

    # Then Fedify refuses it with 401
    assert bad.status_code == 401
    assert [(r["verified"]) for r in await fedify.received()] == [True, False]
