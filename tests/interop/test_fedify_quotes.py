"""Fedify quotes a business's post (FEP-044f): its QuoteRequest is answered with an Accept
whose stamp Fedify fetches and reads as a QuoteAuthorization; the owner sees the quote;
deleting the post (or narrowing the policy) revokes the stamp with a Delete and the stamp's
URL stops answering. A post that may not be quoted gets a Reject."""

from __future__ import annotations

from typing import Any

import pytest

from tests.interop.harness import FedifyClient
from tests.interop.owner import Owner, fedify_received
from tests.live import wait_until

pytestmark = pytest.mark.anyio


def about_request(request_id: str) -> Any:
    def check(activity: dict[str, Any]) -> bool:
        obj = (activity or {}).get("object")
        return (obj.get("id") if isinstance(obj, dict) else obj) == request_id

    return check


async def test_fedify_quotes_a_public_post_and_the_stamp_is_revoked_when_the_post_goes(
    live: Any, fedify: FedifyClient
) -> None:
    # Given a public post (the business lets anyone quote by default)
    owner = await Owner.create(live, "corner_bakery")
    post = await owner.post("Croissants are out of the oven")

    # When Fedify quotes it and asks for consent
    sent = await fedify.quote(post["uri"], "<p>Best in town!</p>")
    assert sent["ok"], sent

    # Then Fedify receives a signed Accept of its request, with a stamp URL as result
    accept = await fedify_received(fedify, "Accept", about_request(sent["request"]))
    assert accept["verified"], accept
    stamp_url = accept["json"]["result"]
    assert stamp_url.startswith(post["uri"] + "/quotes/")
    # And the stamp parses, in Fedify's vocabulary, as the business's QuoteAuthorization
    stamp = await fedify.stamp(stamp_url)
    assert stamp["isQuoteAuthorization"], stamp
    assert stamp["id"] == stamp_url
    assert stamp["attributedTo"] == owner.actor
    assert stamp["interactingObject"] == sent["note"]
    assert stamp["interactionTarget"] == post["uri"]
    # And the owner is told, with the quoting post
    [quoted] = await owner.wait_for_notification("quote")
    assert quoted["account"]["id"] == fedify.actor_id
    assert quoted["post"]["uri"] == post["uri"]
    assert quoted["note"]["uri"] == sent["note"]
    assert "Best in town!" in quoted["note"]["content"]

    # When the owner deletes the post
    await owner.delete(post["id"])

    # Then Fedify receives Delete{stamp} and the stamp no longer answers
    revoked = await fedify_received(
        fedify, "Delete", lambda a: (a or {}).get("object") == stamp_url
    )
    assert revoked["verified"], revoked
    gone = await live.client.get(stamp_url, headers={"Accept": "application/activity+json"})
    assert gone.status_code in (404, 410)


async def test_narrowing_the_business_policy_revokes_a_granted_quote(
    live: Any, fedify: FedifyClient
) -> None:
    owner = await Owner.create(live, "corner_bakery")
    post = await owner.post("Sourdough Saturday")
    sent = await fedify.quote(post["uri"], "<p>Yes please</p>")
    accept = await fedify_received(fedify, "Accept", about_request(sent["request"]))
    stamp_url = accept["json"]["result"]

    # When the owner lets nobody quote the business's posts any more
    changed = await owner.change_profile(quote_policy="nobody")
    assert changed["quote_policy"] == "nobody"

    # Then the stamp is revoked, and the Note now says only its author may quote it
    await fedify_received(fedify, "Delete", lambda a: (a or {}).get("object") == stamp_url)
    gone = await live.client.get(stamp_url, headers={"Accept": "application/activity+json"})
    assert gone.status_code == 404
    note = await live.client.get(post["uri"], headers={"Accept": "application/activity+json"})
    assert note.json()["interactionPolicy"] == {"canQuote": {"automaticApproval": [owner.actor]}}


