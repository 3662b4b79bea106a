"""Like and Boost in a real browser (Debian's chromium) on a phone: an owner likes and boosts
a reply in her Inbox with one tap each, takes the boost back, and boosts a post by its
address; alice's server (a real peer on loopback) gets the Like, the Announce and the Undo
(screenshot app-reactions-390.png via ``make screenshots``)."""

from __future__ import annotations

import pytest
from playwright.async_api import async_playwright

from fedi_town.store import businesses
from tests.inbound.helpers import add_post, add_remote_actor, handle
from tests.outbound.conftest import add_follower
from tests.webapp.browser import CHROMIUM, HAVE_CHROMIUM, MISSING, join, owner_invite, watch
from tests.webapp.screens import PHONE, shoot

pytestmark = pytest.mark.anyio


async def test_an_owner_likes_and_boosts_a_reply_with_one_tap_on_a_phone(live, peer, tmp_path):
    assert HAVE_CHROMIUM, MISSING
    # Given a bakery followed by bob, and alice's reply to one of its posts in its inbox
    await live.create_business("bakery", display_name="Corner Bakery")
    business = await businesses.by_username(live.store, "bakery")
    assert business is not None
    bob = peer.actor("bob").uri
    await add_follower(live.store, business.id, bob, inbox=f"{bob}/inbox")
    _, post_uri = await add_post(live.services, business, "Rye loaves are back on Saturdays")
    await add_remote_actor(live.store, peer.actor("alice").uri)
    create = peer.reply(post_uri, live.urls.actor("bakery"), "<p>Best rye in town!</p>")
    await handle(live.services, create)
    note_id = create["object"]["id"]
    link = await owner_invite(live)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            context = await browser.new_context(viewport=PHONE)
            page = await context.new_page()
            problems = watch(page)
            await join(page, link)
            await page.wait_for_url("**/app/bakery")

            # When she opens the inbox and taps Like, then Boost, under alice's reply
            await page.goto(live.base_url + "/app/bakery/inbox")
            assert await page.get_by_text("Best rye in town!").is_visible()
            await page.get_by_role("button", name="Like Alice's post").click()
            await page.wait_for_url("**/app/bakery/inbox?show=replies*")
            assert await page.get_by_role("status").filter(has_text="You liked Alice").is_visible()
            await page.get_by_role("button", name="Boost Alice's post").click()
            await page.wait_for_url("**/app/bakery/inbox?show=replies*")

            # Then she is told, both buttons show what she gave, and alice's server got the
            # Like, and alice's and bob's the Announce
            assert (
                await page.get_by_role("status").filter(has_text="You boosted Alice").is_visible()
            )
            assert await page.get_by_role("button", name="Liked Alice's post · undo").is_visible()
            undo_boost = page.get_by_role("button", name="Boosted Alice's post · undo")
            assert await undo_boost.is_visible()
            [like] = await peer.wait_for(lambda r: r.type == "Like")
            assert like.json["object"] == note_id
            announces = await peer.wait_for(lambda r: r.type == "Announce", count=2)
            assert sorted(r.path for r in announces) == ["/inbox", "/users/bob/inbox"]
            await shoot(page, "reactions", tmp_path)

            # When she takes the boost back
            await undo_boost.click()
            await page.wait_for_url("**/app/bakery/inbox?show=replies*")

            # Then the Undo reaches both, and Boost is offered again
            assert await page.get_by_role("button", name="Boost Alice's post").is_visible()
            undos = await peer.wait_for(lambda r: r.type == "Undo", count=2)
            assert {r.json["object"]["type"] for r in undos} == {"Announce"}

            # When she boosts another post of alice's by its address
            other = peer.add_note("alice", "<p>Market on Sunday</p>")
            await page.get_by_label("Like or boost a post by its address").fill(other["url"])
            await page.get_by_role("button", name="Boost it").click()
            await page.wait_for_url("**/app/bakery/inbox?show=replies*")

            # Then it is boosted, by its id
            assert await page.get_by_role("status").filter(has_text="You boosted").is_visible()
            await peer.wait_for(
                lambda r: r.type == "Announce" and r.json["object"] == other["id"], count=2
            )
            assert problems == []
        finally:
            await browser.close()
