"""Opening hours: validate a business's week and special hours, evaluate them at an instant.

The stored form (docs/business-data.md) is the truth; this module reads it:

- ``hours``: ``{"mon": [["07:00", "12:30"], ["14:00", "18:00"]], ..., "sun": []}``. An
  interval belongs to the day it starts on. ``end < start`` passes midnight
  (``["22:00", "02:00"]`` closes at 2 the next morning), ``"24:00"`` (or ``"00:00"``) as an
  end is the end of the day. A missing day is closed, but an empty ``hours`` (``{}``)
  means *no hours given*: then there is no status at all (``status_at`` returns None),
  because "we don't know" must not read as "Closed".
- ``special_hours``: ``[{"start": "2026-12-24", "end": "2026-12-26", "hours": [], "label":
  "Christmas"}]`` replaces the week's intervals that *start* on those dates (``end``
  inclusive, optional: one day; ``hours: []`` closed). The past-midnight tail of the day
  before a special day still runs (a bar open Christmas Eve until 2 stays open until 2).
- The zone: an IANA name; wall-clock times are read in it, so 07:00 stays 07:00 across a
  DST change. A wall time that does not exist that day (02:30 on a spring-forward night)
  is the first instant after the gap (03:00 new time); one that happens twice (fall back)
  is the first of the two.

Evaluation looks from the day before ``now`` to ``HORIZON_DAYS`` ahead; touching or
overlapping intervals (also across midnight and across special days) are merged, so a
24-hour week reads "Open now" with no end rather than "until 0:00".

Words (decided here, used by the actor's fields, the pages and the directory):
"Open now · until 18:00" (the closing within 24 hours, else "until Tue 18:00";
"until midnight" for 24:00), "Closed · opens 7:00" (today), "Closed · opens tomorrow 7:00",
"Closed · opens Mon 7:00" (later in the horizon), "Closed" (nothing within it). Times are
H:MM on the 24-hour clock without a leading zero. Today's hours: "7:00–12:30, 14:00–18:00",
"Closed today", with a special day's label after " · " ("Closed today · Christmas").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: How far ahead "opens Mon 7:00" looks, in days.
HORIZON_DAYS = 8
#: Caps that keep evaluation cheap whatever an owner stores.
MAX_INTERVALS_PER_DAY = 12
MAX_SPECIAL_HOURS = 200
MAX_LABEL_LENGTH = 100
MINUTES_PER_DAY = 24 * 60

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SPECIAL_KEYS = frozenset({"start", "end", "hours", "label"})


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a value, at a JSON pointer (RFC 6901) from the request body."""

    pointer: str
    message: str

    def as_error(self) -> dict[str, str]:
        """The shape of ``errors`` in our problem documents."""
        return {"pointer": self.pointer, "message": self.message}


# -- validation -------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def timezone_problem(name: Any, pointer: str = "/timezone") -> Problem | None:
    """None if ``name`` is an IANA zone this server knows (``Europe/Berlin``, ``UTC``)."""
    if not isinstance(name, str) or name not in _zones():
        return Problem(pointer, "unknown time zone; use an IANA name such as Europe/Berlin")
    return None


def _minutes(text: str) -> int:
    if text == "24:00":
        return MINUTES_PER_DAY
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _interval_problems(
    intervals: Any, pointer: str
) -> tuple[list[Problem], list[tuple[int, int, str]]]:
    """Problems of one day's list, and its good intervals as (start, end, pointer) minutes.

    ``end`` is past ``MINUTES_PER_DAY`` for an interval that passes midnight.
    """
    if not isinstance(intervals, list):
        return [Problem(pointer, "must be a list of [start, end] pairs")], []
    if len(intervals) > MAX_INTERVALS_PER_DAY:
        return [Problem(pointer, f"at most {MAX_INTERVALS_PER_DAY} intervals a day")], []
    problems: list[Problem] = []
    good: list[tuple[int, int, str]] = []
    for i, pair in enumerate(intervals):
        here = f"{pointer}/{i}"
        if not (isinstance(pair, list) and len(pair) == 2):
            problems.append(Problem(here, 'must be a pair of times like ["07:00", "18:00"]'))
            continue
        start, end = pair
        bad = False
        if not (isinstance(start, str) and _TIME.match(start)):
            problems.append(Problem(f"{here}/0", "not a time of day (HH:MM, 00:00 to 23:59)"))
            bad = True
        if not (isinstance(end, str) and (end == "24:00" or _TIME.match(end))):
            problems.append(Problem(f"{here}/1", "not a time of day (HH:MM, 00:00 to 24:00)"))
            bad = True
        if bad:
            continue
        s, e = _minutes(start), _minutes(end)
        if s == e:
            problems.append(Problem(here, "starts and ends at the same time"))
            continue
        if e <= s:  # passes midnight ("00:00" as an end is the end of the day)
            e += MINUTES_PER_DAY
        good.append((s, e, here))
    return problems, good


