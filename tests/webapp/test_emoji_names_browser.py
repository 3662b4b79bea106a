"""Custom emoji in a neighbour's name, in a real browser (Debian's chromium): the owner's
Inbox and Relationships show alice's ``:blobcat:`` as the picture served by this site (alt
text ``:blobcat:``), her name's markup as text, and an emoji the cache refused as text."""

from __future__ import annotations

import pytest
from playwright.async_api import async_playwright

from fedi_town.inbound.emoji import cache_actor_emojis
from fedi_town.remote.actors import parse_actor
from fedi_town.store import actors as store_actors
from fedi_town.store import businesses
from tests.inbound.helpers import add_post, add_remote_actor, handle
from tests.media.conftest import image_bytes
from tests.remote import emoji_actors
from tests.webapp.browser import CHROMIUM, HAVE_CHROMIUM, MISSING, join, owner_invite, watch

pytestmark = pytest.mark.anyio

NAME = "Alice :blobcat: <b>bold</b> :gone:"


async def test_the_owner_sees_a_neighbours_name_emoji_as_a_picture_served_here(live, peer):
    assert HAVE_CHROMIUM, MISSING
    # Given alice, whose name shows :blobcat: (a PNG) and :gone: (not an image), replied
    await live.create_business("bakery", display_name="Corner Bakery")
    business = await businesses.by_username(live.store, "bakery")
    assert business is not None
    _, post_uri = await add_post(live.services, business, "Rye loaves are back on Saturdays")
    alice = peer.actor("alice").uri
    await add_remote_actor(live.store, alice)
    icon = peer.add_file("blobcat.png", image_bytes("PNG", (32, 32)), "image/png")
    bad = peer.add_file("gone.png", b"<p>not an image</p>", "text/html")
    document = emoji_actors.mastodon(alice, icon, name=NAME)
    document["tag"].append(
        {"type": "Emoji", "name": ":gone:", "icon": {"mediaType": "image/png", "url": bad}}
    )
    await store_actors.upsert(live.store, parse_actor(document), now=1, replace_keys=False)
    await handle(live.services, peer.reply(post_uri, live.urls.actor("bakery"), "<p>Rye!</p>"))
    await cache_actor_emojis(live.services, alice)
    link = await owner_invite(live)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            page = await (await browser.new_context()).new_page()
            problems = watch(page)
            await join(page, link)
            await page.wait_for_url("**/app/bakery")
            for where in ("/app/bakery/inbox", "/app/bakery/relationships"):
                # When she opens the page
                await page.goto(live.base_url + where)
                # Then alice's name shows the picture, loaded from this site, :code: as alt
                picture = page.get_by_role("img", name=":blobcat:").first
                await picture.wait_for()
                src = await picture.evaluate("i => i.src")
                assert src.startswith(live.base_url + "/proxy/emoji/")
                assert await picture.evaluate("i => i.complete && i.naturalWidth") == 32
                # and the rest of the name as text: the markup shown, the refused emoji too
                assert await page.get_by_text("<b>bold</b> :gone:").first.is_visible()
                assert await page.locator("b", has_text="bold").count() == 0
                sources = await page.eval_on_selector_all("img", "all => all.map(i => i.src)")
                assert all(s.startswith(live.base_url + "/") for s in sources)
            assert problems == []
        finally:
            await browser.close()
