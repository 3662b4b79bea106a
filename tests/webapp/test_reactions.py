"""Like and Boost from the owner's app: the buttons under a reply in the Inbox, their undo,
the "by its address" form, refusals in words, and where the owner comes back to (both
backends, a real peer on loopback serving the note)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from fedi_town.services import Services
from fedi_town.store import businesses
from tests.conftest import _app_client, make_settings
from tests.inbound.helpers import add_post, add_remote_actor, handle, outgoing
from tests.webapp.kit import AppUser, owner_of

pytestmark = pytest.mark.anyio


@pytest.fixture
async def open_client(database_url, tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    """``app_client`` that may fetch from loopback test peers (the note liked)."""
    settings = make_settings(database_url, tmp_path, allow_private_addresses=True)
    async with _app_client(Services.from_settings(settings)) as client:
        yield client


async def _reply_in_inbox(client: httpx.AsyncClient, peer: Any) -> tuple[AppUser, str]:
    """The bakery's owner, and alice's reply (served by the peer) in the bakery's inbox."""
    user = await owner_of(client, "bakery")
    services = client.services
    business = await businesses.by_username(services.store, "bakery")
    _, post_uri = await add_post(services, business)
    await add_remote_actor(services.store, peer.actor("alice").uri)
    create = peer.reply(post_uri, services.urls.actor("bakery"), "<p>Any rye today?</p>")
    await handle(services, create)
    return user, str(create["object"]["id"])


def _tap(note_uri: str, act: str, back: str = "/app/bakery/inbox?show=replies#n1") -> dict:
    return {"object": note_uri, "act": act, "name": "Alice", "back": back}


async def test_like_and_boost_under_a_reply_and_their_undo(open_client, peer):
    # Given alice's reply in the inbox, with Like and Boost buttons
    user, note_uri = await _reply_in_inbox(open_client, peer)
    page = await user.get("/app/bakery/inbox")
    assert """value="like">Like<span class="sr-only"> Alice's post</span>""" in page.text
    assert """value="boost">Boost<span class="sr-only"> Alice's post</span>""" in page.text
    assert 'name="back" value="/app/bakery/inbox?show=replies#n' in page.text

    # When the owner taps Like, then Boost
    liked = await user.submit("/app/bakery/reactions", _tap(note_uri, "like"))
    await user.get("/app/bakery/inbox")
    boosted = await user.submit("/app/bakery/reactions", _tap(note_uri, "boost"), follow=True)

    # Then each comes back to the reply with a sentence, and the buttons offer the undo
    assert liked.status_code == 303
    assert liked.headers["location"] == "/app/bakery/inbox?show=replies#n1"
    assert "your followers see it too." in boosted.text
    assert 'value="unlike" aria-pressed="true">Liked' in boosted.text
    assert 'value="unboost" aria-pressed="true">Boosted' in boosted.text
    [like] = await outgoing(open_client.services.store, "Like")
    assert like["body"]["object"] == note_uri
    [announce] = await outgoing(open_client.services.store, "Announce")
    assert announce["body"]["object"] == note_uri

    # When the owner takes both back
    await user.submit("/app/bakery/reactions", _tap(note_uri, "unlike"))
    await user.get("/app/bakery/inbox")
    page = await user.submit("/app/bakery/reactions", _tap(note_uri, "unboost"), follow=True)

    # Then the Undo of each is on its way, and the buttons are as before
    assert "You took back your boost of Alice" in page.text
    assert len(await outgoing(open_client.services.store, "Undo")) == 2
    assert 'value="like">Like' in page.text and 'value="boost">Boost' in page.text


async def test_a_post_by_its_address_and_refusals_in_words(open_client, peer):
    user, _ = await _reply_in_inbox(open_client, peer)
    note = peer.add_note("alice", "<p>Our market opens Sunday</p>")
    page = await user.get("/app/bakery/inbox")
    assert "Like or boost a post by its address" in page.text

    # By its web address, from the form
    done = await user.submit(
        "/app/bakery/reactions",
        {"object": note["url"], "act": "boost", "back": "/app/bakery/inbox?show=replies"},
        follow=True,
    )
    assert "You boosted the post: your followers see it too." in done.text

    # Again: already boosted
    again = await user.submit(
        "/app/bakery/reactions", {"object": note["id"], "act": "boost"}, follow=True
    )
    assert "You already boosted that post." in again.text

    # A post that cannot be fetched: the reason in words
    missing = await user.submit(
        "/app/bakery/reactions", {"object": f"{peer.base}/notes/gone", "act": "like"}, follow=True
    )
    assert "has no such post" in missing.text

    # Nothing typed, or an unknown act
    empty = await user.submit("/app/bakery/reactions", {"object": "", "act": "like"}, follow=True)
    assert "Paste the address of a post" in empty.text


async def test_back_leads_only_to_this_business_s_pages(open_client, peer):
    user, note_uri = await _reply_in_inbox(open_client, peer)
    await user.get("/app/bakery/inbox")
    for back in ("https://evil.example/", "//evil.example/app/bakery", "/app/other/inbox"):
        answer = await user.submit("/app/bakery/reactions", _tap(note_uri, "like", back))
        assert answer.headers["location"] == "/app/bakery/inbox?show=replies"
        await user.get("/app/bakery/inbox")