def _overlaps(
    good: list[tuple[int, int, str]], carried_end: int, carried_from: str
) -> list[Problem]:
    """Overlaps within one day, and with the previous day's past-midnight tail."""
    problems = []
    ordered = sorted(good)
    for s, _e, here in ordered:
        if s < carried_end:
            problems.append(
                Problem(here, f"overlaps the end of {carried_from}, which passes midnight")
            )
    for (_s1, e1, p1), (s2, _e2, p2) in pairwise(ordered):
        if s2 < e1:
            problems.append(Problem(p2, f"overlaps {_label(p1)}"))
    return problems


def _label(pointer: str) -> str:
    return pointer.removeprefix("/")


def hours_problems(hours: Any, pointer: str = "/hours") -> list[Problem]:
    """What is wrong with a week: unknown days, impossible times, empty or overlapping intervals.

    An interval passing midnight may not overlap the next day's first one (Sunday's tail
    runs into Monday).
    """
    if hours is None:
        return []
    if not isinstance(hours, Mapping):
        return [Problem(pointer, "must be an object with the keys mon … sun")]
    problems: list[Problem] = []
    days: dict[str, list[tuple[int, int, str]]] = {}
    for key, intervals in hours.items():
        if key not in DAYS:
            problems.append(
                Problem(f"{pointer}/{key}", "unknown day; use mon, tue, wed, thu, fri, sat, sun")
            )
            continue
        found, good = _interval_problems(intervals, f"{pointer}/{key}")
        problems += found
        days[key] = good
    for i, key in enumerate(DAYS):
        previous = days.get(DAYS[i - 1], [])
        tail = max((e - MINUTES_PER_DAY for _s, e, _p in previous), default=0)
        tail_from = next((_label(p) for _s, e, p in previous if e - MINUTES_PER_DAY == tail), "")
        problems += _overlaps(days.get(key, []), tail, tail_from)
    return problems


def _parse_date(text: Any) -> date | None:
    if not (isinstance(text, str) and _DATE.match(text)):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def special_hours_problems(special: Any, pointer: str = "/special_hours") -> list[Problem]:
    """What is wrong with the dated overrides: bad dates, an end before its start, bad hours,
    two entries covering the same date."""
    if special is None:
        return []
    if not isinstance(special, list):
        return [Problem(pointer, "must be a list of {start, end, hours, label}")]
    if len(special) > MAX_SPECIAL_HOURS:
        return [Problem(pointer, f"at most {MAX_SPECIAL_HOURS} entries")]
    problems: list[Problem] = []
    ranges: list[tuple[date, date, str]] = []
    for i, entry in enumerate(special):
        here = f"{pointer}/{i}"
        if not isinstance(entry, Mapping):
            problems.append(Problem(here, "must be an object {start, end, hours, label}"))
            continue
        problems += [Problem(f"{here}/{k}", "unknown key") for k in entry if k not in _SPECIAL_KEYS]
        start = _parse_date(entry.get("start"))
        if start is None:
            problems.append(Problem(f"{here}/start", "not a date (YYYY-MM-DD)"))
        end = start
        if entry.get("end") is not None:
            end = _parse_date(entry["end"])
            if end is None:
                problems.append(Problem(f"{here}/end", "not a date (YYYY-MM-DD)"))
            elif start is not None and end < start:
                problems.append(Problem(f"{here}/end", "ends before it starts"))
                end = None
        if "hours" not in entry:
            problems.append(Problem(f"{here}/hours", "missing; [] means closed"))
        else:
            found, good = _interval_problems(entry["hours"], f"{here}/hours")
            problems += found + _overlaps(good, 0, "")
        label = entry.get("label")
        if label is not None and not (isinstance(label, str) and len(label) <= MAX_LABEL_LENGTH):
            problems.append(
                Problem(f"{here}/label", f"text of at most {MAX_LABEL_LENGTH} characters")
            )
        if start is not None and end is not None:
            ranges.append((start, end, here))
    ranges.sort()
    for (_s1, e1, p1), (s2, _e2, p2) in pairwise(ranges):
        if s2 <= e1:
            problems.append(Problem(p2, f"overlaps the dates of {_label(p1)}"))
    return problems


