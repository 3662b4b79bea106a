"""protocol.reading: AS2 values as peers write them (pure functions, no I/O)."""

from __future__ import annotations

import random
from urllib.parse import urlsplit

import pytest

from fedi_town.protocol.reading import (
    host_of,
    href_of,
    id_of,
    ids_of,
    is_http_url,
    mentioned_hrefs,
    parse_time_ms,
    visibility,
)

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
ME = "https://m.example/users/alice"
FOLLOWERS = f"{ME}/followers"
BIZ = "https://town.example/users/bakery"


@pytest.mark.parametrize(
    "to, cc, expected",
    [
        ([PUBLIC], [FOLLOWERS], "public"),
        (["as:Public"], [], "public"),
        (["Public"], [], "public"),
        ([FOLLOWERS], [PUBLIC], "unlisted"),
        ([FOLLOWERS], [BIZ], "private"),
        ([BIZ], [], "direct"),
        ([BIZ, "https://x.example/u/bob"], [], "limited"),
        ([], [], "limited"),
    ],
)
def test_visibility_is_computed_as_mastodon_does(to, cc, expected):
    assert visibility(to, cc, followers_uri=FOLLOWERS, mentions=[BIZ]) == expected


def test_ids_come_from_strings_objects_and_lists():
    assert id_of("https://a.example/x") == "https://a.example/x"
    assert id_of({"id": "https://a.example/y", "type": "Note"}) == "https://a.example/y"
    assert id_of({"type": "Note"}) is None
    assert id_of(42) is None
    assert ids_of(["https://a/1", {"id": "https://a/2"}, None, 3]) == ["https://a/1", "https://a/2"]
    assert ids_of("https://a/1") == ["https://a/1"]


def test_a_url_may_be_a_string_a_link_or_a_list_of_both():
    assert href_of("https://a.example/@x") == "https://a.example/@x"
    assert href_of({"type": "Link", "href": "https://a.example/@x", "mediaType": "text/html"}) == (
        "https://a.example/@x"
    )
    assert (
        href_of(
            [
                {"type": "Link", "href": "https://cdn/x.mp4", "mediaType": "video/mp4"},
                "https://a.example/p/1",
            ]
        )
        == "https://a.example/p/1"
    )
    assert href_of("javascript:alert(1)") is None


def test_only_mention_tags_count_as_mentions():
    note = {
        "tag": [{"type": "Hashtag", "href": "https://a/tags/x"}, {"type": "Mention", "href": BIZ}]
    }
    assert mentioned_hrefs(note) == [BIZ]
    assert mentioned_hrefs({"tag": {"type": "Mention", "href": BIZ}}) == [BIZ]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-11-23T12:00:00Z", 1795435200000),
        ("2026-11-23T12:00:00.000Z", 1795435200000),
        ("2026-11-23T13:00:00+01:00", 1795435200000),
        ("2026-11-23T12:00:00", None),
        ("yesterday", None),
        (None, None),
    ],
)
def test_times_parse_only_with_a_zone(text, expected):
    assert parse_time_ms(text) == expected


def _by_urlsplit(value: str) -> tuple[bool, str]:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False, ""
    return parts.scheme in ("http", "https") and bool(parts.netloc), parts.netloc.lower()


def test_url_checks_agree_with_urlsplit_on_odd_and_plain_urls():
    # is_http_url and host_of read plain http(s) URLs with a regular expression and leave
    # everything else to urlsplit: on any string they must answer exactly as urlsplit does.
    prefixes = ["http://", "https://", "HTTP://", "http:/", "", "ftp://", " http://", "\thttps://"]
    alphabet = list("htps:/[]?#@ \t\nAaZz09.-_~%!$&'()*+,;=\u00e9\u2100\x00")
    rng = random.Random(20261123)
    cases = ["https://x.example/users/a", "http://[::1]:8080/x", "https://h?q", "https://h#f"]
    cases += [
        rng.choice(prefixes) + "".join(rng.choices(alphabet, k=rng.randint(0, 16)))
        for _ in range(20_000)
    ]
    for value in cases:
        expected_url, expected_host = _by_urlsplit(value)
        assert is_http_url(value) == expected_url, value
        assert host_of(value) == (expected_host if value else ""), value
