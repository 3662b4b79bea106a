"""protocol.note_parts: polls and custom emoji as Mastodon, Misskey,
Pleroma/Akkoma and GoToSocial send them (tests/inbound/payloads.py), and what is refused."""

from __future__ import annotations

import pytest

from fedi_town.protocol.note_parts import (
    MAX_EMOJIS,
    EmojiTag,
    Poll,
    PollOption,
    Reaction,
    read_emojis,
    read_poll,
    read_reaction,
)
from fedi_town.protocol.reading import parse_time_ms
from tests.inbound import payloads as p

A = "https://mastodon.example/users/alice"
BIZ = "https://town.example/users/bakery"
ICON = "https://cdn.example/emoji/x.png"


def _note(make) -> dict:
    return make(A, BIZ, handle="@bakery@town.example", emoji_url=ICON)["object"]


@pytest.mark.parametrize(
    ("make", "options", "multiple", "ends", "voters"),
    [
        (p.mastodon_question, [("Sourdough", 4), ("Rye", 2), ("Brioche", 1)], False,
         "2026-11-24T11:00:00Z", 7),
        (p.misskey_question, [("Saturday", 3), ("Sunday", 5)], True,
         "2026-11-30T11:01:00.000Z", None),
        (p.pleroma_question, [("Coffee", 2), ("Tea", 0)], False, "2026-11-23T23:02:00Z", 2),
        (p.gotosocial_question, [("Cheesecake", 1), ("Lemon tart", 3)], False,
         "2026-11-21T10:00:00Z", 4),
    ],
)  # fmt: skip
def test_each_servers_poll_is_read_with_its_options_counts_end_and_voters(
    make, options, multiple, ends, voters
):
    poll = read_poll(_note(make))
    assert poll is not None
    assert [(o.title, o.votes) for o in poll.options] == options
    assert poll.multiple is multiple
    assert poll.ends_at == parse_time_ms(ends)
    assert poll.voters == voters
    assert poll.closed is False
    assert Poll.from_json(poll.as_json()) == poll


def test_a_bare_closed_true_closes_the_poll():
    note = _note(p.mastodon_question)
    note["closed"] = True
    poll = read_poll(note)
    assert poll is not None and poll.closed is True
    assert poll.ends_at == parse_time_ms("2026-11-24T11:00:00Z")


def test_a_note_or_a_question_without_usable_options_has_no_poll():
    assert read_poll(p.mastodon_note(A, BIZ, "https://town.example/p/1", handle="@b")) is None
    note = _note(p.mastodon_question)
    note["oneOf"] = [{"type": "Note"}, "not an option", {"name": 5}]
    assert read_poll(note) is None


def test_hostile_counts_and_titles_are_tamed():
    note = _note(p.mastodon_question)
    note["oneOf"] = [
        {"name": "A\u202e\x00" + "x" * 500, "replies": {"totalItems": -3}},
        {"name": "B", "replies": {"totalItems": True}},
        {"name": "C", "replies": {"totalItems": "9"}},
    ] + [{"name": f"o{i}", "replies": {"totalItems": 1}} for i in range(40)]
    note["votersCount"] = "lots"
    poll = read_poll(note)
    assert poll is not None
    assert len(poll.options) == 20
    assert [o.votes for o in poll.options[:3]] == [0, 0, 0]
    assert len(poll.options[0].title) == 200 and "\x00" not in poll.options[0].title
    assert poll.voters == 0


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (p.mastodon_question, "baguette"),
        (p.misskey_question, "blobcat_bread"),
        (p.pleroma_question, "akko_coffee"),  # no mediaType: the bytes decide later
        (p.gotosocial_question, "rainbow"),
    ],
)
def test_each_servers_custom_emoji_is_read(make, code):
    assert read_emojis(_note(make)) == [EmojiTag(code, ICON)]


