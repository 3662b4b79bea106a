"""protocol.httpsig_common: header fields and key ids as every signature scheme reads them."""

from __future__ import annotations

import pytest

from fedi_town.errors import SignatureError
from fedi_town.protocol import httpsig
from fedi_town.protocol.httpsig_common import (
    MAX_KEY_ID,
    MalformedSignature,
    check_key_id,
    collect_fields,
    field_value,
    is_body_request,
    wire_bytes,
)


def test_fields_are_grouped_by_lowercase_name_keeping_repeats_and_order():
    fields = collect_fields([("Accept", " a "), ("X-Y", "1"), ("accept", "b\t")])
    assert fields == {"accept": ["a", "b"], "x-y": ["1"]}
    assert collect_fields({"Host": "town.example"}) == {"host": ["town.example"]}


def test_repeated_lines_are_joined_with_a_comma_and_absent_ones_are_none():
    fields = collect_fields([("accept", "a"), ("accept", "b")])
    assert field_value(fields, "accept") == "a, b"
    assert field_value(fields, "date") is None


def test_signing_strings_are_latin1_bytes_else_utf8():
    assert wire_bytes("caf\xe9") == b"caf\xe9"
    assert wire_bytes("\u2603") == "\u2603".encode()


@pytest.mark.parametrize(
    "key_id", ["x" * (MAX_KEY_ID + 1), "https://a.example/k\n#main-key", "a\x00b"]
)
def test_key_ids_too_long_or_unprintable_are_refused(key_id):
    with pytest.raises(MalformedSignature):
        check_key_id(key_id)


def test_a_plain_key_id_passes():
    check_key_id("https://social.example/users/bob#main-key")


@pytest.mark.parametrize(
    ("method", "body", "expected"),
    [("POST", b"", True), ("post", b"", True), ("GET", b"", False), ("GET", b"x", True)],
)
def test_any_post_and_any_body_must_sign_a_digest(method, body, expected):
    assert is_body_request(method, body) is expected


def test_the_front_exports_the_same_error_classes():
    assert httpsig.MalformedSignature is MalformedSignature
    assert issubclass(MalformedSignature, SignatureError)
