"""inbound.handlers.quotes: QuoteRequest for a business's posts, shaped as Mastodon 4.5 sends
it (tests/inbound/payloads.py), the quoting post served by a real loopback peer."""

from __future__ import annotations

import pytest

from fedi_town.errors import NotFound, Unprocessable
from fedi_town.outbound import commands
from fedi_town.outbound import quotes as revocation
from fedi_town.store import businesses, moderation
from fedi_town.store import posts as post_store
from fedi_town.store import quotes as quote_store
from fedi_town.store.db import now_ms
from fedi_town.store.document_inputs import note_document
from tests.inbound import payloads as p
from tests.inbound.helpers import (
    add_post,
    add_remote_actor,
    count,
    dispatch,
    handle,
    notification_types,
    outgoing,
)

pytestmark = pytest.mark.anyio

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


async def _alice(services, peer):
    return await add_remote_actor(services.store, peer.actor("alice").uri)


def _request(peer, post_uri, **note):
    alice = peer.actor("alice").uri
    quote = peer.add_note("alice", "<p>Look at this!</p>", quote=post_uri, **note)
    return p.mastodon_quote_request(alice, post_uri, quote["id"]), quote


async def test_a_quote_request_for_a_public_post_is_accepted_with_a_stamp(
    services, peer, bakery, biz, post
):
    # Given alice, who is not a follower, and a public post of the bakery (policy: anyone)
    alice = await _alice(services, peer)
    _, post_uri = post
    request, quote = _request(peer, post_uri)
    # When her QuoteRequest is handled
    outcome = await handle(services, request)
    # Then a stamp is stored and an Accept carrying its URL goes to her inbox
    assert outcome == "quote granted"
    [stamp] = await quote_store.of_post(services.store, post[0])
    assert stamp.quote_uri == quote["id"] and stamp.actor_id == alice.id
    [accept] = await outgoing(services.store, "Accept")
    assert accept["inboxes"] == [alice.inbox]
    body = accept["body"]
    assert body["actor"] == biz
    assert body["object"] == {k: v for k, v in request.items() if k != "@context"}
    assert body["result"] == services.urls.quote_stamp("bakery", post[0], stamp.id)
    assert body["@context"][1] == {"QuoteRequest": "https://w3id.org/fep/044f#QuoteRequest"}
    # And the owner is told, with the quoting post
    assert await notification_types(services.store) == ["quote"]
    assert await count(services.store, "remote_notes", "uri = :u", u=quote["id"]) == 1


async def test_a_repeated_quote_request_gets_the_same_stamp_and_no_second_notification(
    services, peer, bakery, post
):
    await _alice(services, peer)
    request, _ = _request(peer, post[1])
    await handle(services, request)
    assert await handle(services, request) == "quote granted again"
    first, second = await outgoing(services.store, "Accept")
    assert first["body"]["result"] == second["body"]["result"]
    assert await count(services.store, "quote_stamps") == 1
    assert await notification_types(services.store) == ["quote"]


async def test_a_mastodon_quote_post_is_recognised_with_its_fallback_kept(
    services, peer, bakery, post
):
    # Given alice's quote post as Mastodon 4.5 serialises it, served by her server
    await _alice(services, peer)
    alice = peer.actor("alice").uri
    nid = "mastodon-shaped"
    note = p.mastodon_quote_note(f"{peer.base}/notes/{nid}", alice, post[1])
    peer.notes[nid] = note
    # When her QuoteRequest arrives, then it is granted and the owner sees her post
    assert await handle(services, p.mastodon_quote_request(alice, post[1], note["id"])) == (
        "quote granted"
    )
    html = await services.store.fetch_val("SELECT content_html FROM remote_notes")
    assert "Look at this!" in html and "RE:" in html


async def test_an_embedded_instrument_is_fetched_all_the_same(services, peer, bakery, post):
    await _alice(services, peer)
    request, quote = _request(peer, post[1])
    request["instrument"] = {k: v for k, v in quote.items() if k != "@context"}
    assert await handle(services, request) == "quote granted"


@pytest.mark.parametrize("visibility", ["followers", "direct"])
async def test_a_followers_only_or_direct_post_is_never_quotable(
    services, peer, bakery, visibility
):
    await _alice(services, peer)
    _, post_uri = await add_post(services, bakery, visibility=visibility)
    request, _ = _request(peer, post_uri)
    outcome = await handle(services, request)
    assert outcome == f"quote refused (policy nobody ({visibility} post))"
    [reject] = await outgoing(services.store, "Reject")
    assert reject["body"]["object"]["id"] == request["id"]
    assert await outgoing(services.store, "Accept") == []
    assert await count(services.store, "quote_stamps") == 0
    assert await notification_types(services.store) == []