def schedule_problems(hours: Any, special_hours: Any, timezone: Any) -> list[Problem]:
    """Every problem of the three values together, with pointers from the request body."""
    problems = hours_problems(hours) + special_hours_problems(special_hours)
    if timezone is not None and (problem := timezone_problem(timezone)):
        problems.append(problem)
    return problems


# -- the schedule -----------------------------------------------------------------------

Interval = tuple[int, int]  # minutes from the day's midnight; end > 1440 passes midnight


@dataclass(frozen=True)
class Special:
    start: date
    end: date
    intervals: tuple[Interval, ...]
    label: str | None


def _intervals(pairs: Sequence[Sequence[str]]) -> tuple[Interval, ...]:
    out = []
    for start, end in pairs:
        s, e = _minutes(start), _minutes(end)
        out.append((s, e + MINUTES_PER_DAY if e <= s else e))
    return tuple(sorted(out))


def zone(name: str | None, default_zone: str) -> ZoneInfo:
    """The zone ``name`` (a business's), else ``default_zone`` (the instance's,
    ``settings.timezone``), also for a name this server's tzdata no longer knows."""
    try:
        return ZoneInfo(name or default_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default_zone)


def business_zone(business: Any, default_zone: str) -> ZoneInfo:
    """The zone a business's times are read and shown in: its own (``timezone``), else
    ``default_zone``. The one way to ask; ``Schedule.from_business`` uses it too."""
    return zone(business.timezone, default_zone)


@dataclass(frozen=True)
class Schedule:
    """A business's hours, ready to evaluate. Build with ``from_values`` or ``from_business``
    from values that passed ``schedule_problems``."""

    week: tuple[tuple[Interval, ...], ...]  # Monday first
    special: tuple[Special, ...]
    zone: ZoneInfo
    #: False when no weekly hours are given: no status, not "Closed"
    has_hours: bool

    @classmethod
    def from_values(
        cls,
        hours: Mapping[str, Any] | None,
        special_hours: Sequence[Mapping[str, Any]] | None,
        timezone: str | None,
        default_zone: str = "UTC",
    ) -> Schedule:
        hours = hours or {}
        week = tuple(_intervals(hours.get(day) or []) for day in DAYS)
        special = []
        for entry in special_hours or []:
            start = date.fromisoformat(entry["start"])
            end = date.fromisoformat(entry["end"]) if entry.get("end") else start
            special.append(Special(start, end, _intervals(entry["hours"]), entry.get("label")))
        return cls(
            week=week,
            special=tuple(sorted(special, key=lambda s: s.start)),
            zone=zone(timezone, default_zone),
            has_hours=bool(hours),
        )

    @classmethod
    def from_business(cls, business: Any, default_zone: str = "UTC") -> Schedule:
        """From anything with ``hours``, ``special_hours`` and ``timezone`` attributes
        (``store.businesses.Business``); ``default_zone`` is ``settings.timezone``."""
        return cls.from_values(
            business.hours, business.special_hours, business.timezone, default_zone
        )

    def special_on(self, day: date) -> Special | None:
        for entry in self.special:
            if entry.start <= day <= entry.end:
                return entry
        return None

    def intervals_on(self, day: date) -> tuple[Interval, ...]:
        """The intervals starting on a local date: special hours if any cover it, else the week."""
        special = self.special_on(day)
        return special.intervals if special else self.week[day.weekday()]


