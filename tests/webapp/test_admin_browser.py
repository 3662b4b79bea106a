"""The admin's and the owner's people pages in Debian's chromium, as a person uses them: the
admin joins by link, creates a business and hands its owner a link; the owner joins with it
and invites staff. Both pages are shot at 390 and 1280 px (tests/webapp/screens.py).
"""

from __future__ import annotations

import pytest
from playwright.async_api import async_playwright

from tests.live import live_instance
from tests.webapp.browser import CHROMIUM, HAVE_CHROMIUM, join
from tests.webapp.screens import PHONE, shoot

pytestmark = pytest.mark.anyio


def bad(url: str, status: int) -> bool:
    """A page's own request that failed (a browser asks for /favicon.ico by itself)."""
    return status >= 400 and not url.endswith("/favicon.ico")


async def test_the_admin_hands_a_new_business_to_its_owner_in_a_browser(database_url, tmp_path):
    assert HAVE_CHROMIUM, "chromium is missing: `make browser` installs it"
    async with live_instance(database_url, tmp_path, public_host="localhost") as live:
        # Given an instance with one business and an admin invite
        await live.create_business("cafe", display_name="Harbour Cafe")
        made = await live.client.post(
            "/api/v1/admin/invites", json={"role": "admin"}, headers=live.admin_headers()
        )
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM)
            try:
                wide = await browser.new_context(viewport={"width": 1280, "height": 900})
                page = await wide.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.on("console", lambda m: errors.append(m.text) if "policy" in m.text else None)
                wide.on(
                    "response", lambda r: errors.append(r.url) if bad(r.url, r.status) else None
                )
                # When the admin joins and creates a business with an owner link
                await join(page, made.json()["url"], "Robin", "robin")
                await page.wait_for_url("**/app/admin")
                await page.get_by_label("Name", exact=True).fill("Corner Bakery")
                await page.get_by_label("Username").fill("bakery")
                await page.get_by_role("button", name="Create the business").click()
                # Then the link is shown, ready to copy
                link_field = page.get_by_label("The link")
                await link_field.wait_for(state="visible")
                link = await link_field.input_value()
                assert link.startswith(live.base_url + "/invite/")
                assert await link_field.get_attribute("readonly") is not None
                await shoot(page, "admin", tmp_path)
                await page.set_viewport_size(PHONE)
                await shoot(page, "admin", tmp_path)
                # And the owner, on her phone, joins with it and invites staff
                phone = await browser.new_context(viewport={"width": 390, "height": 844})
                owner = await phone.new_page()
                owner.on("pageerror", lambda e: errors.append(str(e)))
                phone.on(
                    "response", lambda r: errors.append(r.url) if bad(r.url, r.status) else None
                )
                await join(owner, link, "Anna", "anna")
                await owner.wait_for_url("**/app/bakery")
                await owner.get_by_role("link", name="People").click()
                await owner.get_by_label("Staff").check()
                await owner.get_by_role("button", name="Make an invite link").click()
                staff_link = owner.get_by_label("The link")
                await staff_link.wait_for(state="visible")
                assert (await staff_link.input_value()).startswith(live.base_url + "/invite/")
                assert await owner.get_by_text("Staff invite", exact=True).is_visible()
                await shoot(owner, "people", tmp_path)
                # And nothing failed, nor was refused by the page's security policy
                assert errors == []
            finally:
                await browser.close()