async def test_a_deleted_post_refuses_quotes(services, peer, bakery):
    await _alice(services, peer)
    _, post_uri = await add_post(services, bakery, deleted_at=now_ms())
    request, _ = _request(peer, post_uri)
    assert await handle(services, request) == "quote refused (the post is deleted)"
    assert len(await outgoing(services.store, "Reject")) == 1


async def test_a_domain_the_business_blocks_is_refused(services, peer, bakery, post):
    await _alice(services, peer)
    await moderation.add_block(
        services.store,
        business_id=bakery.id,
        actor_uri=None,
        domain=peer.actor("alice").uri.split("/")[2].split(":")[0],
        now=now_ms(),
    )
    request, _ = _request(peer, post[1])
    assert await handle(services, request) == "quote refused (blocked)"
    assert len(await outgoing(services.store, "Reject")) == 1


async def test_followers_policy_lets_followers_quote_and_refuses_others(
    services, peer, bakery, biz
):
    await businesses.update(services.store, bakery.id, {"quote_policy": "followers"}, now=now_ms())
    alice = await _alice(services, peer)
    _, post_uri = await add_post(services, bakery)
    request, _ = _request(peer, post_uri)
    assert (await handle(services, request)).startswith("quote refused (policy followers")
    # When alice follows, her next request is granted
    await handle(services, p.mastodon_follow(alice.uri, biz))
    request, _ = _request(peer, post_uri)
    request["id"] += "-2"
    assert await handle(services, request) == "quote granted"


async def test_a_post_of_its_own_policy_overrides_the_business(services, peer, bakery):
    await _alice(services, peer)
    _, post_uri = await add_post(services, bakery, quote_policy="nobody")
    request, _ = _request(peer, post_uri)
    assert await handle(services, request) == "quote refused (policy nobody (public post))"


async def test_a_quoting_post_by_someone_else_is_refused(services, peer, bakery, post):
    await _alice(services, peer)
    bob_note = peer.add_note("bob", "<p>mine</p>", quote=post[1])
    request = p.mastodon_quote_request(peer.actor("alice").uri, post[1], bob_note["id"])
    outcome = await handle(services, request)
    assert outcome == "quote refused (their post is not by the requesting actor)"


async def test_a_quoting_post_that_quotes_something_else_is_refused(services, peer, bakery, post):
    await _alice(services, peer)
    request, _ = _request(peer, "https://elsewhere.example/notes/1")
    request["object"] = post[1]
    assert await handle(services, request) == "quote refused (their post does not quote ours)"


async def test_a_quoting_post_that_is_gone_is_refused(services, peer, bakery, post):
    await _alice(services, peer)
    request, _ = _request(peer, post[1])
    peer.notes.clear()
    outcome = await handle(services, request)
    assert outcome == "quote refused (their post could not be fetched (404))"


async def test_a_request_about_something_not_ours_is_ignored(services, peer, bakery):
    await _alice(services, peer)
    request, _ = _request(peer, "https://elsewhere.example/notes/1")
    assert (await handle(services, request)).startswith("ignored")
    assert await outgoing(services.store) == []


@pytest.mark.parametrize(
    "change",
    [
        {"instrument": None},
        {"instrument": "not a url"},
        {"instrument": "https://elsewhere.example/notes/9"},
        {"object": ["a", "list"]},
        {"id": "https://elsewhere.example/quote_requests/1"},
    ],
    ids=["no-instrument", "bad-instrument", "instrument-off-host", "bad-object", "id-off-host"],
)
async def test_a_malformed_request_fails_without_an_answer(services, peer, bakery, post, change):
    await _alice(services, peer)
    request, _ = _request(peer, post[1])
    request.update(change)
    row = await dispatch(services, request)
    assert row["state"] == "failed"
    assert await outgoing(services.store) == []