@pytest.mark.parametrize(
    "tag",
    [
        {"type": "Emoji", "name": ":svg:", "icon": {"url": ICON, "mediaType": "image/svg+xml"}},
        {"type": "Emoji", "name": ":page:", "icon": {"url": ICON, "mediaType": "text/html"}},
        {"type": "Emoji", "name": ":b a d:", "icon": {"url": ICON}},
        {"type": "Emoji", "name": ":<img>:", "icon": {"url": ICON}},
        {"type": "Emoji", "name": ":js:", "icon": {"url": "javascript:alert(1)"}},
        {"type": "Emoji", "name": ":data:", "icon": {"url": "data:image/png;base64,AAAA"}},
        {"type": "Emoji", "name": ":noicon:"},
        {"type": "Hashtag", "name": ":tag:", "icon": {"url": ICON}},
    ],
)
def test_an_emoji_that_is_svg_html_badly_named_or_not_http_is_not_kept(tag):
    assert read_emojis({"type": "Note", "tag": [tag]}) == []


def test_emoji_are_capped_per_note_and_kept_once_per_shortcode():
    tags = [
        {"type": "Emoji", "name": f":e{i}:", "icon": {"url": f"https://cdn.example/{i}.png"}}
        for i in range(MAX_EMOJIS + 30)
    ]
    tags.insert(1, {"type": "Emoji", "name": ":e0:", "icon": {"url": "https://other.example/"}})
    found = read_emojis({"type": "Note", "tag": tags})
    assert len(found) == MAX_EMOJIS
    assert found[0] == EmojiTag("e0", "https://cdn.example/0.png")


def test_poll_option_round_trip_is_plain_data():
    poll = Poll((PollOption("a", 1),), False, None, False, None)
    assert poll.as_json() == {
        "options": [{"title": "a", "votes": 1}],
        "multiple": False,
        "ends_at": None,
        "closed": False,
        "voters": None,
    }


# -- emoji reactions ---------------------------------------------------------------------------

_ICON = "https://misskey.example/files/blobcat.png"
_TAG = {
    "id": "https://misskey.example/emojis/blobcat",
    "type": "Emoji",
    "name": ":blobcat:",
    "icon": {"type": "Image", "mediaType": "image/png", "url": _ICON},
}


@pytest.mark.parametrize(
    ("activity", "expected"),
    [
        # Misskey/Sharkey: a Like with content ":code@.:" (its own emoji) and the tag
        (
            {
                "type": "Like",
                "content": ":blobcat@.:",
                "_misskey_reaction": ":blobcat@.:",
                "tag": [_TAG],
            },
            Reaction(":blobcat:", EmojiTag("blobcat", _ICON)),
        ),
        # Pleroma/Akkoma EmojiReact with a custom emoji
        (
            {"type": "EmojiReact", "content": ":blobcat:", "tag": _TAG},
            Reaction(":blobcat:", EmojiTag("blobcat", _ICON)),
        ),
        # a unicode emoji (Akkoma, Misskey), with a skin tone
        ({"type": "EmojiReact", "content": "👍🏽"}, Reaction("👍🏽")),
        # only _misskey_reaction (older Misskey)
        ({"type": "Like", "_misskey_reaction": "🍞"}, Reaction("🍞")),
        # another server's emoji without a tag: text only
        ({"type": "Like", "content": ":party@other.example:"}, Reaction(":party:")),
        # an SVG icon is no picture
        (
            {
                "type": "EmojiReact",
                "content": ":blobcat:",
                "tag": [{**_TAG, "icon": {"mediaType": "image/svg+xml", "url": _ICON}}],
            },
            Reaction(":blobcat:"),
        ),
        # not reactions: a plain like, markup, words, too long, controls
        ({"type": "Like"}, None),
        ({"type": "Like", "content": "<img src=x>"}, None),
        ({"type": "Like", "content": "nice one"}, None),
        ({"type": "Like", "content": "ok"}, None),
        ({"type": "Like", "content": "🍞" * 65}, None),
        ({"type": "Like", "content": "\x00"}, None),
        ({"type": "Like", "content": 7}, None),
    ],
)
def test_a_reaction_is_read_from_each_servers_shape(activity, expected):
    assert read_reaction(activity) == expected