async def test_a_post_its_owner_lets_nobody_quote_refuses_fedify_a_quote(
    live: Any, fedify: FedifyClient
) -> None:
    owner = await Owner.create(live, "corner_bakery")
    post = await owner.post("For our regulars", visibility="unlisted", quote_policy="nobody")
    sent = await fedify.quote(post["uri"], "<p>Can I?</p>")
    reject = await fedify_received(fedify, "Reject", about_request(sent["request"]))
    assert reject["verified"], reject
    assert [a for a in await fedify.received() if a["type"] == "Accept"] == []
    assert await owner.notifications("quote") == []


async def test_the_business_quotes_a_fedify_post_and_carries_the_stamp_fedify_grants(
    live: Any, fedify: FedifyClient
) -> None:
    # Given a Fedify note anyone may quote
    owner = await Owner.create(live, "corner_bakery")
    quoted = await fedify.quotable_note("<p>Market on Sunday</p>")

    # When the owner quotes it
    post = await owner.post("We will be there!", quote=quoted)
    assert post["quote"] == {"uri": quoted, "state": "pending", "authorization": None}

    # Then Fedify receives a verified QuoteRequest naming both posts, and grants it
    request = await fedify_received(fedify, "QuoteRequest")
    assert request["verified"], request
    assert (request["json"]["object"], request["json"]["instrument"]) == (quoted, post["uri"])

    async def accepted() -> dict[str, Any] | None:
        found = await owner.read(post["id"])
        return found if found["quote"]["state"] == "accepted" else None

    done = await wait_until(accepted, timeout=15)
    stamp = done["quote"]["authorization"]
    assert "/stamps/" in stamp
    # And the Note we serve carries the quote and its authorization
    note = await live.client.get(post["uri"], headers={"Accept": "application/activity+json"})
    assert note.json()["quote"] == quoted
    assert note.json()["quoteAuthorization"] == stamp


async def test_under_ask_fedifys_request_waits_for_the_owner_who_approves_then_denies(
    live: Any, fedify: FedifyClient
) -> None:
    # Given a business that asks to approve each quote
    owner = await Owner.create(live, "corner_bakery")
    changed = await owner.change_profile(quote_policy="ask")
    assert changed["quote_policy"] == "ask"
    post = await owner.post("Sourdough Saturday")
    # Then Fedify reads the Note as open to anyone, with manual approval
    policy = await fedify.quote_policy(post["uri"])
    assert policy["found"], policy
    assert policy["manualApprovals"] == ["https://www.w3.org/ns/activitystreams#Public"]
    assert policy["automaticApprovals"] == [owner.actor]

    # When Fedify quotes it and asks for consent
    sent = await fedify.quote(post["uri"], "<p>Best in town!</p>")
    assert sent["ok"], sent
    # Then nothing is answered yet: the owner is told, and the request waits for her
    [asked] = await owner.wait_for_notification("quote_request")
    assert asked["note"]["uri"] == sent["note"]
    [waiting] = (await owner.call("GET", "/quote_requests"))["items"]
    assert waiting["quote"]["uri"] == sent["note"]
    assert [a for a in await fedify.received() if a["type"] in ("Accept", "Reject")] == []

    # When she approves it, then Fedify gets a signed Accept whose stamp it parses
    decided = await owner.call("POST", f"/quote_requests/{waiting['id']}/approve")
    assert decided["state"] == "approved"
    accept = await fedify_received(fedify, "Accept", about_request(sent["request"]))
    assert accept["verified"], accept
    stamp = await fedify.stamp(accept["json"]["result"])
    assert stamp["isQuoteAuthorization"] and stamp["interactingObject"] == sent["note"]
    await owner.wait_for_notification("quote")

    # When Fedify asks again for another quote and she denies it, then Fedify gets a Reject
    second = await fedify.quote(post["uri"], "<p>Again</p>")
    await owner.wait_for_notification("quote_request", count=2)
    [waiting] = (await owner.call("GET", "/quote_requests"))["items"]
    decided = await owner.call("POST", f"/quote_requests/{waiting['id']}/deny")
    assert decided["state"] == "denied"
    reject = await fedify_received(fedify, "Reject", about_request(second["request"]))
    assert reject["verified"], reject
