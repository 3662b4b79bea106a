"""iCalendar files built by read.calendar, parsed back with icalendar: zones (with their
VTIMEZONE, DST included), UTC, places with coordinates, several events in one file."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import icalendar

from fedi_town.protocol.events import Place
from fedi_town.read.calendar import CalendarEvent, calendar


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def an_event(uid: str, start: str, end: str, zone: str, place: Place | None = None):
    return CalendarEvent(
        uid=uid,
        url=f"{uid}/page",
        title=f"Event {uid[-1]}",
        description="Line one\nLine two, with a comma; and semicolon",
        starts_ms=ms(start),
        ends_ms=ms(end),
        tz=ZoneInfo(zone),
        place=place,
        updated_ms=ms("2026-11-01T00:00:00+00:00"),
    )


def test_an_event_in_a_zone_keeps_its_wall_time_on_both_sides_of_dst():
    summer = an_event(
        "https://t/e/1", "2026-07-04T10:00+02:00", "2026-07-04T12:00+02:00", "Europe/Berlin"
    )
    winter = an_event(
        "https://t/e/2", "2026-12-12T10:00+01:00", "2026-12-12T12:00+01:00", "Europe/Berlin"
    )
    cal = icalendar.Calendar.from_ical(calendar([summer, winter], name="Bakery"))
    starts = [e.decoded("dtstart") for e in cal.walk("VEVENT")]
    assert [(s.hour, s.utcoffset().total_seconds() / 3600) for s in starts] == [(10, 2), (10, 1)]
    [tz] = cal.walk("VTIMEZONE")
    assert str(tz["tzid"]) == "Europe/Berlin"
    assert str(cal["x-wr-calname"]) == "Bakery"
    first = cal.walk("VEVENT")[0]
    assert str(first["description"]) == "Line one\nLine two, with a comma; and semicolon"


def test_utc_is_written_without_a_timezone_block_and_geo_is_kept():
    place = Place(name="Hall", locality="Bristol", latitude=51.45, longitude=-2.58)
    event = an_event(
        "https://t/e/1", "2026-12-12T10:00+00:00", "2026-12-12T12:00+00:00", "UTC", place
    )
    cal = icalendar.Calendar.from_ical(calendar([event], name="X"))
    [vevent] = cal.walk("VEVENT")
    assert vevent.decoded("dtstart") == datetime(2026, 12, 12, 10, tzinfo=UTC)
    assert cal.walk("VTIMEZONE") == []
    assert str(vevent["location"]) == "Hall, Bristol"
    geo = vevent["geo"]
    assert (geo.latitude, geo.longitude) == (51.45, -2.58)


def test_an_empty_calendar_is_still_a_valid_file():
    cal = icalendar.Calendar.from_ical(calendar([], name="Nothing yet"))
    assert cal.walk("VEVENT") == [] and str(cal["version"]) == "2.0"
