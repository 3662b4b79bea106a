"""The business page's forms as the admin API's JSON, and the API's answers as sentences.

Each section of ``/app/{username}/business`` (and each offer or event form) posts its own
small form. Here a form becomes exactly the body ``PATCH /api/v1/businesses/{username}``
(or the offers and events API) takes, with light tidying a phone keyboard needs (``7:00``
is ``07:00``, ``3,50`` is ``3.50``, ``example.com`` is ``https://example.com``); every rule
stays the API's. A ``Converted`` remembers which form field each part of the body came
from, so an error at a JSON pointer (``/hours/mon/0/1``) lands next to the input it was
typed in (``hours.mon.1.1`` when the first row of Monday was left empty). ``plain`` turns
the API's messages, some written for programmers (a JSON Schema's ``'' does not match
'^…$'``), into a sentence for a shop owner.

The API's values go the other way with ``*_values``: the flat ``{input name: text}`` a
page fills its inputs from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from fedi_town.business.categories import CATEGORIES
from fedi_town.business.hours import DAYS, MAX_INTERVALS_PER_DAY

DAY_WORDS = dict(
    zip(
        DAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)
#: Rows of opening times a day shows with nothing typed yet ("7-12 and 14-18" fits).
SLOTS = 2
LOCATION_KEYS = ("street_address", "postal_code", "locality", "region", "country")
PROFILE_TEXT = ("display_name", "summary", "website", "phone", "email", "category", "price_range")
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")


@dataclass(frozen=True)
class Converted:
    """A form as an API body, and how to find the form field behind an API error."""

    body: dict[str, Any]
    #: API field name (``hours.mon.0``) -> form field name (``hours.mon.1``); the longest
    #: prefix that matches a name is replaced
    renames: Mapping[str, str] = field(default_factory=dict)
    #: what could not even be put to the API ({form field: sentence}); then nothing is sent
    problems: Mapping[str, str] = field(default_factory=dict)

    def form_name(self, api_name: str) -> str:
        """The form field an API error at ``api_name`` belongs to."""
        parts = api_name.split(".")
        for cut in range(len(parts), 0, -1):
            prefix = ".".join(parts[:cut])
            if prefix in self.renames:
                return ".".join([self.renames[prefix], *parts[cut:]])
        return api_name

    def errors(self, api_errors: Mapping[str, str]) -> dict[str, str]:
        """The API's field errors under form field names, in plain words."""
        found: dict[str, str] = {}
        for name, message in api_errors.items():
            found.setdefault(self.form_name(name), plain(name, message))
        return found


# -- tidying what a phone keyboard types -------------------------------------------------

_TIME = re.compile(r"^(\d{1,2})[:.h](\d{2})(?::\d{2}(?:\.\d+)?)?$")


