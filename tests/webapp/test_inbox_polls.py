"""The inbox page shows a received poll (options, shares, votes, when it closes), the
note's custom emoji as small images served by this site, and attachments as described
links; no image from the sender's HTML or server reaches the page. Both backends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from html.parser import HTMLParser

import httpx
import pytest

from fedi_town.services import Services
from fedi_town.store import emojis
from tests.conftest import _app_client, make_settings
from tests.inbound import payloads as p
from tests.inbound.helpers import add_remote_actor, handle
from tests.media.conftest import image_bytes
from tests.peer import TestPeer
from tests.webapp.kit import owner_of

pytestmark = pytest.mark.anyio

ALICE = "https://mastodon.example/users/alice"
MISSKEY = "https://misskey.example/users/9lk2a1b2c3"


class Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append(dict(attrs))


@pytest.fixture
async def open_client(database_url, tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(database_url, tmp_path, allow_private_addresses=True)
    async with _app_client(Services.from_settings(settings)) as client:
        yield client


async def test_a_poll_its_emoji_and_attachments_are_shown_to_the_owner(open_client):
    user = await owner_of(open_client, "bakery")
    services = open_client.services
    biz = services.urls.actor("bakery")
    await add_remote_actor(services.store, ALICE)
    await add_remote_actor(services.store, MISSKEY)
    async with TestPeer.running() as peer:
        icon = peer.add_file("baguette.png", image_bytes("PNG", (24, 24)), "image/png")
        await handle(services, p.mastodon_question(ALICE, biz, handle=HANDLE, emoji_url=icon))
        await handle(services, p.misskey_question(MISSKEY, biz, handle=HANDLE, emoji_url=icon))
    page = await user.get("/app/bakery/inbox")
    assert page.status_code == 200
    html = page.text
    # the poll: options, shares and votes, several choices said, whether it is open
    assert "Sourdough" in html and "57% (4)" in html and "14% (1)" in html
    assert "7 people" in html and "closed" in html  # the real clock: past its end
    assert "several choices allowed" in html and "Sunday" in html and "62% (5)" in html
    # the attachment: a described link to where it is
    assert "bread.jpg" in html and "Three loaves on a board" in html
    # every image on the page is an emoji served here, with its shortcode as alt text
    found = Images()
    found.feed(html)
    path = f"/proxy/emoji/{emojis.digest_of(icon)}"
    assert found.images
    assert {i["src"] for i in found.images} == {path}
    assert {i["alt"] for i in found.images} == {":baguette:", ":blobcat_bread:"}
    assert "tracker.example" not in html


HANDLE = "@bakery@town.example"
