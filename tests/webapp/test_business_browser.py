"""The business page in a real browser: Debian's chromium (through Playwright) on a live
instance. An owner types a day's hours with the keyboard and the page comes back saying so;
an overlap comes back with its sentence at that day; nothing breaks the page's CSP.
It is shot at a phone's width and a laptop's (tests/webapp/screens.py).
"""

from __future__ import annotations

import pytest
from playwright.async_api import async_playwright

from tests.live import live_instance
from tests.webapp.browser import CHROMIUM, HAVE_CHROMIUM, join
from tests.webapp.screens import shoot

pytestmark = pytest.mark.anyio


async def test_an_owner_sets_the_hours_on_a_phone_and_the_page_fits_phone_and_laptop(
    database_url, tmp_path
):
    assert HAVE_CHROMIUM, "chromium is missing: `make browser` installs it"
    async with live_instance(database_url, tmp_path, public_host="localhost") as live:
        # Given a bakery with a profile, and its owner's invite
        await live.create_business(
            "bakery",
            display_name="Corner Bakery",
            summary="Sourdough since 1998.",
            category="Bakery",
            timezone="Europe/London",
            location={"street_address": "1 High Street", "locality": "Bristol", "country": "GB"},
            hours={
                day: [["07:00", "12:30"], ["14:00", "18:00"]]
                for day in ("tue", "wed", "thu", "fri")
            },
            special_hours=[
                {"start": "2030-12-25", "end": "2030-12-26", "hours": [], "label": "Christmas"}
            ],
        )
        made = await live.client.post(
            "/api/v1/admin/invites",
            json={"role": "owner", "business": "bakery"},
            headers=live.admin_headers(),
        )
        link = made.json()["url"]
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM)
            try:
                context = await browser.new_context(
                    viewport={"width": 390, "height": 844}, locale="en-GB"
                )
                page = await context.new_page()
                problems: list[str] = []
                page.on("pageerror", lambda e: problems.append(str(e)))
                page.on(
                    "console",
                    lambda m: problems.append(m.text) if m.type == "error" else None,
                )
                await join(page, link, "Anna", "anna")
                await page.wait_for_url("**/app/bakery")
                # When she opens the business page from the tabs
                await page.get_by_role("link", name="Business", exact=True).click()
                await page.wait_for_url("**/app/bakery/business")
                assert await page.get_by_role("heading", name="Your business").is_visible()
                # And opens on Mondays: unticks "Closed" and types the hours
                await page.get_by_label("Monday: Closed", exact=True).uncheck()
                await page.get_by_label("Monday, opens", exact=True).fill("07:30")
                await page.get_by_label("Monday, closes", exact=True).first.fill("12:00")
                await page.get_by_role("button", name="Save the opening hours").click()
                await page.wait_for_url("**/app/bakery/business#hours")  # 303, then shown
                # Then the page says so and the API keeps it
                assert await page.get_by_text("Opening hours saved.").is_visible()
                view = await live.client.get(
                    "/api/v1/businesses/bakery", headers=live.admin_headers()
                )
                assert view.json()["hours"]["mon"] == [["07:30", "12:00"]]
                # And the page fits a phone: nothing wider than the screen
                wide = await page.evaluate("document.documentElement.scrollWidth")
                assert wide <= 390, f"the page is {wide} px wide on a 390 px screen"
                await page.goto(live.base_url + "/app/bakery/business")
                await shoot(page, "business", tmp_path)
                await page.set_viewport_size({"width": 1280, "height": 900})
                await page.reload()
                await shoot(page, "business", tmp_path)
                # When Monday's second row overlaps the first
                await page.get_by_label("Monday, opens again", exact=True).fill("11:00")
                await page.get_by_label("Monday, closes", exact=True).nth(1).fill("18:00")
                await page.get_by_role("button", name="Save the opening hours").click()
                # Then the sentence stands at Monday, and the alert links to the section
                await page.wait_for_url("**/app/bakery/business/hours")
                monday = page.locator("#hours-mon")
                assert await monday.get_by_text(
                    "Overlaps Monday’s first opening times."
                ).is_visible()
                assert await page.get_by_role("alert").is_visible()
                # (a 422 and the missing favicon are logged as failed loads: not problems)
                assert [p for p in problems if not p.startswith("Failed to load resource")] == []
            finally:
                await browser.close()
