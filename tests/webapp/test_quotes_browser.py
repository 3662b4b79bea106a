"""The Quotes page in a real browser (Debian's chromium) on a phone: the owner chooses "Ask
me" for quotes, then approves one request and denies another; the Accept (with its stamp)
and the Reject reach the asking server. Screenshot: docs/screenshots/app-quotes-390.png via
``make screenshots``."""

from __future__ import annotations

import pytest
from playwright.async_api import async_playwright

from fedi_town.store import businesses
from tests.inbound import payloads as p
from tests.inbound.helpers import add_post, add_remote_actor, handle
from tests.webapp.browser import CHROMIUM, HAVE_CHROMIUM, join
from tests.webapp.screens import PHONE, shoot

pytestmark = pytest.mark.anyio


async def ask_to_quote(live, peer, who: str, text: str) -> str:
    """``who`` (on the peer) asks to quote a new post of the bakery; their post's id."""
    services = live.services
    business = await businesses.by_username(services.store, "bakery")
    assert business is not None
    _, post_uri = await add_post(services, business, "Rye loaves are back on Saturdays")
    if who not in peer.actors:
        peer.add_actor(who)
    actor = peer.actor(who).uri
    await add_remote_actor(services.store, actor)
    quote = peer.add_note(who, f"<p>{text}</p>", quote=post_uri)
    outcome = await handle(services, p.mastodon_quote_request(actor, post_uri, quote["id"]))
    assert outcome == "quote request kept for the owner"
    quote_id: str = quote["id"]
    return quote_id


async def test_an_owner_asks_to_approve_quotes_then_approves_one_and_denies_one(
    live, peer, tmp_path
):
    assert HAVE_CHROMIUM, "chromium is missing: `make browser` installs it"
    # Given a bakery whose owner signs in on her phone
    await live.create_business("bakery", display_name="Corner Bakery")
    made = await live.client.post(
        "/api/v1/admin/invites",
        json={"role": "owner", "business": "bakery"},
        headers=live.admin_headers(),
    )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            page = await (await browser.new_context(viewport=PHONE)).new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            await join(page, made.json()["url"], "Anna", "anna")
            await page.wait_for_url("**/app/bakery")
            # When she chooses "Ask me" for quotes on the business page
            await page.goto(live.base_url + "/app/bakery/business")
            section = page.locator("#quotes")
            await section.get_by_label("Ask me").check()
            await section.get_by_role("button", name="Save").click()
            await page.wait_for_url("**/app/bakery/business**")
            business = await businesses.by_username(live.store, "bakery")
            assert business is not None and business.quote_policy == "ask"
            # And alice and bob ask to quote posts
            alice_quote = await ask_to_quote(live, peer, "alice", "Best rye in town, go!")
            await ask_to_quote(live, peer, "bob", "Meh :bread:")

            # Then the Quotes page lists both, with their posts to read
            await page.goto(live.base_url + "/app/bakery/quotes")
            assert await page.get_by_text("Best rye in town, go!").is_visible()
            assert await page.get_by_text("Meh").is_visible()
            await shoot(page, "quotes", tmp_path)

            # When she approves alice's
            await page.get_by_role("button", name="Approve the quote by Alice").click()
            await page.wait_for_url("**/app/bakery/quotes")
            # Then she is told, and alice's server gets the Accept with a stamp
            assert await page.get_by_role("status").filter(has_text="may quote").is_visible()
            [accept] = await peer.wait_for(lambda r: r.type == "Accept")
            stamp = await live.client.get(accept.json["result"])
            assert stamp.json()["interactingObject"] == alice_quote

            # When she denies bob's, then bob's server gets a Reject and nothing waits
            await page.get_by_role("button", name="Deny the quote by Bob").click()
            await page.wait_for_url("**/app/bakery/quotes")
            await peer.wait_for(lambda r: r.type == "Reject")
            assert await page.get_by_text("Nobody is waiting.").is_visible()
            assert errors == []
        finally:
            await browser.close()