async def test_deleting_a_quoted_post_revokes_its_stamps(services, peer, bakery, post):
    await _alice(services, peer)
    request, _ = _request(peer, post[1])
    await handle(services, request)
    [stamp] = await quote_store.of_post(services.store, post[0])
    async with services.store.transaction():
        assert await revocation.revoke(services, bakery, [stamp]) == 1
    assert await quote_store.of_post(services.store, post[0]) == []
    [delete] = await outgoing(services.store, "Delete")
    url = services.urls.quote_stamp("bakery", post[0], stamp.id)
    assert delete["body"]["object"] == url
    assert delete["body"]["id"] == f"{url}#delete"
    assert stamp.actor_inbox in delete["inboxes"]


async def test_a_quote_deleted_by_its_author_takes_its_stamp_with_it(services, peer, bakery, post):
    await _alice(services, peer)
    request, quote = _request(peer, post[1])
    await handle(services, request)
    delete = {
        "id": f"{quote['id']}#delete",
        "type": "Delete",
        "actor": peer.actor("alice").uri,
        "object": {"id": quote["id"], "type": "Tombstone"},
    }
    await handle(services, delete)
    assert await count(services.store, "quote_stamps") == 0
    assert await outgoing(services.store, "Delete") == []


async def test_narrowing_the_policy_revokes_only_what_it_no_longer_allows(
    services, peer, bakery, biz, post
):
    alice = await _alice(services, peer)
    await handle(services, p.mastodon_follow(alice.uri, biz))
    request, _ = _request(peer, post[1])
    await handle(services, request)
    # followers: alice follows, so her quote stands
    await businesses.update(services.store, bakery.id, {"quote_policy": "followers"}, now=now_ms())
    changed = await businesses.by_id(services.store, bakery.id)
    async with services.store.transaction():
        assert await revocation.revoke_disallowed(services, changed, None) == 0
    # nobody: it is revoked
    await businesses.update(services.store, bakery.id, {"quote_policy": "nobody"}, now=now_ms())
    changed = await businesses.by_id(services.store, bakery.id)
    async with services.store.transaction():
        assert await revocation.revoke_disallowed(services, changed, None) == 1
    assert await count(services.store, "quote_stamps") == 0


# -- the business quotes a post elsewhere ------------------------------------------------------


async def _business_quotes(services, bakery, peer, **policy):
    """The bakery quotes a note of alice's that carries ``interactionPolicy`` ``policy``."""
    await _alice(services, peer)
    note = peer.add_note("alice", "<p>Our market opens Sunday</p>", **policy)
    created = await commands.create_post(
        services, bakery, {"content": "See you there!", "quote": note["id"]}
    )
    return note, created.post


async def test_the_business_quotes_a_post_that_allows_it_and_waits_for_the_accept(
    services, peer, bakery, biz
):
    # Given a note of alice's that anyone may quote
    note, post = await _business_quotes(
        services, bakery, peer, interactionPolicy={"canQuote": {"automaticApproval": [PUBLIC]}}
    )
    # Then the post is pending, and a QuoteRequest naming both posts goes to alice's inbox
    assert (post.quote_uri, post.quote_state) == (note["id"], "pending")
    [request] = await outgoing(services.store, "QuoteRequest")
    assert request["inboxes"] == [f"{peer.actor('alice').uri}/inbox"]
    assert (request["body"]["object"], request["body"]["instrument"]) == (note["id"], post.uri)
    served = await note_document(services.store, services.urls, bakery, post)
    assert served["quote"] == note["id"] and "quoteAuthorization" not in served
    assert 'class="quote-inline"' in served["content"]
    # When alice's server accepts with a stamp it serves
    stamp = peer.add_note("alice", "", type="QuoteAuthorization")
    stamp.update(attributedTo=peer.actor("alice").uri, interactingObject=post.uri)
    stamp["interactionTarget"] = note["id"]
    accept = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{peer.actor('alice').uri}#accepts/quote_requests/1",
        "type": "Accept",
        "actor": peer.actor("alice").uri,
        "object": {k: v for k, v in request["body"].items() if k != "@context"},
        "result": stamp["id"],
    }
    assert await handle(services, accept) == "quote accepted"
    # Then the post carries the stamp
    accepted = await post_store.by_id(services.store, bakery.id, post.id)
    assert (accepted.quote_state, accepted.quote_authorization) == ("accepted", stamp["id"])
    served = await note_document(services.store, services.urls, bakery, accepted)
    assert served["quoteAuthorization"] == stamp["id"]
    assert len(await outgoing(services.store, "Update")) == 1
    # When alice's server later deletes the stamp, the quote is revoked and sent again
    revoke = {
        "id": f"{stamp['id']}#delete",
        "type": "Delete",
        "actor": peer.actor("alice").uri,
        "object": stamp["id"],
    }
    assert await handle(services, revoke) == "quote revoked"
    revoked = await post_store.by_id(services.store, bakery.id, post.id)
    assert (revoked.quote_state, revoked.quote_authorization) == ("revoked", None)
    served = await note_document(services.store, services.urls, bakery, revoked)
    assert "quoteAuthorization" not in served
    assert len(await outgoing(services.store, "Update")) == 2


