"""The week as an OpenStreetMap ``opening_hours`` string, both ways.

Why a library for the import and our own code for the truth: ``opening-hours-py`` (the
Rust ``opening-hours`` crate) parses and evaluates the whole OSM grammar, which we could not
write well ourselves, so it reads what an owner pastes. But the grammar is far larger than
a week (public holidays need a country calendar, sunrise needs coordinates, month and week
ranges, comments, "unknown"), the library has no notion of our special hours, and its DST
handling is its own. So the structured week stays the truth, evaluated by ``hours`` with
``zoneinfo``; an OSM string is accepted only when it *is* a plain week: we evaluate it over
a reference week in naive local time, read the week off the open intervals, and check that
every week of a whole year reads the same. Anything else is refused with a message.

The export groups days with the same intervals: ``Mo-Fr 07:00-18:00; Sa 08:00-13:00;
Su off``. A past-midnight interval is written as such (``Fr 22:00-02:00``); since a later
``;`` rule for the next day would wipe its tail (the OSM rule, and the library's), the
next day's rule is joined with ``,`` (an additional rule) instead. ``24/7`` for all days
around the clock.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from fedi_town.business.hours import DAYS, MINUTES_PER_DAY

OSM_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
MAX_LENGTH = 1000

#: Parts of the grammar that cannot be a plain week whatever the year says.
_NOT_A_WEEK = re.compile(
    r"\b(PH|SH|sunrise|sunset|dawn|dusk|easter|unknown|week)\b|\"|\|\||\+|\b\d{4}\b",
    re.IGNORECASE,
)
#: A Monday; the year after it is checked to read the same each week.
_REFERENCE_MONDAY = datetime(2024, 1, 1)


class OsmHoursError(ValueError):
    """An ``opening_hours`` string that is not valid or not a plain week. Says why."""


def _time(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _day_ranges(indexes: list[int]) -> str:
    parts, run = [], [indexes[0]]
    for i in indexes[1:]:
        if i == run[-1] + 1:
            run.append(i)
        else:
            parts.append(run)
            run = [i]
    parts.append(run)
    return ",".join(
        OSM_DAYS[r[0]] if len(r) == 1 else f"{OSM_DAYS[r[0]]}-{OSM_DAYS[r[-1]]}" for r in parts
    )


def _interval_text(start: str, end: str) -> str:
    return f"{start}-{'24:00' if end == '00:00' else end}"


def week_to_osm(hours: dict[str, Any] | None) -> str | None:
    """The week as an OSM ``opening_hours`` string; None when no hours are given."""
    if not hours:
        return None
    texts = [",".join(_interval_text(s, e) for s, e in sorted(hours.get(d) or [])) for d in DAYS]
    if all(t == "00:00-24:00" for t in texts):
        return "24/7"
    spills = [
        any(e != "24:00" and e != "00:00" and e < s for s, e in hours.get(d) or []) for d in DAYS
    ]
    groups: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        groups.setdefault(text, []).append(i)
    rules = sorted(
        (indexes[0], f"{_day_ranges(indexes)} {text}") for text, indexes in groups.items() if text
    )
    closed = [i for i in groups.get("", []) if not spills[i - 1]]
    out = (", " if any(spills) else "; ").join(rule for _first, rule in rules)
    if closed:
        out += f"; {_day_ranges(closed)} off"
    return out


def osm_to_week(text: str) -> dict[str, list[list[str]]]:
    """A plain week from an OSM ``opening_hours`` string, or ``OsmHoursError`` saying why not."""
    if len(text) > MAX_LENGTH:
        raise OsmHoursError(f"longer than {MAX_LENGTH} characters")
    try:
        # The Rust extension is loaded when an owner first sends a string (idle RSS).
        import opening_hours  # deferred: the first OSM string read

        parsed = opening_hours.OpeningHours(text)
    except Exception as exc:  # the library's ParserError, missing from its type stubs
        first = str(exc).strip().splitlines()
        raise OsmHoursError(
            f"not an opening_hours expression ({first[0] if first else 'syntax'})"
        ) from None
    if found := _NOT_A_WEEK.search(str(parsed.normalize())):
        raise OsmHoursError(
            f"{found.group(0)!r} cannot be stored as a plain week; use hours and special_hours"
        )
    reference = _week_spans(parsed, _REFERENCE_MONDAY)
    for weeks in range(1, 53):
        if _week_spans(parsed, _REFERENCE_MONDAY + timedelta(weeks=weeks)) != reference:
            raise OsmHoursError(
                "differs from week to week (dates or months); use hours and special_hours"
            )
    return _week_from_spans(reference)


def _week_spans(parsed: Any, monday: datetime) -> list[tuple[int, int]]:
    """Open spans in minutes from ``monday``, over that week and the next day (for tails)."""
    spans = []
    for start, end, state, _comment in parsed.intervals(monday, monday + timedelta(days=8)):
        if str(state).lower().endswith("closed"):
            continue
        if not str(state).lower().endswith("open"):
            raise OsmHoursError("has times of unknown state; use hours and special_hours")
        spans.append(
            (int((start - monday).total_seconds()) // 60, int((end - monday).total_seconds()) // 60)
        )
    return spans


def _week_from_spans(spans: list[tuple[int, int]]) -> dict[str, list[list[str]]]:
    """Day intervals from the open spans of the reference week (plus one day).

    A span running into the next day becomes ``end < start`` when it ends before its own
    start time, else it is cut at midnight. A span at Monday 00:00 may be last Sunday's
    tail: Sunday's interval, read at the end of the window, says how much of it to skip.
    """
    week: dict[str, list[list[str]]] = {d: [] for d in DAYS}
    if spans and spans[0][0] == 0 and spans[0][1] >= 8 * MINUTES_PER_DAY:
        return {d: [["00:00", "24:00"]] for d in DAYS}
    tail = 0
    leading = None
    for start, end in spans:
        if start >= _WEEK:
            continue
        if start == 0:
            leading = (start, end)
            continue
        tail = max(tail, _emit(week, start, end) - _WEEK)
    if leading and leading[1] > tail:
        _emit(week, max(leading[0], tail), leading[1])
    return {d: sorted(v) for d, v in week.items()}


_WEEK = 7 * MINUTES_PER_DAY


def _emit(week: dict[str, list[list[str]]], start: int, end: int) -> int:
    """Put the span [start, end) into the week's days; return where the last piece ends."""
    while start < _WEEK:
        day, clock = divmod(start, MINUTES_PER_DAY)
        midnight = (day + 1) * MINUTES_PER_DAY
        if end <= midnight:
            week[DAYS[day]].append(
                [_time(clock), "24:00" if end == midnight else _time(end % MINUTES_PER_DAY)]
            )
            return end
        if end - midnight < clock:  # passes midnight and ends before its own start time
            week[DAYS[day]].append([_time(clock), _time(end - midnight)])
            return end
        week[DAYS[day]].append([_time(clock), "24:00"])
        start = midnight
    return start
