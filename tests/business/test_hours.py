"""business.hours: the week and special hours validated, evaluated at fixed instants, in words.

Every instant is written in UTC (``Z``) so the table says exactly which moment is meant;
the zones' DST changes used:
Europe/Berlin 2024-03-31 01:00Z (02:00 CET -> 03:00 CEST),
              2024-10-27 01:00Z (03:00 CEST -> 02:00 CET);
America/New_York 2024-03-10 07:00Z (02:00 EST -> 03:00 EDT),
                 2024-11-03 06:00Z (02:00 EDT -> 01:00 EST).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fedi_town.business.hours import (
    Schedule,
    business_zone,
    hours_on,
    hours_problems,
    next_change_ms,
    regular_rows,
    schedule_problems,
    special_hours_problems,
    status_at,
    timezone_problem,
    today_text,
    wall_to_ms,
    week_rows,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
BAKERY = {
    **{d: [["07:00", "12:30"], ["14:00", "18:00"]] for d in WEEKDAYS},
    "sat": [["08:00", "13:00"]],
    "sun": [],
}
BAR = {"thu": [["18:00", "23:00"]], "fri": [["18:00", "02:00"]], "sat": [["18:00", "02:00"]]}
EVERY_DAY = {d: [["07:00", "18:00"]] for d in (*WEEKDAYS, "sat", "sun")}
NIGHT_SUNDAY = {"sun": [["01:00", "04:00"]]}
GAP_SUNDAY = {"sun": [["02:30", "05:00"]]}
NY_GAP_SUNDAY = {"sun": [["02:15", "04:00"]]}
NY_FOLD_SUNDAY = {"sun": [["01:30", "03:00"]]}
CHRISTMAS = [
    {"start": "2024-12-24", "hours": [["08:00", "12:00"]], "label": "Christmas Eve"},
    {"start": "2024-12-25", "end": "2024-12-26", "hours": [], "label": "Christmas"},
]


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def iso(value: int | None) -> str | None:
    if value is None:
        return None
    return datetime.fromtimestamp(value / 1000, UTC).strftime("%Y-%m-%dT%H:%MZ")


def schedule(
    hours: dict[str, Any], zone: str, special: list[dict[str, Any]] | None = None
) -> Schedule:
    assert schedule_problems(hours, special, zone) == []
    return Schedule.from_values(hours, special, zone)


# (hours, special, zone, now, status text, changes at)
STATUS = [
    # plain days, Berlin winter (UTC+1)
    pytest.param(
        BAKERY,
        None,
        "Europe/Berlin",
        "2024-01-08T07:00Z",
        "Open now · until 12:30",
        "2024-01-08T11:30Z",
        id="open-morning",
    ),
    pytest.param(
        BAKERY,
        None,
        "Europe/Berlin",
        "2024-01-08T12:00Z",
        "Closed · opens 14:00",
        "2024-01-08T13:00Z",
        id="lunch-break",
    ),
    pytest.param(
        BAKERY,
        None,
        "Europe/Berlin",
        "2024-01-08T17:00Z",
        "Closed · opens tomorrow 7:00",
        "2024-01-09T06:00Z",
        id="evening",
    ),
    pytest.param(
        BAKERY,
        None,
        "Europe/Berlin",
        "2024-01-06T12:30Z",
        "Closed · opens Mon 7:00",
        "2024-01-08T06:00Z",
        id="saturday-after",
    ),
    pytest.param(
        BAKERY,
        None,
        "Europe/Berlin",
        "2024-01-08T05:59:59Z",
        "Closed · opens 7:00",
        "2024-01-08T06:00Z",
        id="just-before",
    ),
    pytest.param(
        BAKERY,
        None,
        "Europe/Berlin",
        "2024-01-08T06:00Z",
        "Open now · until 12:30",
        "2024-01-08T11:30Z",
        id="at-opening",
    ),
    # the same week read in another zone
    pytest.param(
        BAKERY,
        None,
        "America/New_York",
        "2024-01-08T12:00Z",
        "Open now · until 12:30",
        "2024-01-08T17:30Z",
        id="new-york",
    ),
    # past midnight
    pytest.param(
        BAR,
        None,
        "Europe/Berlin",
        "2024-01-06T00:30Z",
        "Open now · until 2:00",
        "2024-01-06T01:00Z",
        id="past-midnight-tail",
    ),
    pytest.param(
        BAR,
        None,
        "Europe/Berlin",
        "2024-01-05T20:00Z",
        "Open now · until 2:00",
        "2024-01-06T01:00Z",
        id="past-midnight-evening",
    ),
    pytest.param(
        BAR,
        None,
        "Europe/Berlin",
        "2024-01-07T00:59Z",
        "Open now · until 2:00",
        "2024-01-07T01:00Z",
        id="sunday-morning-tail",
    ),
    pytest.param(
        BAR,
        None,
        "Europe/Berlin",
        "2024-01-07T02:00Z",
        "Closed · opens Thu 18:00",
        "2024-01-11T17:00Z",
        id="after-the-weekend",
    ),
    # Berlin spring forward: 01:00-04:00 lasts two hours, 02:30 does not exist
    pytest.param(
        NIGHT_SUNDAY,
        None,
        "Europe/Berlin",
        "2024-03-31T00:30Z",
        "Open now · until 4:00",
        "2024-03-31T02:00Z",
        id="berlin-spring-open",
    ),
    pytest.param(
        GAP_SUNDAY,
        None,
        "Europe/Berlin",
        "2024-03-30T23:30Z",
        "Closed · opens 3:00",
        "2024-03-31T01:00Z",
        id="berlin-spring-gap",
    ),
    # Berlin fall back: 02:30 happens twice, the first counts
    pytest.param(
        GAP_SUNDAY,
        None,
        "Europe/Berlin",
        "2024-10-27T00:00Z",
        "Closed · opens 2:30",
        "2024-10-27T00:30Z",
        id="berlin-fall-first",
    ),
    pytest.param(
        GAP_SUNDAY,
        None,
        "Europe/Berlin",
        "2024-10-27T01:15Z",
        "Open now · until 5:00",
        "2024-10-27T04:00Z",
        id="berlin-fall-second-pass",
    ),
    # New York: 07:00 is 07:00 on both sides of each change
    pytest.param(
        EVERY_DAY,
        None,
        "America/New_York",
        "2024-03-10T05:00Z",
        "Closed · opens 7:00",
        "2024-03-10T11:00Z",
        id="ny-spring-next-day",
    ),
    pytest.param(
        EVERY_DAY,
        None,
        "America/New_York",
        "2024-03-09T13:00Z",
        "Open now · until 18:00",
        "2024-03-09T23:00Z",
        id="ny-before-spring",
    ),
    pytest.param(
        EVERY_DAY,
        None,
        "America/New_York",
        "2024-11-03T05:00Z",
        "Closed · opens 7:00",
        "2024-11-03T12:00Z",
        id="ny-fall-next-day",
    ),
    pytest.param(
        NY_GAP_SUNDAY,
        None,
        "America/New_York",
        "2024-03-10T06:30Z",
        "Closed · opens 3:00",
        "2024-03-10T07:00Z",
        id="ny-spring-gap",
    ),
    pytest.param(
        NY_FOLD_SUNDAY,
        None,
        "America/New_York",
        "2024-11-03T05:45Z",
        "Open now · until 3:00",
        "2024-11-03T08:00Z",
        id="ny-fall-fold",
    ),
    pytest.param(
        NY_FOLD_SUNDAY,
        None,
        "America/New_York",
        "2024-11-03T05:00Z",
        "Closed · opens 1:30",
        "2024-11-03T05:30Z",
        id="ny-fall-first",
    ),
    # special hours over the week (2024-12-24 is a Tuesday)
    pytest.param(
        BAKERY,
        CHRISTMAS,
        "Europe/Berlin",
        "2024-12-24T10:00Z",
        "Open now · until 12:00",
        "2024-12-24T11:00Z",
        id="special-shorter",
    ),
    pytest.param(
        BAKERY,
        CHRISTMAS,
        "Europe/Berlin",
        "2024-12-24T12:00Z",
        "Closed · opens Fri 7:00",
        "2024-12-27T06:00Z",
        id="special-closed-range",
    ),
    pytest.param(
        BAKERY,
        CHRISTMAS,
        "Europe/Berlin",
        "2024-12-23T17:30Z",
        "Closed · opens tomorrow 8:00",
        "2024-12-24T07:00Z",
        id="special-tomorrow",
    ),
    # nothing in the next eight days
    pytest.param({"sun": []}, None, "UTC", "2024-01-08T12:00Z", "Closed", None, id="always-closed"),
    pytest.param(
        EVERY_DAY | {d: [["00:00", "24:00"]] for d in EVERY_DAY},
        None,
        "UTC",
        "2024-01-08T12:00Z",
        "Open now",
        None,
        id="always-open",
    ),
]


@pytest.mark.parametrize(("hours", "special", "zone", "now", "text", "changes_at"), STATUS)
def test_status_at_a_fixed_instant(hours, special, zone, now, text, changes_at) -> None:
    status = status_at(schedule(hours, zone, special), ms(now))

    assert status is not None
    assert (status.text, iso(status.changes_at)) == (text, changes_at)
    assert status.open is text.startswith("Open")


def test_an_aware_datetime_and_epoch_ms_give_the_same_status() -> None:
    bakery = schedule(BAKERY, "Europe/Berlin")
    moment = datetime(2024, 1, 8, 8, 0, tzinfo=ZoneInfo("Europe/Berlin"))

    assert status_at(bakery, moment) == status_at(bakery, int(moment.timestamp() * 1000))


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        status_at(schedule(BAKERY, "UTC"), datetime(2024, 1, 8, 8, 0))


def test_no_hours_given_is_no_status_not_closed() -> None:
    none_given = Schedule.from_values({}, [], "Europe/Berlin")

    assert status_at(none_given, ms("2024-01-08T12:00Z")) is None
    assert today_text(none_given, ms("2024-01-08T12:00Z")) is None
    assert none_given.has_hours is False


def test_a_week_of_closed_days_is_closed() -> None:
    closed = schedule({d: [] for d in EVERY_DAY}, "UTC")

    assert status_at(closed, ms("2024-01-08T12:00Z")).text == "Closed"  # type: ignore[union-attr]
    assert today_text(closed, ms("2024-01-08T12:00Z")) == "Closed today"


def test_the_default_zone_applies_when_the_business_names_none() -> None:
    class Like:
        hours, special_hours, timezone = BAKERY, [], None

    found = Schedule.from_business(Like(), "America/New_York")

    assert found.zone == ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("own", "expected"),
    [
        ("Europe/Berlin", "Europe/Berlin"),  # its own
        (None, "America/New_York"),  # none named: the instance's
        ("Mars/Olympus_Mons", "America/New_York"),  # dropped from tzdata: the instance's
    ],
)
def test_a_business_zone_is_its_own_else_the_instances(own, expected) -> None:
    class Like:
        timezone = own

    assert business_zone(Like(), "America/New_York") == ZoneInfo(expected)


@pytest.mark.parametrize(
    ("hours", "special", "now", "text"),
    [
        (BAKERY, None, "2024-01-08T12:00Z", "7:00–12:30, 14:00–18:00"),
        (BAKERY, None, "2024-01-07T12:00Z", "Closed today"),
        (BAKERY, CHRISTMAS, "2024-12-25T12:00Z", "Closed today · Christmas"),
        (BAKERY, CHRISTMAS, "2024-12-24T12:00Z", "8:00–12:00 · Christmas Eve"),
        (BAR, None, "2024-01-05T12:00Z", "18:00–2:00"),
        ({"mon": [["18:00", "24:00"]]}, None, "2024-01-08T12:00Z", "18:00–24:00"),
        ({}, CHRISTMAS, "2024-12-25T12:00Z", "Closed today · Christmas"),
    ],
)
def test_today_in_words(hours, special, now, text) -> None:
    assert today_text(schedule(hours, "Europe/Berlin", special), ms(now)) == text


def test_the_day_after_a_past_midnight_interval_carries_its_tail() -> None:
    saturday = hours_on(schedule(BAR, "Europe/Berlin"), date(2024, 1, 6))

    assert saturday.carried_until == "2:00"
    assert saturday.intervals == (("18:00", "2:00"),)


def test_a_special_day_keeps_the_tail_of_the_night_before() -> None:
    """The bar open on Friday night until 2 stays open although Saturday is closed."""
    closed_saturday = [{"start": "2024-01-06", "hours": []}]
    bar = schedule(BAR, "Europe/Berlin", closed_saturday)

    assert status_at(bar, ms("2024-01-06T00:30Z")).text == "Open now · until 2:00"  # type: ignore[union-attr]
    assert status_at(bar, ms("2024-01-06T18:00Z")).text == "Closed · opens Thu 18:00"  # type: ignore[union-attr]


def test_week_rows_start_today_and_apply_special_hours() -> None:
    rows = week_rows(schedule(BAKERY, "Europe/Berlin", CHRISTMAS), ms("2024-12-23T12:00Z"))

    assert [(r.name, r.text, r.today, r.special) for r in rows] == [
        ("Mon", "7:00–12:30, 14:00–18:00", True, False),
        ("Tue", "8:00–12:00 · Christmas Eve", False, True),
        ("Wed", "Closed · Christmas", False, True),
        ("Thu", "Closed · Christmas", False, True),
        ("Fri", "7:00–12:30, 14:00–18:00", False, False),
        ("Sat", "8:00–13:00", False, False),
        ("Sun", "Closed", False, False),
    ]


def test_regular_rows_are_the_plain_week() -> None:
    assert regular_rows(schedule(BAR, "UTC"))[3:6] == [
        ("Thu", "18:00–23:00"),
        ("Fri", "18:00–2:00"),
        ("Sat", "18:00–2:00"),
    ]


@pytest.mark.parametrize(
    ("hours", "zone", "now", "notice_until", "expected"),
    [
        # the close comes before midnight
        (BAKERY, "Europe/Berlin", "2024-01-08T07:00Z", None, "2024-01-08T11:30Z"),
        # closed until Monday, but today's hours change at midnight
        (BAKERY, "Europe/Berlin", "2024-01-06T12:30Z", None, "2024-01-06T23:00Z"),
        # a notice ending first
        (BAKERY, "Europe/Berlin", "2024-01-08T07:00Z", "2024-01-08T08:00Z", "2024-01-08T08:00Z"),
        # no hours: only midnight (the day's text) and the notice
        ({}, "America/New_York", "2024-03-09T12:00Z", None, "2024-03-10T05:00Z"),
        # the midnight after spring forward in New York is still 05:00Z (EST until 2:00)
        ({}, "America/New_York", "2024-03-10T12:00Z", None, "2024-03-11T04:00Z"),
    ],
)
def test_next_change(hours, zone, now, notice_until, expected) -> None:
    found = Schedule.from_values(hours, [], zone)

    until = ms(notice_until) if notice_until else None
    assert iso(next_change_ms(found, ms(now), until)) == expected


@pytest.mark.parametrize(
    ("day", "minutes", "zone", "expected"),
    [
        (date(2024, 3, 31), 150, "Europe/Berlin", "2024-03-31T01:00Z"),  # 02:30 missing
        (date(2024, 10, 27), 150, "Europe/Berlin", "2024-10-27T00:30Z"),  # 02:30 twice
        (date(2024, 3, 10), 135, "America/New_York", "2024-03-10T07:00Z"),  # 02:15 missing
        (date(2024, 11, 3), 90, "America/New_York", "2024-11-03T05:30Z"),  # 01:30 twice
        (date(2024, 3, 30), 24 * 60 + 150, "Europe/Berlin", "2024-03-31T01:00Z"),  # next day
    ],
)
def test_wall_times_in_dst_changes(day, minutes, zone, expected) -> None:
    assert iso(wall_to_ms(day, minutes, ZoneInfo(zone))) == expected


# -- validation -------------------------------------------------------------------------

HOURS_PROBLEMS = [
    pytest.param({"mon": [["07:00", "12:00"], ["11:00", "14:00"]]}, ["/hours/mon/1"], id="overlap"),
    pytest.param(
        {"mon": [["11:00", "14:00"], ["07:00", "12:00"]]}, ["/hours/mon/0"], id="overlap-unsorted"
    ),
    pytest.param({"mon": [["25:00", "26:00"]]}, ["/hours/mon/0/0", "/hours/mon/0/1"], id="hour-25"),
    pytest.param({"mon": [["07:60", "09:00"]]}, ["/hours/mon/0/0"], id="minute-60"),
    pytest.param({"mon": [["24:00", "09:00"]]}, ["/hours/mon/0/0"], id="24-as-start"),
    pytest.param({"mon": [["7:00", "09:00"]]}, ["/hours/mon/0/0"], id="no-leading-zero"),
    pytest.param({"mon": [["09:00", "09:00"]]}, ["/hours/mon/0"], id="start-equals-end"),
    pytest.param({"monday": []}, ["/hours/monday"], id="unknown-day"),
    pytest.param({"mon": [["09:00"]]}, ["/hours/mon/0"], id="not-a-pair"),
    pytest.param({"mon": "9-5"}, ["/hours/mon"], id="not-a-list"),
    pytest.param(
        {"fri": [["22:00", "03:00"]], "sat": [["02:00", "05:00"]]},
        ["/hours/sat/0"],
        id="tail-overlaps-next-day",
    ),
    pytest.param(
        {"sun": [["22:00", "03:00"]], "mon": [["02:30", "05:00"]]},
        ["/hours/mon/0"],
        id="sunday-tail-into-monday",
    ),
]


@pytest.mark.parametrize(("hours", "pointers"), HOURS_PROBLEMS)
def test_bad_hours_name_the_interval(hours, pointers) -> None:
    assert [p.pointer for p in hours_problems(hours)] == pointers


@pytest.mark.parametrize(
    "hours",
    [
        BAKERY,
        BAR,
        {"mon": [["07:00", "12:00"], ["12:00", "18:00"]]},  # touching is fine
        {"fri": [["22:00", "03:00"]], "sat": [["03:00", "05:00"]]},
        {"mon": [["00:00", "24:00"]], "tue": [["18:00", "00:00"]]},
        {},
    ],
)
def test_good_hours_have_no_problems(hours) -> None:
    assert hours_problems(hours) == []


SPECIAL_PROBLEMS = [
    pytest.param(
        [{"start": "2024-12-26", "end": "2024-12-24", "hours": []}],
        ["/special_hours/0/end"],
        id="end-before-start",
    ),
    pytest.param(
        [{"start": "2024-02-30", "hours": []}], ["/special_hours/0/start"], id="no-such-date"
    ),
    pytest.param([{"start": "24.12.2024", "hours": []}], ["/special_hours/0/start"], id="not-iso"),
    pytest.param(
        [
            {"start": "2024-12-24", "end": "2024-12-26", "hours": []},
            {"start": "2024-12-26", "hours": []},
        ],
        ["/special_hours/1"],
        id="overlapping-ranges",
    ),
    pytest.param(
        [{"start": "2024-12-24", "hours": [["08:00", "25:00"]]}],
        ["/special_hours/0/hours/0/1"],
        id="bad-time",
    ),
    pytest.param([{"start": "2024-12-24"}], ["/special_hours/0/hours"], id="hours-missing"),
    pytest.param(
        [{"start": "2024-12-24", "hours": [], "colour": "red"}],
        ["/special_hours/0/colour"],
        id="unknown-key",
    ),
    pytest.param(
        [{"start": "2024-12-24", "hours": [], "label": "x" * 101}],
        ["/special_hours/0/label"],
        id="long-label",
    ),
]


@pytest.mark.parametrize(("special", "pointers"), SPECIAL_PROBLEMS)
def test_bad_special_hours_name_the_entry(special, pointers) -> None:
    assert [p.pointer for p in special_hours_problems(special)] == pointers


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../etc/passwd", "europe/berlin", 7])
def test_an_unknown_zone_is_a_problem(name) -> None:
    assert timezone_problem(name).pointer == "/timezone"  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["Europe/Berlin", "America/New_York", "UTC"])
def test_iana_zones_are_known(name) -> None:
    assert timezone_problem(name) is None
