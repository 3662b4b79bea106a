"""Polls and custom emoji over real HTTP: a test peer sends a signed poll and a signed note
with custom emoji to a live fedi-town; the worker stores them and fetches the emoji from the
peer once; the owner API shows the poll and the emoji, served by fedi-town from its cache
(the peer gone by then). Both backends."""

from __future__ import annotations

import pytest

from fedi_town.store import emojis
from tests.inbound.helpers import count
from tests.live import wait_until
from tests.media.conftest import image_bytes
from tests.peer import PUBLIC

pytestmark = pytest.mark.anyio


def _create(peer, note):
    body = {k: v for k, v in note.items() if k != "@context"}
    return {
        "@context": note["@context"],
        "id": f"{note['id']}/activity",
        "type": "Create",
        "actor": note["attributedTo"],
        "to": note["to"],
        "cc": note["cc"],
        "object": body,
    }


async def test_a_peers_poll_and_custom_emoji_reach_the_owner_and_the_emoji_is_served_here(
    live, peer
):
    await live.create_business("bakery")
    biz = live.urls.actor("bakery")
    alice = peer.actor("alice").uri
    png = image_bytes("PNG", (32, 32))
    icon = peer.add_file("croissant.png", png, "image/png")
    svg = peer.add_file("evil.png", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/png")
    mention = {"type": "Mention", "href": biz, "name": "@bakery"}
    poll = peer.add_note(
        "alice",
        "<p>@bakery which one? :croissant:</p>",
        type="Question",
        cc=[f"{alice}/followers", biz],
        endTime="2099-01-01T00:00:00Z",
        votersCount=3,
        oneOf=[
            {"type": "Note", "name": "Plain", "replies": {"type": "Collection", "totalItems": 2}},
            {"type": "Note", "name": "Almond", "replies": {"type": "Collection", "totalItems": 1}},
        ],
        tag=[mention, {"type": "Emoji", "name": ":croissant:", "icon": {"url": icon}}],
    )
    note = peer.add_note(
        "alice",
        '<p>@bakery yum :croissant: :evil: <img src="http://127.0.0.1:9/track.gif"></p>',
        to=[PUBLIC],
        cc=[f"{alice}/followers", biz],
        tag=[
            mention,
            {"type": "Emoji", "name": ":croissant:", "icon": {"url": icon}},
            {"type": "Emoji", "name": ":evil:", "icon": {"url": svg, "mediaType": "image/png"}},
        ],
    )
    shared = live.urls.base + "/inbox"
    for activity in (_create(peer, poll), _create(peer, note)):
        assert (await peer.post(shared, activity)).status_code == 202

    async def handled():
        return await count(live.store, "inbox_items", "state <> 'pending'") >= 2

    await wait_until(handled, timeout=20)
    answer = await live.client.get(
        "/api/v1/businesses/bakery/notifications", headers=live.admin_headers()
    )
    assert answer.status_code == 200
    with_emoji, with_poll = (item["note"] for item in answer.json()["items"])
    assert [(o["title"], o["percent"]) for o in with_poll["poll"]["options"]] == [
        ("Plain", 67),
        ("Almond", 33),
    ]
    assert with_poll["poll"]["closed"] is False
    path = f"/proxy/emoji/{emojis.digest_of(icon)}"
    assert f'src="{path}"' in with_poll["content"]
    assert f'src="{path}"' in with_emoji["content"]
    assert ":evil:" in with_emoji["content"]  # not an image: stays text
    assert "track.gif" not in with_emoji["content"]
    # fetched once for the two notes, the SVG once and refused
    assert peer.requests.count(("GET", "/files/croissant.png")) == 1
    assert peer.requests.count(("GET", "/files/evil.png")) == 1
    served = await live.client.get(path)
    assert served.status_code == 200 and served.content == png
    assert served.headers["content-type"] == "image/png"
