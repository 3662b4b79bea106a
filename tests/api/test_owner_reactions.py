"""Emoji reactions (Misskey's Like with content, Pleroma/Akkoma's EmojiReact) as the owner
sees them in the notifications API: the emoji, a custom one's picture served here from the
cache, refused pictures (huge, not an image, on a private address) left as text. Both
backends, the icons served by a real loopback peer."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from fedi_town.inbound.emoji import MAX_EMOJI_BYTES
from fedi_town.remote.http import RemoteClient
from fedi_town.schemas import SCHEMA_DIR
from fedi_town.store import emojis
from tests.api.helpers import setup_bakery
from tests.inbound import samples
from tests.inbound.helpers import add_post, add_remote_actor, handle
from tests.inbound.test_real_world_payloads import (
    AKKOMA,
    PLEROMA,
    SHARKEY,
    pleroma_emoji_react,
    sharkey_reaction,
)
from tests.media.conftest import image_bytes
from tests.peer import TestPeer

pytestmark = pytest.mark.anyio

MISSKEY = "https://misskey.example/users/9x1y2z3a4c"


async def _received(services, *activities, allow_private=True):
    """Handle ``activities`` as the worker would, with a client that may (or may not) reach
    the peer on loopback."""
    client = RemoteClient(allow_private=allow_private, user_agent="fedi-town-tests")
    services.remote, started = client, services.remote
    try:
        for activity in activities:
            await handle(services, activity)
    finally:
        services.remote = started
        await client.close()


def _icon(activity, url):
    activity["tag"][0]["icon"]["url"] = url
    return activity


async def _reactions(client, owner):
    answer = await client.get("/api/v1/businesses/bakery/notifications?types=like", headers=owner)
    assert answer.status_code == 200
    schema = json.loads((SCHEMA_DIR / "notification-page.schema.json").read_text())
    assert list(Draft202012Validator(schema).iter_errors(answer.json())) == []
    return {item["account"]["id"]: item["reaction"] for item in answer.json()["items"]}


async def test_reactions_show_their_emoji_and_only_kept_pictures(app_client):
    # Given a post, and reactions in Sharkey's, Akkoma's and Pleroma's shapes whose icons
    # are a good PNG, an SVG and a huge "PNG"; and a unicode EmojiReact
    services, business, owner = await setup_bakery(app_client)
    _, post_uri = await add_post(services, business)
    for actor in (SHARKEY, AKKOMA, PLEROMA, MISSKEY):
        await add_remote_actor(services.store, actor)
    png = image_bytes("PNG", (24, 24))
    async with TestPeer.running() as peer:
        good = peer.add_file("blobcat.png", png, "image/png")
        svg = peer.add_file("evil.svg", b"<svg onload=alert(1)/>", "image/png")
        huge = peer.add_file("huge.png", b"\x89PNG" + b"\0" * (MAX_EMOJI_BYTES + 1), "image/png")
        unicode = pleroma_emoji_react(PLEROMA, post_uri, samples.BIZ)
        unicode.update(content="🍞", tag=[])
        await _received(
            services,
            _icon(sharkey_reaction(SHARKEY, post_uri), good),
            _icon(pleroma_emoji_react(AKKOMA, post_uri, samples.BIZ), svg),
            _icon(sharkey_reaction(MISSKEY, post_uri) | {"id": f"{MISSKEY}#like"}, huge),
            unicode,
        )
    # When the owner reads her likes
    reactions = await _reactions(app_client, owner)
    # Then each shows its emoji; only the kept picture is served from here
    path = f"/proxy/emoji/{emojis.digest_of(good)}"
    assert reactions[SHARKEY] == {"content": ":blobcat:", "url": path}
    assert reactions[AKKOMA] == {"content": ":blobcat:", "url": None}
    assert reactions[MISSKEY] == {"content": ":blobcat:", "url": None}
    assert reactions[PLEROMA] == {"content": "🍞", "url": None}
    served = await app_client.get(path)
    assert served.status_code == 200 and served.content == png
    refused = await emojis.known(services.store, {emojis.digest_of(svg), emojis.digest_of(huge)})
    assert {r.state for r in refused.values()} == {"refused"}


async def test_a_reaction_icon_on_a_private_address_is_never_fetched(app_client):
    services, business, owner = await setup_bakery(app_client)
    _, post_uri = await add_post(services, business)
    await add_remote_actor(services.store, SHARKEY)
    async with TestPeer.running() as peer:
        icon = peer.add_file("blobcat.png", image_bytes("PNG", (24, 24)), "image/png")
        await _received(
            services, _icon(sharkey_reaction(SHARKEY, post_uri), icon), allow_private=False
        )
        assert all("/files/" not in path for _, path in peer.requests)
    assert (await _reactions(app_client, owner))[SHARKEY] == {"content": ":blobcat:", "url": None}
    [refused] = (await emojis.known(services.store, {emojis.digest_of(icon)})).values()
    assert refused.reason == "private address"


async def test_a_plain_like_has_no_reaction(app_client):
    services, business, owner = await setup_bakery(app_client)
    _, post_uri = await add_post(services, business)
    await add_remote_actor(services.store, SHARKEY)
    like = sharkey_reaction(SHARKEY, post_uri)
    for key in ("content", "_misskey_reaction", "tag"):
        like.pop(key)
    await _received(services, like)
    assert (await _reactions(app_client, owner))[SHARKEY] is None
