"""Writing a post with a photo in a real browser on a phone-sized screen: Debian's chromium
picks a JPEG through the real file input, the page's script offers a description box for it,
the preview shows the card, Post posts it. Screenshots of the compose page (with its preview)
and of the posts page at 390 and 1280 px (tests/webapp/screens.py)."""

from __future__ import annotations

import pytest
from playwright.async_api import async_playwright

from tests.webapp.browser import CHROMIUM, HAVE_CHROMIUM, join
from tests.webapp.screens import DESKTOP, PHONE, shoot
from tests.webapp.test_compose import jpeg

pytestmark = pytest.mark.anyio


async def test_a_phone_writes_a_post_with_a_photo_and_finds_it_in_the_list(live, tmp_path):
    assert HAVE_CHROMIUM, "chromium is missing: `make browser` installs it"
    # Given a bakery, its owner's invite link and a photo on the phone
    await live.create_business("bakery", display_name="Corner Bakery")
    made = await live.client.post(
        "/api/v1/admin/invites",
        json={"role": "owner", "business": "bakery"},
        headers=live.admin_headers(),
    )
    photo = tmp_path / "IMG_0042.jpg"
    photo.write_bytes(jpeg())
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            context = await browser.new_context(viewport=PHONE)
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            # the page's own resources (script, styles, photos) all load; chromium's
            # favicon request is not the page's and is left out
            page.on("response", lambda r: errors.append(r.url) if r.status >= 400 else None)
            await join(page, made.json()["url"], "Anna", "anna")
            await page.wait_for_url("**/app/bakery")
            # When she writes a post, picks the photo and describes it where the page asks
            await page.get_by_role("link", name="Write", exact=True).click()
            await page.wait_for_url("**/app/bakery/compose")
            await page.get_by_label("Your post").fill("Rye loaves out of the oven. #rye")
            await page.get_by_label("Add photos").set_input_files(str(photo))
            await page.get_by_label("Describe new photo 1").fill("Six rye loaves cooling on a rack")
            assert await page.get_by_text("32 of 5000 characters").is_visible()
            # And previews it
            await page.get_by_role("button", name="Preview").click()
            heading = page.get_by_role("heading", name="Preview: how Mastodon will show it")
            await heading.wait_for()
            # Then the card shows her name, the text and the photo with its description
            card = page.locator("#preview article.status")
            assert "Corner Bakery" in await card.inner_text()
            assert await card.get_by_role("img", name="Six rye loaves cooling on a rack").count()
            assert await page.get_by_label("Describe photo 1").input_value() == (
                "Six rye loaves cooling on a rack"
            )
            await shoot(page, "compose", tmp_path)
            await page.set_viewport_size(DESKTOP)
            await shoot(page, "compose", tmp_path)
            await page.set_viewport_size(PHONE)
            # When she posts it
            await page.get_by_role("button", name="Post", exact=True).click()
            await page.wait_for_url("**/app/bakery/posts/*")
            # Then she is on the post, told it is posted, and it leads her list
            assert await page.get_by_text("Posted.").is_visible()
            await page.get_by_role("link", name="All your posts").click()
            await page.wait_for_url("**/app/bakery/posts")
            first = page.locator("li.post-item").first
            assert "Rye loaves out of the oven." in await first.inner_text()
            assert await first.get_by_role("img", name="Six rye loaves cooling on a rack").count()
            await shoot(page, "posts", tmp_path)
            await page.set_viewport_size(DESKTOP)
            await shoot(page, "posts", tmp_path)
            assert errors == []
        finally:
            await browser.close()
    # And the API holds the post with the described photo
    posts = await live.client.get("/api/v1/businesses/bakery/posts", headers=live.admin_headers())
    [post] = posts.json()["items"]
    assert [m["description"] for m in post["media"]] == ["Six rye loaves cooling on a rack"]
