"""business.osm: the week to an OSM opening_hours string and back, via opening-hours-py."""

from __future__ import annotations

import random

import pytest

from fedi_town.business.hours import DAYS, MINUTES_PER_DAY, hours_problems
from fedi_town.business.osm import OsmHoursError, osm_to_week, week_to_osm

WEEKDAYS = {d: [["07:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


@pytest.mark.parametrize(
    ("week", "text"),
    [
        (
            WEEKDAYS | {"sat": [["08:00", "13:00"]], "sun": []},
            "Mo-Fr 07:00-18:00; Sa 08:00-13:00; Su off",
        ),
        ({"fri": [["22:00", "02:00"]]}, "Fr 22:00-02:00; Mo-Th,Su off"),
        (
            {
                "mon": [["07:00", "12:30"], ["14:00", "18:00"]],
                "wed": [["07:00", "12:30"], ["14:00", "18:00"]],
            },
            "Mo,We 07:00-12:30,14:00-18:00; Tu,Th-Su off",
        ),
        ({d: [["00:00", "24:00"]] for d in DAYS}, "24/7"),
        ({}, None),
    ],
)
def test_the_week_as_osm(week, text) -> None:
    assert week_to_osm(week) == text


def test_a_tail_into_a_day_with_hours_is_an_additional_rule() -> None:
    """A ';' rule for Saturday would wipe Friday night's tail; ',' keeps it."""
    week = {"fri": [["22:00", "02:00"]], "sat": [["08:00", "13:00"]]}

    assert week_to_osm(week) == "Fr 22:00-02:00, Sa 08:00-13:00; Mo-Th,Su off"
    assert osm_to_week(week_to_osm(week))["fri"] == [["22:00", "02:00"]]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mo-Fr 07:00-18:00; Sa 08:00-13:00", WEEKDAYS | {"sat": [["08:00", "13:00"]]}),
        ("Fr 22:00-02:00", {"fri": [["22:00", "02:00"]]}),
        ("Su 22:00-02:00", {"sun": [["22:00", "02:00"]]}),
        ("Mo 07:00-24:00", {"mon": [["07:00", "24:00"]]}),
        ("24/7", {d: [["00:00", "24:00"]] for d in DAYS}),
        (
            "Mo-Fr 08:00-12:00, 14:00-18:00",
            {d: [["08:00", "12:00"], ["14:00", "18:00"]] for d in WEEKDAYS},
        ),
    ],
)
def test_osm_to_the_week(text, expected) -> None:
    assert osm_to_week(text) == {d: expected.get(d, []) for d in DAYS}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Mo-Fr 08:00-12:00; PH off", "'PH'"),
        ("sunrise-sunset", "'sunrise'"),
        ("Jan-Mar Mo 10:00-12:00", "week to week"),
        ('Mo 10:00-12:00 "by appointment"', "plain week"),
        ("Mo 10:00+", "plain week"),
        ("2025 Mo 10:00-12:00", "'2025'"),
        ("Mo 08:00-12:00 unknown", "'unknown'"),
        ("Mo 25:00-26:00", "not an opening_hours expression"),
        ("bread o'clock", "not an opening_hours expression"),
    ],
)
def test_what_is_not_a_plain_week_is_refused_with_a_reason(text, reason) -> None:
    with pytest.raises(OsmHoursError, match=reason):
        osm_to_week(text)


def _open_minutes(week: dict) -> set[int]:
    minutes = set()
    for i, day in enumerate(DAYS):
        for start, end in week.get(day) or []:
            s = int(start[:2]) * 60 + int(start[3:])
            e = int(end[:2]) * 60 + int(end[3:])
            if e <= s:
                e += MINUTES_PER_DAY
            minutes.update((i * MINUTES_PER_DAY + m) % (7 * MINUTES_PER_DAY) for m in range(s, e))
    return minutes


def test_random_weeks_survive_the_round_trip() -> None:
    """Export then import gives the same open minutes (intervals touching at midnight may join)."""
    rng = random.Random(13)
    times = [f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30)]
    tried = 0
    while tried < 150:
        week = {d: [rng.sample(times, 2) for _ in range(rng.choice([0, 1, 1, 2]))] for d in DAYS}
        if hours_problems(week) or not any(week.values()):
            continue
        tried += 1
        back = osm_to_week(week_to_osm(week))  # type: ignore[arg-type]
        assert _open_minutes(back) == _open_minutes(week), week_to_osm(week)
