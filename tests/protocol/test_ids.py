"""The one parser of ids from paths, query strings and bodies (fedi_town.protocol.ids)."""

from __future__ import annotations

import pytest

from fedi_town.errors import BadRequest, NotFound, Unprocessable
from fedi_town.protocol.ids import MAX_ID, body_id, parse_id, path_id, query_id, query_limit

NOT_IDS = [
    "",
    "0",
    "-1",
    "+1",
    " 1",
    "1 ",
    "1_000",
    "1.0",
    "1e3",
    "0x10",
    "abc",
    "\x00",
    "1\x00",
    "²",
    "١٢٣",
    "１２３",
    str(MAX_ID + 1),
    "9223372036854775808",
    "99999999999999999999999",
    "9" * 5000,
    None,
    True,
    1.0,
    [],
    {},
]


@pytest.mark.parametrize("raw", NOT_IDS, ids=repr)
def test_what_is_not_an_id_in_range_parses_to_none(raw: object) -> None:
    # Given something that is not an id from 1 to 2^63 - 1
    # When it is parsed
    # Then it names no id
    assert parse_id(raw) is None


@pytest.mark.parametrize("raw,value", [("1", 1), (str(MAX_ID), MAX_ID), ("007", 7), (42, 42)])
def test_ids_in_range_parse_to_their_value(raw: object, value: int) -> None:
    # Given ASCII digits (or an int) from 1 to 2^63 - 1
    # When parsed
    # Then the value comes back
    assert parse_id(raw) == value


def test_an_id_out_of_range_in_a_path_is_not_found() -> None:
    # Given a path segment of 23 digits
    # When it is read as an id
    # Then the answer is 404: no such object
    with pytest.raises(NotFound):
        path_id("99999999999999999999999", "post")


def test_an_id_out_of_range_in_a_query_is_a_bad_request_naming_the_parameter() -> None:
    # Given max_id=2^63
    # When it is read as an id
    # Then the answer is 400 naming max_id
    with pytest.raises(BadRequest) as caught:
        query_id("9223372036854775808", "max_id")
    assert "max_id" in caught.value.detail
    assert caught.value.errors == [{"parameter": "max_id", "message": "not an id"}]


def test_an_absent_or_empty_query_id_is_none() -> None:
    # Given no max_id, or max_id= with nothing
    # Then there is no bound
    assert query_id(None, "max_id") is None
    assert query_id("", "max_id") is None


@pytest.mark.parametrize("raw", ["0", "81", "-1", "x", "99999999999999999999"])
def test_a_limit_outside_its_range_is_a_bad_request(raw: str) -> None:
    # Given a limit that is not 1..80
    # Then the answer is 400 naming limit
    with pytest.raises(BadRequest, match="limit"):
        query_limit(raw, default=20, maximum=80)


def test_a_missing_limit_is_the_default() -> None:
    assert query_limit(None, default=20, maximum=80) == 20
    assert query_limit("80", default=20, maximum=80) == 80


@pytest.mark.parametrize("raw", ["9223372036854775808", "0", 5, None, "abc"])
def test_a_bad_id_in_a_body_is_unprocessable_with_its_pointer(raw: object) -> None:
    # Given a body field that should hold an id (a string of digits)
    # When it holds something else
    # Then the answer is 422 pointing at the field
    with pytest.raises(Unprocessable) as caught:
        body_id(raw, "/media_ids/1")
    assert caught.value.errors is not None
    assert caught.value.errors[0]["pointer"] == "/media_ids/1"
