"""iCalendar files (RFC 5545) of events, made with the ``icalendar`` library.

One VEVENT per event: UID is the event's ActivityPub id (stable, unique across servers),
DTSTART/DTEND carry the business's zone (TZID, with a VTIMEZONE built from zoneinfo for
the years the events span; UTC is written with ``Z``), SUMMARY the title, DESCRIPTION the
text as plain text, LOCATION the place on one line (and GEO when known), URL the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo

from fedi_town.protocol.events import Place

PRODID = "-//fedi-town//events//EN"
MEDIA_TYPE = "text/calendar; charset=utf-8"


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    url: str
    title: str
    description: str
    starts_ms: int
    ends_ms: int
    tz: ZoneInfo
    place: Place | None
    updated_ms: int


def _at(ms: int, tz: tzinfo) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(tz)


def calendar(events: Sequence[CalendarEvent], *, name: str) -> bytes:
    """A VCALENDAR named ``name`` holding ``events``."""
    # icalendar (~8 MB) is imported with the first calendar served (idle RSS target: 80 MB).
    import icalendar  # deferred: first calendar only

    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    for e in events:
        item = icalendar.Event()
        item.add("uid", e.uid)
        item.add("dtstamp", _at(e.updated_ms, UTC))
        item.add("last-modified", _at(e.updated_ms, UTC))
        item.add("dtstart", _at(e.starts_ms, e.tz))
        item.add("dtend", _at(e.ends_ms, e.tz))
        item.add("summary", e.title)
        if e.description:
            item.add("description", e.description)
        if e.place is not None and e.place.text:
            item.add("location", e.place.text)
        if e.place is not None and e.place.has_coordinates:
            assert e.place.latitude is not None and e.place.longitude is not None
            item.add("geo", (e.place.latitude, e.place.longitude))
        item.add("url", e.url)
        cal.add_component(item)
    if events:
        first = min(_at(e.starts_ms, UTC).year for e in events)
        last = max(_at(e.ends_ms, UTC).year for e in events)
        cal.add_missing_timezones(
            first_date=date(first - 1, 1, 1), last_date=date(last + 1, 12, 31)
        )
    return bytes(cal.to_ical())
