"""protocol.json_text: the one strict reader of JSON from outside."""

from __future__ import annotations

import pytest

from fedi_town.protocol.json_text import MAX_JSON_DEPTH, BadJson, parse_json_text


def test_an_ordinary_object_comes_back_with_its_text() -> None:
    body = '{"type":"Like","name":"Café ☕"}'.encode()

    data, text = parse_json_text(body)

    assert data == {"type": "Like", "name": "Café ☕"}
    assert text == body.decode()


def test_a_valid_surrogate_pair_escape_is_taken() -> None:
    data, _ = parse_json_text(b'{"e": "\\ud83c\\udf5e"}')

    assert data == {"e": "\U0001f35e"}


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"", "empty"),
        (b"[]", "object"),
        (b"\xff{}", "UTF-8"),
        (b"\xef\xbb\xbf{}", "byte order mark"),
        ('{"a": 1}'.encode("utf-16"), "UTF-8"),
        (b'{"a": "\\ud800"}', "lone surrogate"),
        (b'{"\\u0000": 1}', "NUL"),
        (b'{"a": NaN}', "malformed"),
        (b'{"a": ' + b"9" * 5000 + b"}", "malformed"),
        (b'{"a":' * (MAX_JSON_DEPTH + 1) + b"1" + b"}" * (MAX_JSON_DEPTH + 1), "nested"),
        (b"[" * 10_000 + b"]" * 10_000, "nested"),
    ],
)
def test_what_cannot_be_stored_is_refused_saying_why(body: bytes, why: str) -> None:
    with pytest.raises(BadJson, match=why):
        parse_json_text(body)
