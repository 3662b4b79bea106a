"""The Neighbours page in a real browser (Debian's chromium) on a phone: the owner opens it
from the menu, reads a followed account's post and a boost, and taps Reply into the compose
page (screenshots app-neighbours-390.png and app-neighbours-1280.png via
``make screenshots``)."""

from __future__ import annotations

import pytest
from playwright.async_api import async_playwright

from fedi_town.store import businesses
from tests.inbound.handlers.timeline_kit import announce, create, followed, note
from tests.inbound.helpers import add_remote_actor, handle
from tests.webapp.browser import CHROMIUM, HAVE_CHROMIUM, MISSING, join, owner_invite, watch
from tests.webapp.screens import DESKTOP, PHONE, shoot

pytestmark = pytest.mark.anyio

ALICE = "https://mastodon.example/users/alice"
BOB = "https://mastodon.example/users/bob"


async def test_an_owner_reads_the_neighbours_posts_and_replies_on_a_phone(live, tmp_path):
    assert HAVE_CHROMIUM, MISSING
    # Given a bakery following Alice, who posted with a photo and boosted Bob
    await live.create_business("bakery", display_name="Corner Bakery")
    business = await businesses.by_username(live.store, "bakery")
    assert business is not None
    await followed(live.services, business, ALICE)
    await add_remote_actor(live.store, BOB)
    post = note(
        ALICE,
        "<p>Plums are in at the market stall by the church, come early!</p>",
        attachment=[
            {
                "type": "Document",
                "mediaType": "image/jpeg",
                "url": "https://files.mastodon.example/p.jpg",
                "name": "A crate of plums",
            }
        ],
    )
    await handle(live.services, create(post))
    await handle(live.services, announce(ALICE, note(BOB, "<p>Rye bread on Fridays</p>")))
    link = await owner_invite(live)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            context = await browser.new_context(viewport=PHONE)
            page = await context.new_page()
            problems = watch(page)
            await join(page, link)
            await page.wait_for_url("**/app/bakery")

            # When she opens Neighbours from the menu
            await page.get_by_role("link", name="Neighbours", exact=True).first.click()
            await page.wait_for_url("**/app/bakery/neighbours")

            # Then she reads the boost and Alice's post, the photo as a link
            assert await page.get_by_text("Rye bread on Fridays").is_visible()
            assert await page.get_by_text("Plums are in at the market stall").is_visible()
            assert await page.get_by_role("link", name="Photo: A crate of plums").is_visible()
            await shoot(page, "neighbours", tmp_path)

            # When she taps Reply under Alice's post
            await page.get_by_role("link", name="Reply to Alice").last.click()
            await page.wait_for_url("**/app/bakery/compose?in_reply_to=*")

            # Then she is writing a reply to it
            assert await page.get_by_role("heading", name="Write a reply").is_visible()
            assert (
                await page.locator('input[name="in_reply_to"]').get_attribute("value")
                == (post["id"])
            )

            # And the page reads well on a desktop too
            await page.set_viewport_size(DESKTOP)
            await page.goto(live.base_url + "/app/bakery/neighbours")
            await shoot(page, "neighbours", tmp_path)
            assert problems == []
        finally:
            await browser.close()
