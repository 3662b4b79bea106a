"""Reading remote answers: Retry-After and ActivityStreams media types."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fedi_town.remote.errors import BadContentType, BadDocument
from fedi_town.remote.responses import (
    check_activitypub_media_type,
    parse_json_object,
    parse_retry_after,
)

NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        ("0", 0.0),
        (" 30 ", 30.0),
        ("Wed, 01 Jan 2025 12:00:30 GMT", 30.0),
        ("Wed, 01 Jan 2025 11:00:00 GMT", 0.0),  # in the past
        ("-5", None),
        ("1.5", None),
        ("tomorrow", None),
        ("9" * 40, None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


@pytest.mark.parametrize(
    "content_type",
    [None, "", "application/activity+jsonx", "application/ld+json; profile=", "text/json"],
)
def test_media_types_that_are_not_activitystreams(content_type: str | None) -> None:
    with pytest.raises(BadContentType):
        check_activitypub_media_type(content_type, "https://x.test/o")


@pytest.mark.parametrize(
    "content_type",
    [
        "application/activity+json",
        "Application/Activity+JSON; charset=utf-8",
        'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
        'application/ld+json; profile="https://example.test/x https://www.w3.org/ns/activitystreams"',
    ],
)
def test_activitystreams_media_types_are_accepted_with_their_parameters(content_type: str) -> None:
    # Then no error: these are what Mastodon accepts
    check_activitypub_media_type(content_type, "https://x.test/o")


def test_a_json_object_body_is_parsed() -> None:
    assert parse_json_object(b'{"id": "https://x.test/o", "n": 1}', "https://x.test/o") == {
        "id": "https://x.test/o",
        "n": 1,
    }


@pytest.mark.parametrize("body", [b"[1, 2]", b"not json", b'"text"', b""])
def test_a_body_that_is_not_one_plain_json_object_is_a_bad_document(body: bytes) -> None:
    with pytest.raises(BadDocument):
        parse_json_object(body, "https://x.test/o")
