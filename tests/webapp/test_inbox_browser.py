"""The inbox and followers pages in a real browser (Debian's chromium) on a phone and a
desktop: an owner answers a reply inline and approves a follow request, with screenshots
(docs/screenshots/app-inbox-390.png, app-inbox-1280.png, app-followers-390.png via
``make screenshots``)."""

from __future__ import annotations

import pytest
from playwright.async_api import async_playwright

from fedi_town.store import businesses
from tests.api.helpers import followers_from
from tests.inbound import payloads as p
from tests.inbound.helpers import add_post, add_remote_actor, handle
from tests.webapp.browser import CHROMIUM, HAVE_CHROMIUM, join
from tests.webapp.screens import DESKTOP, PHONE, shoot

pytestmark = pytest.mark.anyio


async def seed(live, peer) -> str:
    """What came in after approval was turned on: a reply from alice (on the peer), another
    reply, a like and two follow requests. Returns alice's note id."""
    services = live.services
    business = await businesses.by_username(services.store, "bakery")
    assert business is not None
    _, post_uri = await add_post(services, business, "Rye loaves are back on Saturdays")
    bakery = services.urls.actor("bakery")
    for uri in ("https://mastodon.example/users/maria", "https://gts.example/users/tom"):
        await add_remote_actor(services.store, uri)
    await handle(services, p.mastodon_like("https://gts.example/users/tom", post_uri))
    maria = "https://mastodon.example/users/maria"
    mention = p.mastodon_create_reply(maria, bakery, post_uri, handle="@bakery@town.example")
    await handle(services, mention)
    alice = peer.actor("alice").uri
    await add_remote_actor(services.store, alice)
    create = peer.reply(
        post_uri, bakery, "<p>Lovely! Could you keep two rye loaves for me until 5 pm?</p>"
    )
    await handle(services, create)
    await followers_from(
        services, business, "https://mastodon.example/users/bob", "https://pixel.example/users/sam"
    )
    note_id: str = create["object"]["id"]
    return note_id


async def test_an_owner_answers_a_reply_and_approves_a_follower_on_a_phone(live, peer, tmp_path):
    assert HAVE_CHROMIUM, "chromium is missing: `make browser` installs it"
    # Given a bakery with two followers, whose owner signs in on her phone
    await live.create_business("bakery", display_name="Corner Bakery")
    business = await businesses.by_username(live.store, "bakery")
    assert business is not None
    await followers_from(
        live.services, business, "https://social.example/users/jo", "https://m.example/users/lee"
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
            context = await browser.new_context(viewport=PHONE)
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            await join(page, link, "Anna", "anna")
            await page.wait_for_url("**/app/bakery")
            # And turns approval on; then people write, like and ask to follow
            await page.goto(live.base_url + "/app/bakery/followers")
            await page.get_by_role("button", name="Ask me before someone follows").click()
            await page.wait_for_url("**/app/bakery/followers")
            note_id = await seed(live, peer)

            # When she opens the inbox on her phone and answers Alice right under her reply
            await page.goto(live.base_url + "/app/bakery/inbox")
            assert await page.get_by_text("Could you keep two rye loaves").is_visible()
            await shoot(page, "inbox", tmp_path)
            await page.get_by_label("Your answer to Alice").fill("Of course, see you at 5!")
            await page.get_by_role("button", name="Answer Alice").click()
            await page.wait_for_url("**/app/bakery/inbox?show=replies")

            # Then she is told, and the answer reaches Alice's server as a reply to her note
            assert (
                await page.get_by_role("status")
                .filter(has_text="Your answer to Alice is posted")
                .is_visible()
            )
            [got] = await peer.wait_for(lambda r: r.type == "Create")
            assert got.json["object"]["inReplyTo"] == note_id

            # When she approves Bob on the followers page
            await page.goto(live.base_url + "/app/bakery/followers")
            await shoot(page, "followers", tmp_path)
            await page.get_by_role("button", name="Approve Bob").click()
            await page.wait_for_url("**/app/bakery/followers")

            # Then Bob follows, and Sam still waits
            assert await page.get_by_text("Bob now follows you").is_visible()
            assert await page.get_by_role("button", name="Remove Bob").is_visible()
            assert await page.get_by_role("button", name="Approve Sam").is_visible()

            # And the inbox reads well on a desktop too
            await page.set_viewport_size(DESKTOP)
            await page.goto(live.base_url + "/app/bakery/inbox")
            await shoot(page, "inbox", tmp_path)
            assert errors == []
        finally:
            await browser.close()
