"""Fedify sends a poll (Create{Question}, as its vocabulary serialises one) with a custom
emoji to a business: the owner sees the options, counts and shares, and the emoji as an
image fedi-town fetched once (from a loopback file server) and serves from its cache."""

from __future__ import annotations

from typing import Any

import pytest

from fedi_town.store import emojis
from tests.interop.harness import FedifyClient
from tests.interop.owner import Owner
from tests.live import wait_until
from tests.media.conftest import image_bytes
from tests.peer import TestPeer

pytestmark = pytest.mark.anyio


async def test_a_fedify_poll_with_a_custom_emoji_reaches_the_owner(
    live: Any, fedify: FedifyClient
) -> None:
    owner = await Owner.create(live, "corner_bakery")
    png = image_bytes("PNG", (32, 32))
    async with TestPeer.running() as files:
        icon = files.add_file("pretzel.png", png, "image/png")
        sent = await fedify.poll(
            owner.actor,
            "<p>Which for Sunday? :pretzel:</p>",
            [("Pretzel", 3), ("Bagel", 1)],
            end_time="2099-01-01T00:00:00Z",
            voters=4,
            emoji=[{"name": ":pretzel:", "url": icon, "mediaType": "image/png"}],
        )
        assert sent["ok"], sent
        [mention] = await owner.wait_for_notification("mention")
        path = f"/proxy/emoji/{emojis.digest_of(icon)}"

        async def emoji_shown() -> bool:
            [item] = await owner.notifications("mention")
            return f'src="{path}"' in item["note"]["content"]

        await wait_until(emoji_shown, timeout=10)
        assert files.requests.count(("GET", "/files/pretzel.png")) == 1
    poll = mention["note"]["poll"]
    assert [(o["title"], o["votes_count"], o["percent"]) for o in poll["options"]] == [
        ("Pretzel", 3, 75),
        ("Bagel", 1, 25),
    ]
    assert poll["voters_count"] == 4 and poll["closed"] is False
    assert poll["expires_at"] == "2099-01-01T00:00:00Z"
    served = await live.client.get(path)
    assert served.status_code == 200 and served.content == png
