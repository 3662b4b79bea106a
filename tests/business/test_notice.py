"""business.notice: a notice is current until its end, and its input is checked."""

from __future__ import annotations

import pytest

from fedi_town.business.notice import current_notice, parse_notice

T0 = 1_795_132_800_000  # 2026-11-20T00:00:00Z


@pytest.mark.parametrize(
    ("text", "until", "now", "shown"),
    [
        ("Sold out", T0 + 1, T0, "Sold out"),
        ("Sold out", T0, T0, None),  # gone at the instant it ends
        ("Sold out", T0 - 1, T0, None),
        ("Back at 14:00", None, T0, "Back at 14:00"),  # no end: until removed
        (None, T0 + 1, T0, None),
        ("", None, T0, None),
    ],
)
def test_a_notice_expires_by_itself(text, until, now, shown) -> None:
    assert current_notice(text, until, now) == shown


def test_a_notice_with_an_offset_is_read_as_that_instant() -> None:
    text, until, problems = parse_notice(
        {"text": "Closed today", "until": "2026-11-20T18:00:00+01:00"}, T0
    )

    assert (text, until, problems) == ("Closed today", T0 + 17 * 3_600_000, [])


@pytest.mark.parametrize(
    ("value", "pointers"),
    [
        ({"text": "x", "until": "2026-11-19T23:59:59Z"}, ["/notice/until"]),
        ({"text": "x", "until": "2026-11-20T18:00:00"}, ["/notice/until"]),  # no offset
        ({"text": "x", "until": "tomorrow"}, ["/notice/until"]),
        ({"text": "  "}, ["/notice/text"]),
        ({"text": "x" * 501}, ["/notice/text"]),
        ({"text": "x", "colour": "red"}, ["/notice/colour"]),
        ("closed", ["/notice"]),
    ],
)
def test_bad_notices_name_the_field(value, pointers) -> None:
    assert [p.pointer for p in parse_notice(value, T0)[2]] == pointers
