"""Quotes from elsewhere as a Mastodon app sees them (Mastodon.py, a live instance and a
real peer server, both backends): a note quoting the business's post with its stamp, one
without, and one quoting its own author, each with Mastodon 4.5's Quote."""

from __future__ import annotations

from typing import Any

import pytest
from mastodon import return_types

from fedi_town.store import quotes as quote_store
from tests.inbound import payloads as p
from tests.live import wait_until
from tests.mastodon.flow import SignedIn, entity_gaps, follow_accepted

pytestmark = pytest.mark.anyio


def _create(peer: Any, note: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in note.items() if k != "@context"}
    return p.create_of(note["attributedTo"], body)


async def test_notes_that_quote_carry_their_quote(
    live: Any, peer: Any, bakery_app: SignedIn
) -> None:
    # Given the bakery's app, a post of it, and alice elsewhere whom it follows
    call = bakery_app.call
    me = await call("account_verify_credentials")
    post = await call("status_post", "Fresh bread")
    [alice] = (await call("search_v2", peer.handle("alice"), resolve=True)).accounts
    await follow_accepted(live, int(me.id), int(alice.id), "alice")
    inbox = live.urls.inbox("bakery")
    alice_uri = peer.actor("alice").uri

    # When alice asks to quote the post and is granted a stamp, then posts her quote; posts
    # another quote of it without asking; and quotes a post of her own
    stamped = peer.add_note("alice", "<p>Best bread in town</p>", quote=post.uri)
    request = p.mastodon_quote_request(alice_uri, post.uri, stamped["id"])
    assert (await peer.post(inbox, request)).status_code == 202
    await wait_until(lambda: quote_store.of_post(live.store, int(post.id)))
    unasked = peer.add_note("alice", "<p>Also this</p>", quote=post.uri)
    hers = peer.add_note("alice", "<p>My own news</p>")
    own = peer.add_note("alice", "<p>As I said</p>", quoteUri=hers["id"])
    for note in (stamped, unasked, hers, own):
        assert (await peer.post(inbox, _create(peer, note))).status_code == 202

    async def home() -> dict[str, Any]:
        shown = {s.uri: s for s in await call("timeline_home")}
        return shown if len(shown) == 4 else {}

    shown = await wait_until(home)
    # Then the stamped quote is accepted and holds the bakery's post
    quote = shown[stamped["id"]].quote
    assert quote.state == "accepted" and quote.quoted_status.id == post.id
    assert entity_gaps(return_types.Quote, quote) == []
    assert entity_gaps(return_types.Status, quote.quoted_status) == []
    # And the one not asked for is pending, with no status
    assert shown[unasked["id"]].quote == {"state": "pending", "quoted_status": None}
    # And alice's quote of her own note is accepted, holding it; a plain note has none
    assert shown[own["id"]].quote.quoted_status.id == shown[hers["id"]].id
    assert shown[hers["id"]].quote is None
    # And the status read by its id says the same
    one = await call("status", shown[stamped["id"]].id)
    assert one.quote.state == "accepted" and one.quote.quoted_status.id == post.id