# -- wall time to instants --------------------------------------------------------------


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def wall_to_ms(day: date, minutes: int, zone: ZoneInfo) -> int:
    """The instant a wall clock in ``zone`` shows ``minutes`` after midnight of ``day``.

    Minutes past 1440 fall on the next days. Ambiguous (fall back): the first occurrence.
    Non-existent (spring forward): the first instant after the gap.
    """
    day = day + timedelta(days=minutes // MINUTES_PER_DAY)
    minutes %= MINUTES_PER_DAY
    wall = datetime(day.year, day.month, day.day, minutes // 60, minutes % 60)
    first = wall.replace(tzinfo=zone, fold=0)
    instant = _ms(first)
    back = datetime.fromtimestamp(instant / 1000, zone).replace(tzinfo=None)
    if back == wall:
        return instant
    # In a gap: fold=1 read it with the offset after the change (an instant before the
    # change), fold=0 with the one before (an instant after it); the change lies between
    # and is the first instant after the gap. Zone changes fall on whole seconds.
    low = _ms(wall.replace(tzinfo=zone, fold=1)) // 1000
    high = instant // 1000
    before = datetime.fromtimestamp(low, zone).utcoffset()
    while high - low > 1:
        mid = (low + high) // 2
        if datetime.fromtimestamp(mid, zone).utcoffset() == before:
            low = mid
        else:
            high = mid
    return high * 1000


def local_date(ms: int, zone: ZoneInfo) -> date:
    return datetime.fromtimestamp(ms / 1000, zone).date()


def _to_ms(now: int | datetime) -> int:
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise ValueError("an aware datetime is needed")
        return _ms(now)
    return now


def _spans(schedule: Schedule, first: date, days: int) -> list[tuple[int, int]]:
    """Open spans as epoch ms for intervals starting on ``first`` .. ``first + days``, merged."""
    spans = []
    for offset in range(days + 1):
        day = first + timedelta(days=offset)
        for s, e in schedule.intervals_on(day):
            spans.append((wall_to_ms(day, s, schedule.zone), wall_to_ms(day, e, schedule.zone)))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if e <= s:
            continue  # a wall interval swallowed by a DST gap
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


# -- status -----------------------------------------------------------------------------


def clock_text(ms: int, zone: ZoneInfo) -> str:
    """H:MM on the 24-hour clock, no leading zero: "7:00", "18:30"."""
    moment = datetime.fromtimestamp(ms / 1000, zone)
    return f"{moment.hour}:{moment.minute:02d}"


def _minutes_text(minutes: int) -> str:
    minutes %= MINUTES_PER_DAY
    return f"{minutes // 60}:{minutes % 60:02d}"


@dataclass(frozen=True)
class Status:
    """Open or closed at an instant, and until when (epoch ms, None beyond the horizon)."""

    open: bool
    #: "Open now · until 18:00", "Closed · opens Mon 7:00"
    text: str
    #: when ``open`` flips next; None when it does not within ``HORIZON_DAYS``
    changes_at: int | None


def _when(ms: int, now_ms: int, zone: ZoneInfo, *, closing: bool) -> str:
    today = local_date(now_ms, zone)
    moment = datetime.fromtimestamp(ms / 1000, zone)
    clock = clock_text(ms, zone)
    if closing:
        if moment.hour == 0 and moment.minute == 0 and ms - now_ms <= 86_400_000:
            return "midnight"
        if ms - now_ms < 86_400_000:
            return clock
        return f"{DAY_NAMES[moment.weekday()]} {clock}"
    if moment.date() == today:
        return clock
    if moment.date() == today + timedelta(days=1):
        return f"tomorrow {clock}"
    return f"{DAY_NAMES[moment.weekday()]} {clock}"


def status_at(schedule: Schedule, now: int | datetime) -> Status | None:
    """Open now? Until when, or when it opens. None when the business gave no weekly hours."""
    if not schedule.has_hours:
        return None
    now_ms = _to_ms(now)
    today = local_date(now_ms, schedule.zone)
    for s, e in _spans(schedule, today - timedelta(days=1), HORIZON_DAYS + 1):
        if s <= now_ms < e:
            horizon_end = wall_to_ms(today + timedelta(days=HORIZON_DAYS), 0, schedule.zone)
            if e >= horizon_end:
                return Status(True, "Open now", None)
            closes = _when(e, now_ms, schedule.zone, closing=True)
            return Status(True, f"Open now · until {closes}", e)
        if s > now_ms:
            if local_date(s, schedule.zone) > today + timedelta(days=HORIZON_DAYS - 1):
                break
            return Status(
                False, f"Closed · opens {_when(s, now_ms, schedule.zone, closing=False)}", s
            )
    return Status(False, "Closed", None)


def next_change_ms(schedule: Schedule, now: int | datetime, notice_until: int | None = None) -> int:
    """The next instant any time-dependent text can change: open/close, the next local
    midnight (today's hours change then), or a notice expiring. A worker sleeps until then."""
    now_ms = _to_ms(now)
    today = local_date(now_ms, schedule.zone)
    candidates = [wall_to_ms(today + timedelta(days=1), 0, schedule.zone)]
    status = status_at(schedule, now_ms)
    if status is not None and status.changes_at is not None:
        candidates.append(status.changes_at)
    if notice_until is not None and notice_until > now_ms:
        candidates.append(notice_until)
    return min(c for c in candidates if c > now_ms)


# -- a day's hours and the week -----------------------------------------------------------


@dataclass(frozen=True)
class DayHours:
    """The hours of one local date."""

    day: date
    #: the intervals starting this day as wall text: [("7:00", "12:30"), ("22:00", "2:00")]
    intervals: tuple[tuple[str, str], ...]
    #: the end of the previous day's interval past midnight ("2:00"), or None
    carried_until: str | None
    #: the special-hours label ("Christmas"), or None
    label: str | None
    special: bool

    @property
    def closed(self) -> bool:
        return not self.intervals

    @property
    def text(self) -> str:
        """ "7:00–12:30, 14:00–18:00" or "Closed"; the label after " · " on special days."""
        body = ", ".join(f"{s}–{e}" for s, e in self.intervals) or "Closed"
        return f"{body} · {self.label}" if self.label else body


def hours_on(schedule: Schedule, day: date) -> DayHours:
    """The hours of a local date, with special hours applied."""
    special = schedule.special_on(day)
    intervals = tuple(
        (_minutes_text(s), "24:00" if e == MINUTES_PER_DAY else _minutes_text(e))
        for s, e in schedule.intervals_on(day)
    )
    previous = schedule.intervals_on(day - timedelta(days=1))
    tail = max((e - MINUTES_PER_DAY for _s, e in previous if e > MINUTES_PER_DAY), default=0)
    return DayHours(
        day=day,
        intervals=intervals,
        carried_until=_minutes_text(tail) if tail else None,
        label=special.label if special else None,
        special=special is not None,
    )


def today_text(schedule: Schedule, now: int | datetime) -> str | None:
    """Today's hours in words: "7:00–12:30, 14:00–18:00", "Closed today",
    "Closed today · Christmas". None when no hours are given and today is not special."""
    day = local_date(_to_ms(now), schedule.zone)
    hours = hours_on(schedule, day)
    if not schedule.has_hours and not hours.special:
        return None
    if hours.closed:
        return f"Closed today · {hours.label}" if hours.label else "Closed today"
    return hours.text


@dataclass(frozen=True)
class WeekRow:
    """One row of an hours table."""

    day: date
    #: "Mon"
    name: str
    #: "7:00–18:00", "Closed", "10:00–14:00 · Christmas Eve"
    text: str
    today: bool
    special: bool


def week_rows(schedule: Schedule, now: int | datetime) -> list[WeekRow]:
    """The seven days from today, with special hours applied (what will actually happen)."""
    today = local_date(_to_ms(now), schedule.zone)
    rows = []
    for offset in range(7):
        hours = hours_on(schedule, today + timedelta(days=offset))
        rows.append(
            WeekRow(
                day=hours.day,
                name=DAY_NAMES[hours.day.weekday()],
                text=hours.text,
                today=offset == 0,
                special=hours.special,
            )
        )
    return rows


def regular_rows(schedule: Schedule) -> list[tuple[str, str]]:
    """The plain week, Monday first: [("Mon", "7:00–18:00"), ..., ("Sun", "Closed")]."""
    rows = []
    for name, intervals in zip(DAY_NAMES, schedule.week, strict=True):
        text = ", ".join(
            f"{_minutes_text(s)}–{'24:00' if e == MINUTES_PER_DAY else _minutes_text(e)}"
            for s, e in intervals
        )
        rows.append((name, text or "Closed"))
    return rows


def utc_iso(ms: int) -> str:
    """An instant as ISO 8601 in UTC with a Z, to the second."""
    return (
        datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


__all__ = [
    "DAYS",
    "DAY_NAMES",
    "HORIZON_DAYS",
    "DayHours",
    "Problem",
    "Schedule",
    "Special",
    "Status",
    "WeekRow",
    "clock_text",
    "hours_on",
    "hours_problems",
    "local_date",
    "next_change_ms",
    "regular_rows",
    "schedule_problems",
    "special_hours_problems",
    "status_at",
    "timezone_problem",
    "today_text",
    "wall_to_ms",
    "week_rows",
]
