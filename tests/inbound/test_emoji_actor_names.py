"""inbound.emoji.cache_actor_emojis: the custom emoji of a sender's name fetched once by the
inbox worker from a real loopback server, noted on the actor and shown in its name (owner
API, Mastodon API), or refused (huge, not an image, a private address) and left as text."""

from __future__ import annotations

from typing import Any

import pytest

from fedi_town.api.views import account
from fedi_town.mastodon.entities import remote_account
from fedi_town.remote.http import RemoteClient
from fedi_town.store import actors as store_actors
from fedi_town.store import emojis
from tests.inbound.helpers import dispatch
from tests.media.conftest import image_bytes
from tests.peer import TestPeer
from tests.remote import emoji_actors

pytestmark = pytest.mark.anyio


def _update(document: dict[str, Any]) -> dict[str, Any]:
    """The actor's own Update of its profile, as Mastodon sends it."""
    uri = document["id"]
    return {
        "@context": document["@context"],
        "id": f"{uri}#updates/1",
        "type": "Update",
        "actor": uri,
        "object": document,
    }


@pytest.mark.parametrize(
    ("make", "code", "uri"),
    [(m, c, u) for _, m, c, u in emoji_actors.SHAPES],
    ids=[s[0] for s in emoji_actors.SHAPES],
)
async def test_a_senders_name_emoji_is_fetched_once_and_shown_as_the_cached_picture(
    services, make, code, uri
):
    async with TestPeer.running() as peer:
        icon = peer.add_file("e.png", image_bytes("PNG", (32, 32)), "image/png")
        # Given an actor of that server whose name shows a custom emoji
        update = _update(make(uri, icon))
        # When its Update goes through the inbox worker (twice)
        await dispatch(services, update)
        await dispatch(services, update | {"id": f"{uri}#updates/2"})
        # Then the icon was fetched once, and the name shows the picture served here
        assert peer.requests.count(("GET", "/files/e.png")) == 1
    actor = await store_actors.by_uri(services.store, uri)
    assert actor is not None
    path = f"/proxy/emoji/{emojis.digest_of(icon)}"
    assert actor.name_emojis() == {code: path}
    shown = account(actor)
    assert f'src="{path}" alt=":{code}:"' in shown["display_name_html"]
    assert shown["emojis"] == [{"shortcode": code, "url": path}]
    masto = remote_account(services, actor)
    assert masto["emojis"] == [
        {
            "shortcode": code,
            "url": services.urls.base + path,
            "static_url": services.urls.base + path,
            "visible_in_picker": False,
        }
    ]
    assert masto["display_name"] == actor.display_name  # Mastodon's clients swap :code:


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (b"\x89PNG" + b"\0" * (300 * 1024), "image/png"),
        (b"<!doctype html><p>hello</p>", "text/html"),
    ],
    ids=["huge", "not-an-image"],
)
async def test_a_refused_name_emoji_stays_text_and_is_not_asked_again(services, data, media_type):
    uri = "https://mastodon.example/users/alice"
    async with TestPeer.running() as peer:
        icon = peer.add_file("bad.png", data, media_type)
        update = _update(emoji_actors.mastodon(uri, icon))
        # When the sender's Update is handled twice
        await dispatch(services, update)
        await dispatch(services, update | {"id": f"{uri}#updates/2"})
        assert peer.requests.count(("GET", "/files/bad.png")) == 1
    # Then the refusal is noted and the name stays text
    actor = await store_actors.by_uri(services.store, uri)
    assert actor is not None and actor.emoji_paths == {icon: ""}
    assert actor.uncached_emojis() == []
    assert account(actor)["display_name_html"] == "Alice :blobcat:"
    assert account(actor)["emojis"] == []
    assert remote_account(services, actor)["emojis"] == []


async def test_a_name_emoji_on_a_private_address_is_never_fetched(services):
    uri = "https://mastodon.example/users/alice"
    async with TestPeer.running() as peer:
        icon = peer.add_file("e.png", image_bytes("PNG", (16, 16)), "image/png")
        guarded = RemoteClient(allow_private=False, user_agent="fedi-town-tests")
        services.remote, loopback_client = guarded, services.remote
        try:
            # When the Update of an actor whose emoji icon is on a loopback address is handled
            await dispatch(services, _update(emoji_actors.mastodon(uri, icon)))
        finally:
            services.remote = loopback_client
            await guarded.close()
        # Then no connection reached that address, and the name stays text
        assert peer.requests == []
    actor = await store_actors.by_uri(services.store, uri)
    assert actor is not None and actor.emoji_paths == {icon: ""}
    assert account(actor)["display_name_html"] == "Alice :blobcat:"


async def test_a_name_with_html_is_escaped_around_the_picture(services):
    uri = "https://mastodon.example/users/alice"
    async with TestPeer.running() as peer:
        icon = peer.add_file("e.png", image_bytes("PNG", (16, 16)), "image/png")
        name = '<img src=x onerror=alert(1)>:blobcat:<script>x</script> "&'
        await dispatch(services, _update(emoji_actors.mastodon(uri, icon, name=name)))
    actor = await store_actors.by_uri(services.store, uri)
    assert actor is not None
    html = account(actor)["display_name_html"]
    # Then the name's markup is text; the only element is our picture
    assert html.startswith('&lt;img src=x onerror=alert(1)&gt;<img class="emoji" src="/proxy/')
    assert "&lt;script&gt;x&lt;/script&gt; &quot;&amp;" in html
    assert html.count("<") == 1
