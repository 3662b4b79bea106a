"""masto.js 6 in headless Chromium, from a page on another origin, as the browser apps
built on it (Elk, Phanpy) call fedi-town: CORS preflights for the bearer token, a photo
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
from tests.mastodon.flow import business_with_token
from tests.webapp.browser import CHROMIUM, HAVE_CHROMIUM, MISSING

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


async def test_masto_js_in_a_browser_on_another_origin_posts_and_pages(live: Any) -> None:
    assert HAVE_CHROMIUM, MISSING
    try:
        ensure_installed(MASTO_JS_DIR)
    except PeerUnavailable as exc:
        pytest.fail(f"masto.js could not be installed: {exc}")
    # Given a token of the bakery, and a browser app served from its own origin
    _owner, token = await business_with_token(live.client)
    sock = bind_loopback()
    site = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = quote(json.dumps({"url": live.base_url, "token": token}))
    async with serve_app(client_site(), sock), async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            page = await browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            # When the page runs masto.js against fedi-town
            await page.goto(f"{site}/#{config}")
            await page.wait_for_function("window.result !== undefined", timeout=30_000)
            result = await page.evaluate("window.result")
        finally:
            await browser.close()
    # Then every cross-origin call answered, the second page came from the Link header
    assert "error" not in result, result
    assert errors == []
    assert result["origin"] == site != live.base_url
    assert result["me"] == "bakery" and result["media"] == "Rye from the browser"
    assert result["pages"][:2] == [[result["second"]], [result["first"]]]
    assert result["tagged"] == [result["second"]]
    assert result["found"] == ["bakery"]
    gone = await live.client.get(f"/api/v1/statuses/{result['first']}")
    assert gone.status_code == 404
