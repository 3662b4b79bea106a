"""masto.js 6 in headless Chromium, from a page on another origin, as the browser apps
built on it (Elk, Phanpy) sign in to fedi-town and call it: registering, the consent page
with PKCE and back, the token, then CORS preflights for the bearer token, a photo
uploaded as multipart, posting, paging by the Link header, a hashtag timeline, search,
deleting. No web client itself is tested: none installs prebuilt from the registries
(docs/mastodon-api.md, Clients tried)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.async_api import async_playwright
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from tests.interop.harness import MASTO_JS_DIR, PeerUnavailable, ensure_installed
from tests.live import bind_loopback, serve_app
from tests.webapp.browser import CHROMIUM, HAVE_CHROMIUM, MISSING, join, owner_invite

pytestmark = pytest.mark.anyio

#: Entry points that a package's "module" field does not name.
ENTRIES = {
    "masto": "dist/index.js",
    "isomorphic-ws": "browser.js",
    "events-to-async": "module/events-to-async.js",
}


def import_map(modules: Path) -> dict[str, Any]:
    """Bare names → the ES module files the browser loads (no bundler needed)."""
    imports = {}
    for package in sorted(p for p in modules.iterdir() if (p / "package.json").exists()):
        entry = ENTRIES.get(package.name)
        if entry is None:
            entry = json.loads((package / "package.json").read_text()).get("module")
        if entry:
            imports[package.name] = f"/modules/{package.name}/{entry.removeprefix('./')}"
    return {"imports": imports}


def client_site() -> Starlette:
    """The browser app's own site: a page loading masto.js and browser.mjs."""
    modules = MASTO_JS_DIR / "node_modules"
    page = (
        "<!doctype html><meta charset=utf-8><title>masto.js</title>"
        f'<script type="importmap">{json.dumps(import_map(modules))}</script>'
        '<script type="module" src="/browser.mjs"></script>'
    )

    async def index(request: Any) -> HTMLResponse:
        return HTMLResponse(page)

    return Starlette(
        routes=[
            Route("/", index),
            Mount("/modules", StaticFiles(directory=modules)),
            Mount("/", StaticFiles(directory=MASTO_JS_DIR)),
        ]
    )


async def test_masto_js_in_a_browser_signs_in_posts_and_pages_from_another_origin(
    live: Any,
) -> None:
    assert HAVE_CHROMIUM, MISSING
    try:
        ensure_installed(MASTO_JS_DIR)
    except PeerUnavailable as exc:
        pytest.fail(f"masto.js could not be installed: {exc}")
    # Given the bakery's owner signed in to the owner app in the browser, and a browser
    # app served from its own origin
    await live.create_business("bakery")
    invite = await owner_invite(live)
    sock = bind_loopback()
    site = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with serve_app(client_site(), sock), async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            page = await browser.new_page()
            await join(page, invite)
            await page.wait_for_url("**/app/**")
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            # When the app sends her to fedi-town's consent page and she allows it
            await page.goto(f"{site}/#{quote(live.base_url)}")
            await page.wait_for_url(f"{live.base_url}/oauth/authorize?**")
            await page.get_by_role("button", name="Allow").click()
            # Then she is back in the app, which works with its token
            await page.wait_for_url(f"{site}/?**")
            await page.wait_for_function("window.result !== undefined", timeout=30_000)
            result = await page.evaluate("window.result")
        finally:
            await browser.close()
    # And every cross-origin call answered, the second page came from the Link header
    assert "error" not in result, result
    assert errors == []
    assert result["origin"] == site != live.base_url
    assert result["me"] == "bakery" and result["media"] == "Rye from the browser"
    assert result["pages"][:2] == [[result["second"]], [result["first"]]]
    assert result["tagged"] == [result["second"]]
    assert result["found"] == ["bakery"]
    gone = await live.client.get(f"/api/v1/statuses/{result['first']}")
    assert gone.status_code == 404
