"""The Following page and "Follow back" in a real browser (Debian's chromium) on a phone,
against a real peer on loopback: an owner follows someone by handle, sees the request wait
and then accepted, and follows back a follower with one tap (screenshots
app-following-390.png, app-following-1280.png, app-follow-back-390.png via ``make screenshots``)."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import async_playwright

from tests.live import wait_until
from tests.peer import AS_CONTEXT
from tests.webapp.browser import CHROMIUM, HAVE_CHROMIUM, MISSING, join, owner_invite, watch
from tests.webapp.screens import DESKTOP, PHONE, shoot

pytestmark = pytest.mark.anyio


def accept_of(peer, follow: dict) -> dict:
    return {
        "@context": AS_CONTEXT,
        "id": f"{peer.actor('alice').uri}#accepts/{uuid.uuid4().hex}",
        "type": "Accept",
        "actor": peer.actor("alice").uri,
        "object": {k: v for k, v in follow.items() if k != "@context"},
    }


async def test_an_owner_follows_by_handle_and_follows_back_on_a_phone(live, peer, tmp_path):
    assert HAVE_CHROMIUM, MISSING
    # Given a bakery whose owner signs in on her phone, and bob on the peer following it
    await live.create_business("bakery", display_name="Corner Bakery")
    link = await owner_invite(live)
    followed = await peer.post(
        live.urls.inbox("bakery"), peer.follow(live.urls.actor("bakery"), name="bob"), name="bob"
    )
    assert followed.status_code == 202
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            context = await browser.new_context(viewport=PHONE)
            page = await context.new_page()
            problems = watch(page)
            await join(page, link)
            await page.wait_for_url("**/app/bakery")

            # When she opens Following from the menu and follows alice by her handle
            await page.get_by_role("link", name="Following", exact=True).first.click()
            await page.wait_for_url("**/app/bakery/following")
            assert await page.get_by_text("You do not follow anyone yet.").is_visible()
            await page.get_by_label("Follow someone").fill(peer.handle("alice"))
            await page.get_by_role("button", name="Follow", exact=True).click()
            await page.wait_for_url("**/app/bakery/following")

            # Then she is told, alice shows as waiting, and alice's server got the Follow
            assert (
                await page.get_by_role("status")
                .filter(has_text=f"You asked to follow {peer.handle('alice')}")
                .is_visible()
            )
            assert await page.get_by_text("waiting for them to accept").is_visible()
            [got] = await peer.wait_for(
                lambda r: r.type == "Follow" and r.json["object"] == peer.actor("alice").uri
            )

            # When alice accepts and the page is opened again
            answered = await peer.post(live.urls.inbox("bakery"), accept_of(peer, got.json))
            assert answered.status_code == 202

            async def accepted() -> bool:
                listed = await live.store.fetch_val(
                    "SELECT COUNT(*) FROM following WHERE state = 'accepted'"
                )
                return int(listed) == 1

            await wait_until(accepted)
            await page.reload()

            # Then she follows alice, with a button to stop
            assert await page.get_by_text("following since").is_visible()
            assert await page.get_by_role("button", name="Unfollow Alice").is_visible()
            await shoot(page, "following", tmp_path)

            # When she opens Followers and taps "Follow back" by bob
            await page.goto(live.base_url + "/app/bakery/followers")
            await page.get_by_role("button", name="Follow back Bob").click()
            await page.wait_for_url("**/app/bakery/followers")

            # Then she stays on Followers, is told, and bob's server got a Follow
            assert await page.get_by_text("You asked to follow Bob").is_visible()
            assert await page.get_by_text("You asked to follow back").is_visible()
            await peer.wait_for(
                lambda r: r.type == "Follow" and r.json["object"] == peer.actor("bob").uri
            )
            await shoot(page, "follow-back", tmp_path)

            # And the Following page reads well on a desktop too
            await page.set_viewport_size(DESKTOP)
            await page.goto(live.base_url + "/app/bakery/following")
            await shoot(page, "following", tmp_path)
            assert problems == []
        finally:
            await browser.close()
