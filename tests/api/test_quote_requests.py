"""The owner API over quote requests waiting under the "ask" policy: listed with who asks
and their post, approved (Accept + stamp) or denied (Reject); both backends, the quoting
post served by a real loopback peer."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from fedi_town.remote.http import RemoteClient
from fedi_town.schemas import openapi_document
from tests.api.helpers import setup_bakery
from tests.inbound import payloads as p
from tests.inbound.helpers import add_post, add_remote_actor, handle, outgoing
from tests.peer import TestPeer

pytestmark = pytest.mark.anyio


def schema_errors(component: str, value: object) -> list[str]:
    doc = openapi_document()
    schema = {"$ref": f"#/components/schemas/{component}", "components": doc["components"]}
    return [e.message for e in Draft202012Validator(schema).iter_errors(value)]


async def _asked(app_client, peer, *, policy="ask"):
    """alice asks to quote a post of the bakery (whose policy is ``policy``)."""
    services, business, owner = await setup_bakery(app_client)
    answer = await app_client.patch(
        "/api/v1/businesses/bakery", json={"quote_policy": policy}, headers=owner
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["quote_policy"] == policy
    _, post_uri = await add_post(services, business)
    alice = peer.actor("alice").uri
    await add_remote_actor(services.store, alice)
    quote = peer.add_note("alice", "<p>Look :) <script>x()</script></p>", quote=post_uri)
    loopback = RemoteClient(allow_private=True, user_agent="fedi-town-tests")
    services.remote, started = loopback, services.remote
    try:
        outcome = await handle(services, p.mastodon_quote_request(alice, post_uri, quote["id"]))
    finally:
        services.remote = started
        await loopback.close()
    return services, owner, post_uri, quote, outcome


async def test_a_waiting_request_is_listed_and_approving_it_sends_the_stamp(app_client):
    async with TestPeer.running() as peer:
        services, owner, post_uri, quote, outcome = await _asked(app_client, peer)
    assert outcome == "quote request kept for the owner"
    # When the owner lists what waits
    page = (await app_client.get("/api/v1/businesses/bakery/quote_requests", headers=owner)).json()
    # Then alice's request is there with her (sanitised) post
    assert schema_errors("QuoteRequestPage", page) == []
    (item,) = page["items"]
    assert item["account"]["id"] == peer.actor("alice").uri
    assert item["post"]["uri"] == post_uri
    assert item["quote"]["uri"] == quote["id"]
    assert "Look" in item["quote"]["content"] and "<script" not in item["quote"]["content"]
    # When she is approved, then an Accept with a stamp goes out and the list is empty
    url = f"/api/v1/businesses/bakery/quote_requests/{item['id']}"
    approved = await app_client.post(f"{url}/approve", headers=owner)
    assert approved.status_code == 200
    assert approved.json() == {"id": item["id"], "state": "approved"}
    assert schema_errors("QuoteDecision", approved.json()) == []
    [accept] = await outgoing(services.store, "Accept")
    assert "/quotes/" in accept["body"]["result"]
    again = await app_client.get("/api/v1/businesses/bakery/quote_requests", headers=owner)
    assert again.json()["items"] == []
    # And deciding it twice: 404 as a problem document
    twice = await app_client.post(f"{url}/deny", headers=owner)
    assert twice.status_code == 404
    assert twice.headers["content-type"].startswith("application/problem+json")


async def test_denying_sends_a_reject(app_client):
    async with TestPeer.running() as peer:
        services, owner, _, _, _ = await _asked(app_client, peer)
    (item,) = (
        await app_client.get("/api/v1/businesses/bakery/quote_requests", headers=owner)
    ).json()["items"]
    denied = await app_client.post(
        f"/api/v1/businesses/bakery/quote_requests/{item['id']}/deny", headers=owner
    )
    assert denied.json()["state"] == "denied"
    assert len(await outgoing(services.store, "Reject")) == 1
    assert await outgoing(services.store, "Accept") == []


async def test_quote_requests_need_the_owner_and_a_numeric_id(app_client):
    await setup_bakery(app_client)
    anonymous = await app_client.get("/api/v1/businesses/bakery/quote_requests")
    assert anonymous.status_code == 401
    _, _, owner = await setup_bakery(app_client, "cafe")
    other = await app_client.get("/api/v1/businesses/bakery/quote_requests", headers=owner)
    assert other.status_code in (403, 404)
    bad = await app_client.post("/api/v1/businesses/cafe/quote_requests/abc/approve", headers=owner)
    assert bad.status_code in (400, 404)
    assert bad.headers["content-type"].startswith("application/problem+json")


async def test_an_unknown_policy_is_refused(app_client):
    _, _, owner = await setup_bakery(app_client)
    answer = await app_client.patch(
        "/api/v1/businesses/bakery", json={"quote_policy": "maybe"}, headers=owner
    )
    assert answer.status_code == 422
