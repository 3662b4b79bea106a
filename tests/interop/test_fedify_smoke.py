"""The Fedify peer runs, and Fedify (not our own code) can talk to fedi-town and our test kit.

Fedify is an ActivityPub implementation nobody here wrote. These tests check the peer itself
(WebFinger and key parsing on loopback), that Fedify can discover a fedi-town business, and
that our HTTP signatures and Fedify's verify each other.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.interop.harness import FedifyClient
from tests.interop.owner import Owner

pytestmark = pytest.mark.anyio


def why(result: dict[str, Any]) -> str:
    """Fedify's log lines during a control call, for an assertion message."""
    return "\n".join(f"{r['level']} {r['category']}: {r['message']}" for r in result["log"])


async def test_fedify_peer_resolves_its_own_handle_over_loopback(fedify: FedifyClient) -> None:
    # Given the running peer
    info = await fedify.info()

    # When Fedify looks up its own acct: handle (WebFinger, then the actor document)
    result = await fedify.lookup(info["handle"])

    # Then it parses its own Person with both keys and logs no warning
    assert result["found"], why(result)
    actor = result["actor"]
    assert actor["id"] == info["actor"] == fedify.actor_id
    assert actor["type"] == "Person"
    assert actor["preferredUsername"] == "fedi"
    assert actor["inbox"] == info["inbox"]
    assert actor["sharedInbox"] == info["sharedInbox"]
    assert [k["id"] for k in actor["publicKeys"]] == info["keyIds"][:1]
    assert {k["algorithm"] for k in actor["assertionMethods"]} == {"RSASSA-PKCS1-v1_5", "Ed25519"}
    assert result["warnings"] == []


async def test_fedify_resolves_a_business_handle_and_parses_its_actor(
    live: Any, fedify: FedifyClient
) -> None:
    # Given a business on a live fedi-town
    business = await live.create_business(
        "corner_bakery", display_name="Corner Bakery", summary="Bread since 1990."
    )

    # When Fedify looks the business up by its acct: handle
    result = await fedify.lookup(live.urls.acct(business["username"]))

    # Then it finds an Organization (or Service) with an inbox and an RSA key, without warnings
    assert result["found"], why(result)
    actor = result["actor"]
    assert actor["id"] == live.urls.actor(business["username"])
    assert actor["type"] in {"Organization", "Service"}
    assert actor["preferredUsername"] == "corner_bakery"
    assert actor["name"] == "Corner Bakery"
    assert actor["inbox"] == live.urls.inbox(business["username"])
    assert actor["publicKeys"], "Fedify parsed no publicKey"
    assert actor["publicKeys"][0]["owner"] == actor["id"]
    assert actor["publicKeys"][0]["algorithm"] == "RSASSA-PKCS1-v1_5"
    assert result["warnings"] == []


async def test_fedify_rfc9421_follow_is_verified_by_our_verifier(
    peer: Any, fedify: FedifyClient
) -> None:
    # Given our Python test peer's actor, which Fedify has never talked to
    alice = peer.actor("alice")

    # When Fedify follows it
    result = await fedify.follow(alice.uri)

    # Then one RFC 9421 request (no draft-cavage fallback) carried a Follow our verifier accepts
    assert result["ok"], result
    assert [(r["signature"], r["status"]) for r in result["requests"]] == [("rfc9421", 202)]
    [received] = await peer.wait_for(lambda r: r.type == "Follow")
    assert received.verified, received.error
    assert received.json["actor"] == fedify.actor_id


async def test_our_draft_cavage_post_is_verified_by_fedify_and_tampering_is_refused(
    peer: Any, fedify: FedifyClient
) -> None:
    # Given a Like signed by our test kit (draft-cavage), and a copy altered after signing
    inbox = f"{fedify.peer.base_url}/inbox"
    like = peer.like(fedify.actor_id)

    def tamper(headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
        return headers, body.replace(b'"Like"', b'"Like" ')

    # When both are POSTed to Fedify's shared inbox
    good = await peer.post(inbox, like)
    bad = await peer.post(inbox, peer.like(fedify.actor_id), tamper=tamper)

    # Then Fedify verifies the first and refuses the second with 401
    assert good.status_code == 202, good.text
    assert bad.status_code == 401
    received = await fedify.received()
    assert [(r["type"], r["verified"], r["signature"]) for r in received] == [
        ("Like", True, "draft-cavage"),
        ("Like", False, "draft-cavage"),
    ]


async def test_fedify_parses_a_business_with_hours_address_and_schema_org_terms(
    live: Any, fedify: FedifyClient
) -> None:
    # Given a bakery with a category, an address with coordinates, hours and a notice
    business = await live.create_business(
        "corner_bakery",
        display_name="Corner Bakery",
        category="Bakery",
        location={
            "street_address": "1 High Street",
            "locality": "Bristol",
            "country": "GB",
            "latitude": 51.4545,
            "longitude": -2.5879,
        },
        hours={
            day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        },
        phone="+44 117 496 0000",
    )

    # When Fedify looks it up
    result = await fedify.lookup(live.urls.acct(business["username"]))

    # Then the readable fields and the Place come through, and the extra terms raise no warning
    assert result["found"], why(result)
    actor = result["actor"]
    fields = {a["name"]: a["value"] for a in actor["attachments"]}
    assert fields["Now"] == "Open now"
    assert "1 High Street, Bristol, GB" in fields["Address"]
    assert "openstreetmap.org" in fields["Address"]
    [place] = actor["locations"]
    assert place["type"] == "Place"
    assert (place["latitude"], place["longitude"]) == (51.4545, -2.5879)
    assert result["warnings"] == []


async def test_fedify_reads_the_featured_hashtags_an_owner_chose(
    live: Any, fedify: FedifyClient
) -> None:
    # Given a business whose owner features two hashtags
    owner = await Owner.create(live, "corner_bakery")
    await owner.call("PATCH", "", json={"featured_tags": ["#Sourdough", "cakes"]})

    # When Fedify looks the business up
    result = await fedify.lookup(live.urls.acct(owner.username))

    # Then it follows featuredTags and reads each item as a Hashtag linking the business's posts
    assert result["found"], why(result)
    assert result["actor"]["featuredTags"] == [
        {
            "type": "Hashtag",
            "name": "#Sourdough",
            "href": live.urls.tag_page(owner.username, "Sourdough"),
        },
        {"type": "Hashtag", "name": "#cakes", "href": live.urls.tag_page(owner.username, "cakes")},
    ]
    assert result["warnings"] == []
