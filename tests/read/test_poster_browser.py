"""read.poster in a real browser: Debian's chromium (through Playwright) opens the poster page
of a live instance; the QR code and handle are visible, the QR code in the screenshot reads
as the profile URL, nothing breaks the page's CSP, and it prints on one A4 and one Letter
sheet.

It needs Debian's chromium, which ``make pytest`` installs (``make browser``); without it
the test fails saying so.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from playwright.async_api import async_playwright

pytestmark = pytest.mark.anyio

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
NAME = "Tom & Jerry's <Bakery>"


def decode(png: bytes) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


async def test_the_poster_page_shows_the_qr_code_and_handle_and_prints_on_one_sheet(live, tmp_path):
    assert HAVE_CHROMIUM, "chromium is missing: `make browser` installs it"
    # Given a live instance with a business whose name needs escaping
    await live.create_business("bakery", display_name=NAME)
    handle = live.urls.handle("bakery")
    profile = live.urls.profile_page("bakery")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            page = await browser.new_page(viewport={"width": 1000, "height": 1400})
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            failed: list[str] = []
            page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
            # When the owner opens the poster page
            response = await page.goto(live.urls.poster("bakery"))
            assert response is not None and response.status == 200
            # Then the name, the QR code and the handle are on screen, with nothing refused
            await page.get_by_role("heading", name=NAME).wait_for(state="visible")
            qr = page.locator(".poster-qr svg")
            assert await qr.is_visible()
            box = await qr.bounding_box()
            assert box is not None and box["width"] >= 250 and box["height"] >= 250
            assert await page.locator(".poster-handle", has_text=handle).is_visible()
            # (a browser asks for /favicon.ico by itself; there is none)
            assert [url for url in failed if not url.endswith("/favicon.ico")] == []
            assert [p for p in problems if not p.startswith("Failed to load resource")] == []
            # And the QR code in what the screen shows reads as the profile page
            screen = await page.screenshot(full_page=True)
            (tmp_path / "poster-screen.png").write_bytes(screen)
            assert decode(screen) == [profile]
            # When it is printed, Then the site's header is gone and the code still reads
            await page.emulate_media(media="print")
            assert not await page.locator("header.site").is_visible()
            printed = await page.screenshot(full_page=True)
            (tmp_path / "poster-print.png").write_bytes(printed)
            assert decode(printed) == [profile]
            # And it fits one sheet of A4 and one of Letter
            for paper in ("A4", "Letter"):
                pdf = await page.pdf(format=paper, prefer_css_page_size=False)
                (tmp_path / f"poster-{paper}.pdf").write_bytes(pdf)
                assert pdf_pages(pdf) == 1, paper
        finally:
            await browser.close()
    if keep := os.environ.get("FEDI_TOWN_KEEP_SCREENSHOTS"):
        for file in tmp_path.glob("poster-*"):
            shutil.copy(file, Path(keep) / file.name)