async def test_a_stamp_that_names_another_quote_is_not_taken(services, peer, bakery):
    _, post = await _business_quotes(
        services, bakery, peer, interactionPolicy={"canQuote": {"automaticApproval": [PUBLIC]}}
    )
    [request] = await outgoing(services.store, "QuoteRequest")
    stamp = peer.add_note("alice", "", type="QuoteAuthorization", interactingObject="x")
    accept = {
        "id": f"{peer.actor('alice').uri}#accepts/1",
        "type": "Accept",
        "actor": peer.actor("alice").uri,
        "object": request["body"]["id"],
        "result": stamp["id"],
    }
    assert await handle(services, accept) == "ignored: the stamp does not name this quote"
    reject = accept | {"type": "Reject", "id": f"{peer.actor('alice').uri}#rejects/1"}
    assert await handle(services, reject) == "quote rejected"
    stored = await post_store.by_id(services.store, bakery.id, post.id)
    assert stored.quote_state == "rejected"


@pytest.mark.parametrize(
    "policy",
    [{}, {"interactionPolicy": {"canQuote": {"automaticApproval": ["https://x.example/u/me"]}}}],
    ids=["no-policy", "only-its-author"],
)
async def test_a_post_whose_author_does_not_allow_quotes_is_refused_by_name(
    services, peer, bakery, policy
):
    with pytest.raises(Unprocessable) as refused:
        await _business_quotes(services, bakery, peer, **policy)
    assert refused.value.errors == [
        {"pointer": "/quote", "message": "its author does not let you quote it"}
    ]
    assert await outgoing(services.store) == []


# -- "ask": manual approval (FEP-044f manualApproval) -----------------------------------------


async def _asked(services, peer, bakery, **post_fields):
    """alice asks to quote a post of the bakery whose policy is ask."""
    await businesses.update(services.store, bakery.id, {"quote_policy": "ask"}, now=now_ms())
    alice = await _alice(services, peer)
    post_id, post_uri = await add_post(services, bakery, **post_fields)
    request, quote = _request(peer, post_uri)
    outcome = await handle(services, request)
    return alice, post_id, request, quote, outcome


async def test_under_ask_a_request_waits_for_the_owner_with_no_answer_yet(services, peer, bakery):
    # Given a business whose policy is "ask"; when alice asks to quote a public post
    alice, post_id, request, quote, outcome = await _asked(services, peer, bakery)
    # Then nothing is sent yet: the request waits, the owner is told, her post is kept
    assert outcome == "quote request kept for the owner"
    assert await outgoing(services.store) == []
    [pending] = await quote_store.pending_of_business(services.store, bakery.id, limit=10)
    assert (pending.post_id, pending.actor_id, pending.quote_uri) == (
        post_id,
        alice.id,
        quote["id"],
    )
    assert pending.request["id"] == request["id"] and "@context" not in pending.request
    assert await notification_types(services.store) == ["quote_request"]
    assert await count(services.store, "remote_notes", "uri = :u", u=quote["id"]) == 1
    # And a repeat while it waits changes nothing
    assert await handle(services, request) == "quote request already waiting"
    assert await count(services.store, "quote_requests") == 1
    assert await notification_types(services.store) == ["quote_request"]


async def test_approving_sends_the_accept_with_a_stamp_and_notifies_the_quote(
    services, peer, bakery, biz
):
    alice, post_id, request, _, _ = await _asked(services, peer, bakery)
    [pending] = await quote_store.pending_of_business(services.store, bakery.id, limit=10)
    # When the owner approves it
    assert await revocation.decide_request(services, bakery, pending.id, approve=True) == (
        "approved"
    )
    # Then an Accept with the stamp goes to alice, the request is gone, a quote notified
    [stamp] = await quote_store.of_post(services.store, post_id)
    [accept] = await outgoing(services.store, "Accept")
    assert accept["inboxes"] == [alice.inbox]
    assert accept["body"]["actor"] == biz
    assert accept["body"]["object"]["id"] == request["id"]
    assert accept["body"]["result"] == services.urls.quote_stamp("bakery", post_id, stamp.id)
    assert await count(services.store, "quote_requests") == 0
    assert sorted(await notification_types(services.store)) == ["quote", "quote_request"]
    # And her next request for the same quote is granted at once (same stamp)
    assert await handle(services, request) == "quote granted again"


