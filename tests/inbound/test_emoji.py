"""inbound.emoji: a note's custom emoji fetched once from a real loopback server through the
guarded client, kept in the media store, or refused (huge, not an image, SVG, unreachable,
a private address) and then never fetched again."""

from __future__ import annotations

import pytest

from fedi_town.inbound.emoji import MAX_EMOJI_BYTES, cache_emojis
from fedi_town.protocol.note_parts import EmojiTag
from fedi_town.remote.http import RemoteClient
from fedi_town.store import emojis
from tests.media.conftest import image_bytes
from tests.peer import TestPeer

pytestmark = pytest.mark.anyio

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>'


async def _state(services, url):
    return await emojis.by_digest(services.store, emojis.digest_of(url))


async def test_an_emoji_is_fetched_once_kept_in_the_media_store_and_reused(services):
    async with TestPeer.running() as peer:
        png = image_bytes("PNG", (32, 32))
        url = peer.add_file("blob.png", png, "image/png")
        assert await cache_emojis(services, [EmojiTag("blob", url)]) == 1
        kept = await _state(services, url)
        assert kept is not None and kept.state == "ok" and kept.media_type == "image/png"
        assert await services.media.get(kept.media_key) == png
        # a second note naming it fetches nothing
        assert await cache_emojis(services, [EmojiTag("blob", url)]) == 0
        assert peer.requests.count(("GET", "/files/blob.png")) == 1


@pytest.mark.parametrize(
    ("name", "data", "media_type", "reason"),
    [
        ("huge.png", b"\x89PNG" + b"\0" * (MAX_EMOJI_BYTES + 1), "image/png", "too big"),
        ("big.png", image_bytes("PNG", (600, 600)), "image/png", "not kept (TooManyPixels)"),
        ("page.png", b"<!doctype html><p>hello</p>", "text/html", "not kept (NotAnImage)"),
        ("vector.png", SVG, "image/svg+xml", "not kept (NotAnImage)"),
        ("missing.png", None, None, "unreachable (RemoteNotFound)"),
    ],
)
async def test_an_emoji_that_is_huge_not_an_image_or_missing_is_refused_and_not_kept(
    services, name, data, media_type, reason
):
    async with TestPeer.running() as peer:
        url = peer.add_file(name, data, media_type) if data else f"{peer.base}/files/{name}"
        assert await cache_emojis(services, [EmojiTag("x", url)]) == 0
        refused = await _state(services, url)
        assert refused is not None and refused.state == "refused" and refused.reason == reason
        assert refused.media_key is None
        # refused once, never asked again
        await cache_emojis(services, [EmojiTag("x", url)])
        assert peer.requests.count(("GET", f"/files/{name}")) == 1


async def test_an_emoji_on_a_private_address_is_refused_by_the_guard_before_any_connection(
    services,
):
    async with TestPeer.running() as peer:
        url = peer.add_file("blob.png", image_bytes("PNG", (16, 16)), "image/png")
        guarded = RemoteClient(allow_private=False, user_agent="fedi-town-tests")
        services.remote, loopback_client = guarded, services.remote
        try:
            assert await cache_emojis(services, [EmojiTag("blob", url)]) == 0
        finally:
            services.remote = loopback_client
            await guarded.close()
        refused = await _state(services, url)
        assert refused is not None and refused.reason == "private address"
        assert peer.requests == []  # no connection reached the server


async def test_without_a_remote_client_nothing_is_fetched(services):
    services.remote, client = None, services.remote
    try:
        assert await cache_emojis(services, [EmojiTag("x", "https://cdn.example/x.png")]) == 0
    finally:
        services.remote = client
    assert await _state(services, "https://cdn.example/x.png") is None


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1:1/e.png",
        "https://10.0.0.7/e.png",
        "https://[::1]/e.png",
        "https://localhost/e.png",
        "https://169.254.169.254/latest/meta-data.png",
    ],
)
async def test_an_https_emoji_at_a_private_or_loopback_address_is_never_fetched(services, url):
    guarded = RemoteClient(allow_private=False, user_agent="fedi-town-tests")
    services.remote, loopback_client = guarded, services.remote
    try:
        assert await cache_emojis(services, [EmojiTag("x", url)]) == 0
    finally:
        services.remote = loopback_client
        await guarded.close()
    refused = await _state(services, url)
    assert refused is not None and refused.reason == "private address"


async def test_an_emoji_whose_server_does_not_answer_is_not_remembered_so_is_tried_again(
    services,
):
    async with TestPeer.running() as peer:
        url = peer.add_file("later.png", image_bytes("PNG", (16, 16)), "image/png")
    # the peer is gone: no answer at all, nothing remembered
    assert await cache_emojis(services, [EmojiTag("later", url)]) == 0
    assert await _state(services, url) is None
