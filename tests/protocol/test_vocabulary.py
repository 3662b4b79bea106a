"""protocol.vocabulary: the strings and the time format every document is written with."""

from __future__ import annotations

import pytest

from fedi_town.protocol import vocabulary


def test_the_contexts_are_the_activitystreams_and_security_ones():
    assert vocabulary.AS_CONTEXT == "https://www.w3.org/ns/activitystreams"
    assert vocabulary.SECURITY_CONTEXT == "https://w3id.org/security/v1"
    assert vocabulary.AS_PUBLIC == "https://www.w3.org/ns/activitystreams#Public"


def test_actor_and_note_contexts_start_with_activitystreams():
    assert vocabulary.ACTOR_CONTEXT[:2] == [vocabulary.AS_CONTEXT, vocabulary.SECURITY_CONTEXT]
    assert vocabulary.NOTE_CONTEXT[0] == vocabulary.AS_CONTEXT


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "1970-01-01T00:00:00Z"),
        (1_795_132_800_000, "2026-11-20T00:00:00Z"),
        (1_795_132_800_999, "2026-11-20T00:00:00Z"),
        (1_795_132_861_500, "2026-11-20T00:01:01Z"),
        (None, None),
    ],
)
def test_times_are_utc_to_the_second_with_a_z(ms, text):
    assert vocabulary.iso8601(ms) == text
