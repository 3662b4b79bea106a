"""The notifications API shows a received poll (options, votes, shares, when it closes), the
note's custom emoji as images served by this instance from its cache, and its attachments
as links; the emoji path serves the cached bytes. Both backends."""

from __future__ import annotations

import json
import re

import pytest
from jsonschema import Draft202012Validator

from fedi_town.remote.http import RemoteClient
from fedi_town.schemas import SCHEMA_DIR
from fedi_town.store import emojis
from tests.api.helpers import setup_bakery
from tests.inbound import payloads as p
from tests.inbound.helpers import add_remote_actor, handle
from tests.media.conftest import image_bytes
from tests.peer import TestPeer

pytestmark = pytest.mark.anyio

ALICE = "https://mastodon.example/users/alice"
ZORK = "https://gts.example/users/zork"
HANDLE = "@bakery@town.example"


async def _received(services, *activities):
    """Handle ``activities`` as the worker would, with a client that may reach the peer."""
    loopback = RemoteClient(allow_private=True, user_agent="fedi-town-tests")
    services.remote, started = loopback, services.remote
    try:
        for activity in activities:
            await handle(services, activity)
    finally:
        services.remote = started
        await loopback.close()


async def test_a_poll_is_shown_with_counts_shares_and_closing_and_its_emoji_as_our_image(
    clocked_client,
):
    services, _, owner = await setup_bakery(clocked_client)
    biz = services.urls.actor("bakery")
    await add_remote_actor(services.store, ALICE)
    await add_remote_actor(services.store, ZORK)
    png = image_bytes("PNG", (24, 24))
    async with TestPeer.running() as peer:
        icon = peer.add_file("baguette.png", png, "image/png")
        closed_icon = peer.add_file("rainbow.svg", b"<svg/>", "image/svg+xml")
        await _received(
            services,
            p.mastodon_question(ALICE, biz, handle=HANDLE, emoji_url=icon),
            p.gotosocial_question(ZORK, biz, handle=HANDLE, emoji_url=closed_icon),
        )
    answer = await clocked_client.get("/api/v1/businesses/bakery/notifications", headers=owner)
    assert answer.status_code == 200
    schema = json.loads((SCHEMA_DIR / "notification-page.schema.json").read_text())
    assert list(Draft202012Validator(schema).iter_errors(answer.json())) == []
    closed, open_ = (item["note"] for item in answer.json()["items"])
    # Then the open poll: votes and whole percents of 7 votes, closing tomorrow
    assert open_["poll"] == {
        "options": [
            {"title": "Sourdough", "votes_count": 4, "percent": 57},
            {"title": "Rye", "votes_count": 2, "percent": 29},
            {"title": "Brioche", "votes_count": 1, "percent": 14},
        ],
        "multiple": False,
        "votes_count": 7,
        "voters_count": 7,
        "expires_at": "2026-11-24T11:00:00Z",
        "closed": False,
    }
    assert closed["poll"]["closed"] is True
    assert [o["percent"] for o in closed["poll"]["options"]] == [25, 75]
    # and the emoji is an image served here, the tracker's image gone
    path = f"/proxy/emoji/{emojis.digest_of(icon)}"
    assert open_["emojis"] == [{"shortcode": "baguette", "url": path}]
    assert f'<img class="emoji" src="{path}" alt=":baguette:"' in open_["content"]
    assert len(re.findall("<img", open_["content"])) == 1
    assert "tracker.example" not in open_["content"]
    # an emoji refused (SVG) stays text
    assert closed["emojis"] == [] and ":rainbow:" in closed["content"]
    assert open_["attachments"][0]["description"] == "Three loaves on a board"
    # the image itself comes from this instance's cache, the peer long gone
    served = await clocked_client.get(path)
    assert served.status_code == 200
    assert served.content == png
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    refused = await clocked_client.get(f"/proxy/emoji/{emojis.digest_of(closed_icon)}")
    assert refused.status_code == 404


async def test_a_multiple_choice_poll_shares_are_of_the_voters_when_known(clocked_client):
    services, _, owner = await setup_bakery(clocked_client)
    biz = services.urls.actor("bakery")
    await add_remote_actor(services.store, ALICE)
    create = p.mastodon_question(ALICE, biz, handle=HANDLE, emoji_url="https://x.invalid/e")
    note = create["object"]
    note["anyOf"], note["votersCount"] = note.pop("oneOf"), 5
    note["tag"] = note["tag"][:1]
    await _received(services, create)
    answer = await clocked_client.get("/api/v1/businesses/bakery/notifications", headers=owner)
    poll = answer.json()["items"][0]["note"]["poll"]
    assert poll["multiple"] is True
    assert [o["percent"] for o in poll["options"]] == [80, 40, 20]


@pytest.mark.parametrize("digest", ["0" * 64, "zz", "A" * 64, "0" * 65])
async def test_an_emoji_path_not_in_the_cache_is_404(clocked_client, digest):
    assert (await clocked_client.get(f"/proxy/emoji/{digest}")).status_code == 404
