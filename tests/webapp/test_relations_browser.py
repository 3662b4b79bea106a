"""Relationships in a real browser (Debian's chromium) on a phone: the owner sees a question
waiting on Today, marks it dealt with, opens Relationships from the menu and reads one
neighbour's page (screenshots app-relationships-390.png and app-relationships-1280.png via
``make screenshots``)."""

from __future__ import annotations

import pytest
from playwright.async_api import async_playwright

from fedi_town.store import businesses
from tests.inbound.handlers.timeline_kit import create, note
from tests.inbound.helpers import add_post, add_remote_actor, handle
from tests.webapp.browser import CHROMIUM, HAVE_CHROMIUM, MISSING, join, owner_invite, watch
from tests.webapp.screens import DESKTOP, PHONE, shoot

pytestmark = pytest.mark.anyio

ALICE = "https://mastodon.example/users/alice"


async def test_an_owner_deals_with_a_question_and_reads_a_neighbour_on_a_phone(live, tmp_path):
    assert HAVE_CHROMIUM, MISSING
    # Given Alice asked the bakery about its rye
    await live.create_business("bakery", display_name="Corner Bakery")
    business = await businesses.by_username(live.store, "bakery")
    assert business is not None
    await add_remote_actor(live.store, ALICE)
    _, post = await add_post(live.services, business, "Rye today")
    biz = live.services.urls.actor("bakery")
    asked = note(ALICE, "<p>Is the rye sourdough?</p>", inReplyTo=post, cc=[biz])
    await handle(live.services, create(asked))
    link = await owner_invite(live)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            context = await browser.new_context(viewport=PHONE)
            page = await context.new_page()
            problems = watch(page)
            await join(page, link)
            await page.wait_for_url("**/app/bakery")

            # Then Today shows her question waiting, and the week
            assert await page.get_by_text("Is the rye sourdough?").is_visible()
            assert await page.get_by_text("You gave back 0 times for 1 post.").is_visible()
            assert await page.get_by_role("link", name="Answer Alice").is_visible()

            # When she taps Dealt with
            await page.get_by_role("button", name="Dealt with").click()
            await page.wait_for_url("**/app/bakery")

            # Then nobody waits any more
            assert await page.get_by_text("Nobody is waiting for an answer.").is_visible()

            # When she opens Relationships from the menu, then Alice
            await page.get_by_role("link", name="Relationships", exact=True).first.click()
            await page.wait_for_url("**/app/bakery/relationships")
            await shoot(page, "relationships", tmp_path)
            await page.get_by_role("link", name="Alice", exact=True).first.click()
            await page.wait_for_url("**/app/bakery/relationships/*")

            # Then she reads what Alice did and what the bakery gave back
            assert await page.get_by_text("Replies and mentions: 1").is_visible()
            assert await page.get_by_text("Your answers: 0").is_visible()

            # And the page reads well on a desktop too
            await page.set_viewport_size(DESKTOP)
            await page.goto(live.base_url + "/app/bakery/relationships")
            await shoot(page, "relationships", tmp_path)
            assert problems == []
        finally:
            await browser.close()
