"""The owner's web app end to end, as a shop owner uses it, in Debian's chromium: accept an
invite and set a password, approve the Fedify peer's follow request, post with a photo that
arrives at the peer, answer the peer's reply from the inbox, set and clear a notice, sign
out. On both backends; the pages are shot at phone and desktop width (tests/webapp/screens.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, async_playwright

from tests.interop.harness import FedifyClient
from tests.interop.owner import Owner, fedify_received, png_bytes
from tests.live import wait_until
from tests.webapp.browser import CHROMIUM, HAVE_CHROMIUM, join, watch
from tests.webapp.screens import DESKTOP, PHONE, shoot

pytestmark = pytest.mark.anyio


async def open_tab(page: Page, name: str) -> None:
    """Follow a section's link in the app's tabs, and wait for its page."""
    tabs = page.get_by_role("navigation", name="Sections")
    async with page.expect_navigation():
        await tabs.get_by_role("link", name=name, exact=True).click()


async def both_widths(page: Page, name: str, tmp_path: Path) -> None:
    """Shoot the page at phone width, then desktop width, then back to the phone."""
    await shoot(page, name, tmp_path)
    await page.set_viewport_size(DESKTOP)
    await shoot(page, name, tmp_path)
    await page.set_viewport_size(PHONE)


async def test_an_owner_runs_the_bakery_from_a_phone(
    live: Any, fedify: FedifyClient, tmp_path: Path
) -> None:
    assert HAVE_CHROMIUM, "chromium is missing: `make browser` installs it"
    # Given a bakery that approves followers by hand, and an invite for its owner
    owner = await Owner.create(
        live, "bakery", display_name="Corner Bakery", manually_approves_followers=True
    )
    made = await live.client.post(
        "/api/v1/admin/invites",
        json={"role": "owner", "business": "bakery"},
        headers=live.admin_headers(),
    )
    invite = made.json()["url"]
    photo = tmp_path / "loaf.png"
    photo.write_bytes(png_bytes((640, 480)))
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            context = await browser.new_context(viewport=PHONE)
            page = await context.new_page()
            broken = watch(page)

            # When the owner opens the invite and chooses a name and a password
            await page.goto(invite)
            await shoot(page, "invite", tmp_path)
            await join(page, invite, "Anna", "anna@corner.example")
            await page.wait_for_url("**/app/bakery")
            # Then she is on the bakery's Today page
            await page.get_by_role("heading", name="Today at Corner Bakery").wait_for()

            # When the Fedify peer asks to follow, and she approves it on the followers page
            sent = await fedify.follow(owner.actor)
            assert sent["ok"], sent
            await owner.wait_for_notification("follow_request")
            await open_tab(page, "Followers")
            await both_widths(page, "followers", tmp_path)
            await page.get_by_role("button", name="Approve").first.click()
            await page.get_by_text("now follows you").wait_for()
            # Then the peer receives a verified Accept and follows the bakery
            accept = await fedify_received(fedify, "Accept")
            assert accept["verified"], accept
            await owner.wait_for_followers([fedify.actor_id])

            # When she writes a post with a photo and its description, and posts it
            await open_tab(page, "Write")
            await page.get_by_label("Your post").fill("Rye loaves are out of the oven 🍞")
            await page.get_by_label("Add photos").set_input_files(str(photo))
            await page.get_by_label("Describe new photo 1").fill("Three rye loaves")
            await page.get_by_role("button", name="Post", exact=True).click()
            await page.wait_for_url("**/app/bakery/posts/*")
            await page.get_by_text("Posted.").wait_for()
            # Then the post, with its photo and description, arrives at the peer
            [create] = await fedify.wait_for("Create")
            assert create["verified"], create
            note = create["json"]["object"]
            assert "Rye loaves are out of the oven" in note["content"]
            [image] = note["attachment"]
            assert image["name"] == "Three rye loaves" and image["mediaType"] == "image/png"
            await open_tab(page, "Posts")
            await both_widths(page, "posts", tmp_path)

            # When the peer replies, and she answers in the inbox
            reply = await fedify.reply(note["id"], "<p>Save me one!</p>", mention=owner.actor)
            await owner.wait_for_notification("reply")
            await open_tab(page, "Inbox")
            await page.get_by_text("Save me one!").wait_for()
            await both_widths(page, "inbox", tmp_path)
            await page.get_by_label("Your answer to").first.fill("Put aside for you!")
            await page.get_by_role("button", name="Answer").first.click()
            await page.get_by_text("is posted and on its way").wait_for()
            # Then the answer reaches the peer as a reply to its note
            answers = await fedify.wait_for("Create", count=2)
            answer = next(
                a for a in answers if a["json"]["object"].get("inReplyTo") == reply["note"]
            )
            assert "Put aside for you!" in answer["json"]["object"]["content"]

            # When she taps "Closed today" on the Today page
            await open_tab(page, "Today")
            await page.get_by_role("button", name="Closed today").click()
            await page.get_by_text("Your profile now says").wait_for()
            await both_widths(page, "today", tmp_path)
            # Then the profile says so, and followers hear of it
            view = await owner.call("GET", "")
            assert view["notice"]["text"] == "Closed today"

            async def updated() -> bool:
                return any(
                    a["type"] == "Update" and "Closed today" in str(a.get("json"))
                    for a in await fedify.received()
                )

            await wait_until(updated, timeout=15)
            # When she clears it
            await page.get_by_role("button", name="Clear the notice").click()
            await page.get_by_text("Notice cleared").wait_for()
            assert (await owner.call("GET", ""))["notice"] is None

            # When she signs out
            await page.get_by_role("button", name="Sign out", exact=True).click()
            await page.wait_for_url("**/login")
            await shoot(page, "login", tmp_path)
            # Then the app asks her to sign in again
            await page.goto(live.base_url + "/app/bakery")
            await page.wait_for_url(re.compile(r"/login\?next=/app/bakery$"))
            assert broken == []
        finally:
            await browser.close()