async def test_denying_sends_a_reject_and_forgets_the_request(services, peer, bakery):
    alice, _, request, _, _ = await _asked(services, peer, bakery)
    [pending] = await quote_store.pending_of_business(services.store, bakery.id, limit=10)
    assert await revocation.decide_request(services, bakery, pending.id, approve=False) == (
        "denied"
    )
    [reject] = await outgoing(services.store, "Reject")
    assert reject["inboxes"] == [alice.inbox]
    assert reject["body"]["object"]["id"] == request["id"]
    assert await count(services.store, "quote_requests") == 0
    assert await count(services.store, "quote_stamps") == 0
    # And deciding it again: there is no such request
    with pytest.raises(NotFound):
        await revocation.decide_request(services, bakery, pending.id, approve=True)


async def test_approving_after_the_post_was_deleted_or_the_domain_blocked_denies(
    services, peer, bakery
):
    # Given two waiting requests: one for a post deleted since, one from a domain blocked since
    _, post_id, _, _, _ = await _asked(services, peer, bakery)
    [first] = await quote_store.pending_of_business(services.store, bakery.id, limit=10)
    await services.store.execute(
        "UPDATE posts SET deleted_at = :t WHERE id = :id", {"t": now_ms(), "id": post_id}
    )
    # When the owner approves it, then it is denied: a Reject, no stamp
    assert await revocation.decide_request(services, bakery, first.id, approve=True) == "denied"
    assert len(await outgoing(services.store, "Reject")) == 1
    await _asked(services, peer, bakery)
    [second] = await quote_store.pending_of_business(services.store, bakery.id, limit=10)
    await moderation.add_block(
        services.store,
        business_id=bakery.id,
        actor_uri=None,
        domain=peer.actor("alice").uri.split("/")[2].split(":")[0],
        now=now_ms(),
    )
    assert await revocation.decide_request(services, bakery, second.id, approve=True) == "denied"
    assert len(await outgoing(services.store, "Reject")) == 2
    assert await count(services.store, "quote_stamps") == 0


@pytest.mark.parametrize("visibility", ["followers", "direct"])
async def test_under_ask_a_followers_only_post_is_still_refused_at_once(
    services, peer, bakery, visibility
):
    *_, outcome = await _asked(services, peer, bakery, visibility=visibility)
    assert outcome == f"quote refused (policy nobody ({visibility} post))"
    assert len(await outgoing(services.store, "Reject")) == 1
    assert await count(services.store, "quote_requests") == 0


async def test_under_ask_a_blocked_domain_is_refused_at_once(services, peer, bakery):
    await moderation.add_block(
        services.store,
        business_id=bakery.id,
        actor_uri=None,
        domain=peer.actor("alice").uri.split("/")[2].split(":")[0],
        now=now_ms(),
    )
    *_, outcome = await _asked(services, peer, bakery)
    assert outcome == "quote refused (blocked)"
    assert await count(services.store, "quote_requests") == 0


async def test_a_waiting_request_goes_when_its_quoting_post_is_deleted(services, peer, bakery):
    alice, _, _, quote, _ = await _asked(services, peer, bakery)
    delete = p.mastodon_delete_note(alice.uri)
    delete |= {"id": f"{quote['id']}#delete", "object": {"id": quote["id"], "type": "Tombstone"}}
    await handle(services, delete)
    assert await count(services.store, "quote_requests") == 0


async def test_switching_to_ask_keeps_the_quotes_granted_before(services, peer, bakery, post):
    await _alice(services, peer)
    request, _ = _request(peer, post[1])
    assert await handle(services, request) == "quote granted"
    await businesses.update(services.store, bakery.id, {"quote_policy": "ask"}, now=now_ms())
    changed = await businesses.by_id(services.store, bakery.id)
    async with services.store.transaction():
        assert await revocation.revoke_disallowed(services, changed, None) == 0
    assert await count(services.store, "quote_stamps") == 1