def text(form: Mapping[str, Any], name: str) -> str:
    """A text field, trimmed ("" when absent or a file)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def optional(form: Mapping[str, Any], name: str) -> str | None:
    """A text field, or None when left empty (the API's "clear it")."""
    return text(form, name) or None


def ticked(form: Mapping[str, Any], name: str) -> bool:
    return bool(text(form, name))


def clock_time(raw: str) -> str:
    """``07:00`` for ``7:00``, ``7.00``, ``07:00:00``; anything else as typed (the API
    says what is wrong with it)."""
    found = _TIME.match(raw.strip())
    if not found:
        return raw.strip()
    return f"{int(found.group(1)):02d}:{found.group(2)}"


def web_address(raw: str) -> str | None:
    """``https://example.com`` for ``example.com``; None for nothing."""
    raw = raw.strip()
    if not raw:
        return None
    if "://" not in raw and "." in raw and " " not in raw:
        return "https://" + raw
    return raw


def number(raw: str) -> float | str | None:
    """A coordinate: a number (``52,52`` is 52.52), None for nothing, else the text as typed
    (the API says it is not a number)."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        return float(raw.replace(",", "."))
    except ValueError:
        return raw


def price(raw: str) -> str | None:
    """``3.50`` for ``3,50`` or ``€3.50``: digits and one decimal point, else as typed."""
    raw = raw.strip().replace(" ", "")
    if not raw:
        return None
    tidy = raw.lstrip("€$£¥").replace(",", ".")
    return tidy if re.fullmatch(r"\d+(\.\d+)?", tidy) else raw


def local_moment(raw: str, zone: ZoneInfo) -> str | None:
    """An ``<input type=datetime-local>`` (``2026-12-24T18:00``) as ISO 8601 with the
    offset of ``zone`` on that day; None for nothing; unreadable text as typed."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return raw
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.isoformat(timespec="seconds")


def input_moment(iso: str | None) -> str:
    """An API time (``2026-12-24T18:00:00+01:00``, already in the business's zone) as the
    value of an ``<input type=datetime-local>``: ``2026-12-24T18:00``."""
    return iso[:16] if iso else ""


# -- the business page's sections ----------------------------------------------------------


def tag_words(raw: str) -> list[str]:
    """Hashtags typed in one box, ``#bread #cakes`` or ``bread, cakes``: the words, in order
    (the API takes them with or without ``#`` and judges each)."""
    return [word for word in re.split(r"[\s,]+", raw) if word.strip("#")]


def profile_body(form: Mapping[str, Any]) -> Converted:
    """Name, bio, contact, category, prices and featured hashtags (the photos are uploaded
    on their own)."""
    tags = tag_words(text(form, "featured_tags"))
    body: dict[str, Any] = {
        "display_name": " ".join(text(form, "display_name").split()),
        "summary": text(form, "summary"),
        "website": web_address(text(form, "website")),
        "phone": optional(form, "phone"),
        "email": optional(form, "email"),
        "category": optional(form, "category"),
        "price_range": optional(form, "price_range"),
        "featured_tags": tags,
    }
    renames = {"avatar_media_id": "avatar", "header_media_id": "header"}
    renames |= {f"featured_tags.{n}": "featured_tags" for n in range(len(tags))}
    return Converted(body, renames)


def place_body(form: Mapping[str, Any]) -> Converted:
    """The address (and map point), with or without a service area."""
    location: dict[str, Any] = {key: optional(form, f"location.{key}") for key in LOCATION_KEYS}
    if location["country"]:
        location["country"] = location["country"].upper()
    location["latitude"] = number(text(form, "location.latitude"))
    location["longitude"] = number(text(form, "location.longitude"))
    area = None
    problems = {}
    if text(form, "place_kind") == "area":
        area = " ".join(text(form, "service_area").split())
        if not area:
            problems["service_area"] = (
                "Say where you work, for example “Bristol and 10 miles around”."
            )
    body = {"location": location, "service_area": area}
    return Converted(body, problems=problems)


def _intervals(
    form: Mapping[str, Any], prefix: str, api_prefix: str
) -> tuple[list[Any], dict[str, str]]:
    """The rows ``{prefix}.{slot}.0`` (opens) and ``.1`` (closes) that have anything typed,
    and the renames from their place in the list to their row."""
    intervals: list[list[str]] = []
    renames: dict[str, str] = {}
    for slot in range(MAX_INTERVALS_PER_DAY):
        opens = clock_time(text(form, f"{prefix}.{slot}.0"))
        closes = clock_time(text(form, f"{prefix}.{slot}.1"))
        if not opens and not closes:
            continue
        renames[f"{api_prefix}.{len(intervals)}"] = f"{prefix}.{slot}"
        intervals.append([opens, closes])
    return intervals, renames


def week_body(form: Mapping[str, Any]) -> Converted:
    """The week: per day its rows of times, or "closed" (not both: which one was meant?).
    A day with nothing is closed; a week with nothing at all is "no hours given" (``{}``:
    no open/closed line anywhere)."""
    week: dict[str, list[Any]] = {}
    renames: dict[str, str] = {}
    problems: dict[str, str] = {}
    given = False
    for day in DAYS:
        intervals, found = _intervals(form, f"hours.{day}", f"hours.{day}")
        if ticked(form, f"hours.{day}.closed") and intervals:
            problems[f"hours.{day}"] = "Untick “Closed”, or clear the times."
        week[day] = intervals
        renames |= found
        given = given or bool(intervals) or ticked(form, f"hours.{day}.closed")
    return Converted({"hours": week if given else {}}, renames, problems)


def special_entry(form: Mapping[str, Any]) -> Converted:
    """One dated change of the hours (``special.*``) as an entry of ``special_hours``,
    with renames relative to ``special``."""
    entry: dict[str, Any] = {
        "start": text(form, "special.start"),
        "end": optional(form, "special.end"),
        "hours": [],
        "label": optional(form, "special.label"),
    }
    problems = {}
    intervals, renames = _intervals(form, "special.hours", "hours")
    if text(form, "special.kind") == "open":
        entry["hours"] = intervals
        if not intervals:
            problems["special.hours.0"] = "Give the opening times, or choose “Closed all day”."
    elif intervals:
        problems["special.hours.0"] = "Choose “Open at these times”, or clear the times."
    return Converted(entry, renames, problems)


def special_body(form: Mapping[str, Any], existing: list[dict[str, Any]]) -> Converted:
    """``special_hours`` with one more entry, after those already set; an error about
    another entry (its dates overlap the new one's) goes next to the new dates."""
    entry = special_entry(form)
    new = len(existing)
    renames = {f"special_hours.{i}": "special.start" for i in range(new)}
    renames[f"special_hours.{new}"] = "special"
    for api_name, name in entry.renames.items():
        renames[f"special_hours.{new}.{api_name}"] = name
    return Converted({"special_hours": [*existing, entry.body]}, renames, entry.problems)


def timezone_body(form: Mapping[str, Any]) -> Converted:
    return Converted({"timezone": optional(form, "timezone")})


def notice_body(form: Mapping[str, Any], zone: ZoneInfo) -> Converted:
    """The notice and when it ends (a local date and time in the business's zone), or
    none (``action=clear``)."""
    if text(form, "action") == "clear":
        return Converted({"notice": None})
    notice = {
        "text": " ".join(text(form, "notice.text").split()),
        "until": local_moment(text(form, "notice.until"), zone),
    }
    return Converted({"notice": notice})


def directory_body(form: Mapping[str, Any]) -> Converted:
    return Converted({"in_directory": ticked(form, "in_directory")})


def quotes_body(form: Mapping[str, Any]) -> Converted:
    """Who may quote the business's posts; an unknown choice is sent as typed, for the API
    to refuse by name."""
    return Converted({"quote_policy": text(form, "quote_policy")})


# -- the API's values in the inputs --------------------------------------------------------


def _clock(value: str) -> str:
    """A stored time as an ``<input type=time>`` value: 24:00 (end of the day) is 00:00."""
    return "00:00" if value == "24:00" else value


def business_values(view: Mapping[str, Any], zone: ZoneInfo) -> dict[str, str]:
    """Every input of the business page, filled from ``GET /api/v1/businesses/{u}``."""
    values = {key: str(view.get(key) or "") for key in PROFILE_TEXT}
    values["featured_tags"] = " ".join(f"#{tag}" for tag in view.get("featured_tags") or [])
    location = view.get("location") or {}
    for key in (*LOCATION_KEYS, "latitude", "longitude"):
        found = location.get(key)
        values[f"location.{key}"] = "" if found is None else str(found)
    values["service_area"] = view.get("service_area") or ""
    values["place_kind"] = "area" if view.get("service_area") else "shop"
    week = view.get("hours") or {}
    for day in DAYS:
        intervals = week.get(day) or []
        values[f"hours.{day}.closed"] = "1" if week and not intervals else ""
        for slot, (opens, closes) in enumerate(intervals):
            values[f"hours.{day}.{slot}.0"] = _clock(opens)
            values[f"hours.{day}.{slot}.1"] = _clock(closes)
    values["timezone"] = view.get("timezone") or ""
    notice = view.get("notice") or {}
    values["notice.text"] = notice.get("text") or ""
    until = notice.get("until")
    if until:
        moment = datetime.fromisoformat(until.replace("Z", "+00:00")).astimezone(zone)
        values["notice.until"] = moment.isoformat(timespec="minutes")[:16]
    else:
        values["notice.until"] = ""
    values["in_directory"] = "1" if view.get("in_directory", True) else ""
    values["quote_policy"] = str(view.get("quote_policy") or "anyone")
    values["special.kind"] = "closed"
    values["also_known_as"] = "\n".join(view.get("also_known_as") or [])
    return values


def posted_values(form: Mapping[str, Any], prefixes: tuple[str, ...]) -> dict[str, str]:
    """The text fields of a posted form whose names start with one of ``prefixes``."""
    return {
        name: value
        for name, value in form.items()
        if isinstance(value, str) and name != "csrf" and name.startswith(prefixes)
    }


def slots_of(values: Mapping[str, str], prefix: str) -> int:
    """How many rows of times to show under ``prefix`` (``hours.mon``): those filled, and
    at least ``SLOTS``."""
    pattern = re.compile(re.escape(prefix) + r"\.(\d+)\.[01]$")
    used = [int(m.group(1)) + 1 for name in values if (m := pattern.match(name)) and values[name]]
    return min(max([SLOTS, *used]), MAX_INTERVALS_PER_DAY)


# -- choices ---------------------------------------------------------------------------

#: The regions of the IANA zones people pick from (not the old aliases: US/Eastern, Etc/…).
ZONE_REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


@lru_cache(maxsize=1)
def zone_groups() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``(("Africa", ("Africa/Abidjan", …)), …)``: the zones a ``<select>`` offers."""
    names = available_timezones()
    return tuple(
        (region, tuple(sorted(n for n in names if n.startswith(region + "/"))))
        for region in ZONE_REGIONS
    )


def category_choices() -> list[tuple[str, str]]:
    """``[("CafeOrCoffeeShop", "Café"), …]`` in the order of their labels."""
    return sorted(((c.name, c.label) for c in CATEGORIES.values()), key=lambda c: c[1].lower())


# -- plain words ---------------------------------------------------------------------------

#: A JSON Schema ``pattern`` failure, by the field it is about.
_FORMAT_HINTS = (
    (r"(^|\.)website$", "Give the whole web address, like https://example.com."),
    (r"(^|\.)email$", "An email address looks like name@example.com."),
    (r"(^|\.)country$", "Two capital letters for the country, like DE, FR or GB."),
    (r"(^|\.)price$", "A price is a number like 3.50."),
    (r"(^|\.)currency$", "Three capital letters for the currency, like EUR or GBP."),
    (r"hours\.\w+\.\d+\.[01]$", "A time of day, like 07:30."),
    (r"(^|\.)(start|end)$", "A date, like 2026-12-24."),
    (r"media_id$", "This photo could not be found. Choose it again."),
)
#: The API's own sentences that need other words for a shop owner.
_AFTER = "The end has to come after the start."
_DATE_TIME = "A date and time, like 2026-12-24 18:00."
_PHOTO_GONE = "This photo could not be found. Choose it again."
_SENTENCES = (
    (r"^valid_until is not in the future$", "The end has to be in the future."),
    (r"^valid_until is not after valid_from$", _AFTER),
    (r"^end is not after start$", _AFTER),
    (r"^end is in the past$", "This is in the past: the end has to be in the future."),
    (r"^is in the past$", "This is in the past."),
    (r"^a price needs a currency", "A price needs a currency, like EUR."),
    (r"^unknown time zone", "We do not know this time zone. Pick one from the list."),
    (r"^starts and ends at the same time$", "Opens and closes at the same time."),
    (r"^ends before it starts$", "The last day comes before the first."),
    (r"^not a date \(YYYY-MM-DD\)$", "A date, like 2026-12-24."),
    (r"^not a time of day", "A time of day, like 07:30."),
    (r"^latitude and longitude come together$", "Give both the latitude and the longitude."),
    (
        r"^give both latitude and longitude, or neither$",
        "Give both the latitude and the longitude.",
    ),
    (r"^a place needs a name$", "Give the place a name."),
    (r"^title is empty$", "Fill this in."),
    (r"^not a date and time with an offset", _DATE_TIME),
    (r"^\w+ is not an ISO 8601 date and time", _DATE_TIME),
    (r"^\w+ is out of range$", "This date is too far away."),
    (r"^unknown media id$", _PHOTO_GONE),
    (r"^no media \d+ uploaded by this business$", _PHOTO_GONE),
    (r"^media \d+ is not an image$", "This file is not a photo."),
    (r"^media \d+ is attached to another post$", "This photo is already in a post."),
    (r"^overlaps the dates of special_hours/\d+$", "These dates overlap other special days."),
    (r"^not a schema\.org LocalBusiness type we know$", "Pick one from the list."),
)


def _times_words(pointer: str) -> str:
    """``hours/mon/0`` -> "Monday's first opening times"."""
    parts = pointer.split("/")
    if len(parts) == 3 and parts[1] in DAY_WORDS and parts[2].isdigit():
        index = int(parts[2])
        ordinal = _ORDINALS[index] if index < len(_ORDINALS) else f"number {index + 1}"
        return f"{DAY_WORDS[parts[1]]}’s {ordinal} opening times"
    return "other opening times"


def _sentence(message: str) -> str:
    message = message.strip()
    if not message:
        return "This was not accepted."
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


def plain(name: str, message: str) -> str:
    """The API's ``message`` about the field ``name`` (``hours.mon.0.1``) as a sentence for
    a shop owner."""
    if message.startswith("''") and (
        "non-empty" in message or "too short" in message or "does not match" in message
    ):
        return "Fill this in."
    if message.endswith("is too long"):
        return "This is too long."
    if message.endswith(("should be non-empty", "is too short")):
        return "Fill this in."
    if "does not match" in message:
        for pattern, hint in _FORMAT_HINTS:
            if re.search(pattern, name):
                return hint
        return "This is not in a form we can read."
    if "is not of type 'number'" in message:
        return "A number, like 52.5200."
    if "is not one of" in message:
        return "Pick one from the list."
    for pattern, words in _SENTENCES:
        if re.match(pattern, message):
            return words
    if found := re.match(r"^overlaps the end of (hours/\w+/\d+), which passes midnight$", message):
        return f"Overlaps {_times_words(found.group(1))}, which go past midnight."
    if found := re.match(r"^overlaps (hours/\w+/\d+)$", message):
        return f"Overlaps {_times_words(found.group(1))}."
    if found := re.match(r"^overlaps (special_hours/\d+/hours/\d+)$", message):
        return "Overlaps the other opening times of that day."
    return _sentence(message)
