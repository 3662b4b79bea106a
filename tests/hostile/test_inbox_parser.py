"""The inbox's reading of a body (``inbox.parse_activity``) under arbitrary input.

Property: for any bytes, the inbox either takes the activity (and then it is a JSON object
that can be stored and read back as it came: valid UTF-8, no NUL, no lone surrogate,
nested at most ``MAX_JSON_DEPTH``, with a plain http(s) id and actor and a type name) or
refuses it with a 400 (``BadRequest``), never anything else. Inputs: arbitrary JSON values
(lone surrogates and NUL among their strings), arbitrary bytes, activity-shaped objects
with wrong-typed fields, and real activities from tests/inbound/payloads.py mutated byte
by byte and field by field.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fedi_town.errors import BadRequest
from fedi_town.inbound.inbox import Incoming, parse_activity
from fedi_town.protocol.json_text import MAX_JSON_DEPTH
from fedi_town.protocol.reading import is_plain_id
from fedi_town.web import parse_json_object, parse_json_text
from tests.inbound.samples import ACTOR, real_activities
from tests.reliability import record

FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ENCODINGS = ["ascii", "utf-8"]
TRICKY_TEXT = ["\ud800", "a\udfff", "\x00", "\u202e", "\u200b", "\r\n", "\x1b[31m", "\ufeff", "😀"]

text = st.one_of(st.text(max_size=20), st.sampled_from(TRICKY_TEXT))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=20,
)
ids = st.one_of(
    st.sampled_from([ACTOR, ACTOR + "#likes/1", "https://other.example/x", "http://a", ""]),
    st.sampled_from([ACTOR + "\ud800", ACTOR + "/\x00", ACTOR + "\r\nforged", "ftp://x/y"]),
    st.sampled_from([ACTOR + "/" + "a" * 3000, ACTOR + "/\u202e", "https:///x", "https://a b"]),
    json_values,
)
types = st.one_of(
    st.sampled_from(["Like", "Follow", "Undo", "Foo", "as:Like", "", "Like\n", "Lik\ud800e"]),
    st.lists(st.sampled_from(["Like", "Foo", "Create", "", "\x00"]), max_size=3),
    json_values,
)


def encode(value: Any, how: str) -> bytes:
    """``value`` as a peer might send it (lone surrogates kept as their raw UTF-8-ish
    bytes with ``surrogatepass``)."""
    if how == "ascii":
        return json.dumps(value).encode()
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def strings_and_depth(value: Any, level: int = 1) -> tuple[list[str], int]:
    if isinstance(value, dict):
        found, deepest = list(value), level
        for item in value.values():
            more, depth = strings_and_depth(item, level + 1)
            found += more
            deepest = max(deepest, depth)
        return found, deepest
    if isinstance(value, list):
        found, deepest = [], level
        for item in value:
            more, depth = strings_and_depth(item, level + 1)
            found += more
            deepest = max(deepest, depth)
        return found, deepest
    return ([value] if isinstance(value, str) else []), level


def read(body: bytes) -> Incoming | None:
    """What the inbox makes of ``body``: the activity, or None for a 400."""
    try:
        return parse_activity(body)
    except BadRequest:
        return None


def assert_storable(incoming: Incoming) -> None:
    """Taken means: stored as text, read back by the worker as the same object."""
    incoming.text.encode("utf-8")  # no lone surrogate
    assert json.loads(incoming.text) == incoming.activity
    strings, depth = strings_and_depth(incoming.activity)
    assert depth <= MAX_JSON_DEPTH
    for found in strings:
        found.encode("utf-8")
        assert "\x00" not in found
    assert is_plain_id(incoming.id) and is_plain_id(incoming.actor)
    assert incoming.kind.isprintable() and " " not in incoming.kind


def outcome_of(body: bytes) -> str:
    incoming = read(body)
    if incoming is None:
        return "400"
    assert_storable(incoming)
    return "taken"


def json_outcome(body: bytes) -> str:
    """What ``web.parse_json_text`` (inbox and admin API) makes of ``body``."""
    try:
        data, decoded = parse_json_text(body)
    except BadRequest:
        return "400"
    assert json.loads(decoded) == data
    strings, depth = strings_and_depth(data)
    assert depth <= MAX_JSON_DEPTH
    for found in strings:
        found.encode("utf-8")
        assert "\x00" not in found
    return "taken"


@FUZZ
@given(json_values, st.sampled_from(["ascii", "utf-8"]))
def test_any_json_value_is_taken_storable_or_refused(value, how) -> None:
    # Given any JSON value, encoded with escapes or as raw UTF-8 (lone surrogates too)
    body = encode(value, how)
    # When it is parsed as a JSON object, Then it is refused or taken in a storable form
    record("inbox", "arbitrary JSON value", json_outcome(body))
    # And so it is when the inbox reads it as an activity
    outcome_of(body)


@FUZZ
@given(
    st.dictionaries(text, json_values, min_size=1, max_size=5), st.sampled_from(["ascii", "utf-8"])
)
def test_any_json_object_is_taken_storable_or_refused(value, how) -> None:
    # Given any JSON object, encoded with escapes or as raw UTF-8 (lone surrogates too)
    # When it is parsed, Then it is refused or taken in a storable form
    record("inbox", "arbitrary JSON object", json_outcome(encode(value, how)))


@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes_are_taken_storable_or_refused(body) -> None:
    # Given any bytes as a body
    # When the inbox reads them, Then they are refused or taken only in a storable form
    record("inbox", "arbitrary bytes", outcome_of(body))


@FUZZ
@given(
    ids,
    types,
    ids,
    st.dictionaries(text, json_values, max_size=3),
    st.sampled_from(["ascii", "utf-8"]),
)
def test_an_activity_with_wrong_typed_fields_is_taken_storable_or_refused(
    activity_id, kind, actor, extra, how
) -> None:
    # Given an activity-shaped object whose id, type and actor may be of any type or text
    activity = {**extra, "id": activity_id, "type": kind, "actor": actor}
    # When the inbox reads it, Then it is refused or taken only in a storable form
    record("inbox", "activity with wrong-typed fields", outcome_of(encode(activity, how)))


MUTATIONS = [
    b"\\ud800",
    b"\\u0000",
    b"\\uDFFF\\ud800",
    b"\x00",
    b"\xed\xa0\x80",
    b"\xc0\xaf",
    b"\xef\xbb\xbf",
    b"[" * 70,
    b"{" * 5,
    b'"',
    b"\\",
    b"1" * 5000,
    b"NaN",
    b"\r\n",
]


@FUZZ
@given(
    st.sampled_from(range(len(real_activities()))),
    st.lists(
        st.tuples(
            st.sampled_from(["insert", "replace", "cut"]),
            st.floats(0, 1),
            st.one_of(st.sampled_from(MUTATIONS), st.binary(min_size=1, max_size=8)),
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_a_real_activity_mutated_byte_by_byte_is_taken_storable_or_refused(index, edits) -> None:
    # Given a real-world activity with bytes inserted, replaced or cut
    body = json.dumps(real_activities()[index]).encode()
    for how, where, data in edits:
        at = int(where * len(body))
        if how == "insert":
            body = body[:at] + data + body[at:]
        elif how == "replace":
            body = body[:at] + data + body[at + len(data) :]
        else:
            body = body[:at] + body[at + len(data) :]
    # When the inbox reads it, Then it is refused or taken only in a storable form
    record("inbox", "real activity mutated byte by byte", outcome_of(body))


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


@FUZZ
@given(
    st.sampled_from(range(len(real_activities()))),
    st.integers(0, 10_000),
    json_values,
    st.sampled_from(["ascii", "utf-8"]),
)
def test_a_real_activity_with_a_field_replaced_is_taken_storable_or_refused(
    index, pick, value, how
) -> None:
    # Given a real-world activity with one field, anywhere in it, replaced by any value
    activity = copy.deepcopy(real_activities()[index])  # payloads share @context lists
    where = [p for p in paths(activity) if p]
    path = where[pick % len(where)]
    parent = activity
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    # When the inbox reads it, Then it is refused or taken only in a storable form
    record("inbox", "real activity with a field replaced", outcome_of(encode(activity, how)))


def test_every_real_activity_is_taken_as_it_comes() -> None:
    # Given the unmutated real-world activities
    for activity in real_activities():
        # When the inbox reads each, Then it is taken, as the type the sender gave
        incoming = read(json.dumps(activity).encode())
        assert incoming is not None and incoming.kind == activity["type"]


def test_deep_nesting_is_refused_without_recursing() -> None:
    # Given bodies nested far deeper than any activity (10,000 levels) and just too deep
    for depth in (10_000, MAX_JSON_DEPTH + 1):
        body = b'{"a":' * depth + b"1" + b"}" * depth
        # When they are parsed, Then each is a 400, not a RecursionError (500)
        try:
            parse_json_object(body)
        except BadRequest:
            outcome = "400"
        record("inbox", "deeply nested JSON", outcome)
        assert outcome == "400"


def test_nesting_at_the_limit_is_taken() -> None:
    # Given a body nested exactly MAX_JSON_DEPTH levels
    body = b'{"a":' * (MAX_JSON_DEPTH - 1) + b"{}" + b"}" * (MAX_JSON_DEPTH - 1)
    # When it is parsed, Then it is taken
    assert isinstance(parse_json_object(body), dict)


def test_a_valid_escaped_surrogate_pair_is_taken_as_one_character() -> None:
    # Given a Like whose id carries an emoji written as an escaped surrogate pair
    body = json.dumps({"id": ACTOR + "#\U0001f600", "type": "Like", "actor": ACTOR}).encode()
    assert b"\\ud83d\\ude00" in body
    # When the inbox reads it, Then it is taken, with the emoji as one character
    incoming = read(body)
    assert incoming is not None and incoming.id.endswith("\U0001f600")
