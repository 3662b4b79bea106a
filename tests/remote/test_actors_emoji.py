"""remote.actors: the custom emoji of an actor's name, read from the shapes Mastodon,
Misskey, Pleroma and GoToSocial serve, kept with the stored actor (both backends)."""

from __future__ import annotations

import pytest

from fedi_town.protocol.note_parts import EmojiTag
from fedi_town.remote.actors import parse_actor
from fedi_town.store import actors as store_actors
from tests.remote import emoji_actors

pytestmark = pytest.mark.anyio

ICON = "https://cdn.example/emoji/e.png"


@pytest.mark.parametrize(
    ("make", "code", "uri"),
    [(m, c, u) for _, m, c, u in emoji_actors.SHAPES],
    ids=[s[0] for s in emoji_actors.SHAPES],
)
def test_the_emoji_of_an_actors_name_are_read_in_every_servers_shape(make, code, uri):
    # Given an actor document as that server serves it
    # When it is parsed
    profile = parse_actor(make(uri, ICON))
    # Then the emoji its name shows are kept, and no other (the bio's, an unused one)
    assert profile.emojis == (EmojiTag(code, ICON),)


@pytest.mark.parametrize(
    "icon",
    [
        {"type": "Image", "mediaType": "image/svg+xml", "url": ICON},
        {"type": "Image", "mediaType": "image/png", "url": "javascript:alert(1)"},
        {"type": "Image", "mediaType": "image/png", "url": "data:image/png;base64,AAAA"},
        {"type": "Image", "mediaType": "text/html", "url": ICON},
        "not an icon",
    ],
    ids=["svg", "javascript", "data", "html", "string"],
)
def test_an_emoji_with_an_unusable_icon_is_not_kept(icon):
    # Given a name's emoji whose icon is no raster image at an http(s) URL
    document = emoji_actors.mastodon("https://mastodon.example/users/alice", ICON)
    document["tag"][0]["icon"] = icon
    # When parsed, Then it stays text
    assert parse_actor(document).emojis == ()


def test_a_hostile_name_and_many_tags_are_capped():
    # Given a name naming 80 emoji, each tagged, and a shortcode with markup
    document = emoji_actors.mastodon("https://mastodon.example/users/alice", ICON)
    document["name"] = "".join(f":e{i}:" for i in range(80)) + ':<b onclick="x">:'
    document["tag"] = [
        {"type": "Emoji", "name": f":e{i}:", "icon": {"url": f"{ICON}?{i}"}} for i in range(80)
    ] + [{"type": "Emoji", "name": ':<b onclick="x">:', "icon": {"url": ICON}}]
    # When parsed, Then at most 50 are kept and the one with markup is not
    emojis = parse_actor(document).emojis
    assert len(emojis) == 50
    assert all(e.shortcode.startswith("e") for e in emojis)


async def test_the_emoji_are_stored_with_the_actor_and_replaced_on_refresh(store):
    uri = "https://mastodon.example/users/alice"
    # Given an actor stored with an emoji in its name
    actor = await store_actors.upsert(store, parse_actor(emoji_actors.mastodon(uri, ICON)), now=1)
    assert actor.emojis == [{"shortcode": "blobcat", "url": ICON}]
    assert actor.uncached_emojis() == [EmojiTag("blobcat", ICON)]
    assert actor.name_emojis() == {}  # nothing cached yet: stays text
    # When the cache answers for its icon
    await store_actors.set_emoji_paths(store, uri, {ICON: "/proxy/emoji/" + "a" * 64})
    actor = await store_actors.by_uri(store, uri)
    assert actor is not None and actor.name_emojis() == {"blobcat": "/proxy/emoji/" + "a" * 64}
    assert actor.uncached_emojis() == []
    # When the actor is refreshed without the emoji
    plain = parse_actor(emoji_actors.mastodon(uri, ICON, name="Alice"))
    actor = await store_actors.upsert(store, plain, now=2)
    # Then its name has none
    assert actor.emojis == [] and actor.name_emojis() == {}
