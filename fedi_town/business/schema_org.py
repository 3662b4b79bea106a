"""A business in schema.org terms: ``LocalBusiness`` (or its category's subtype) as a dict.

One builder for every place that says it: the profile page's JSON-LD (``type_key="@type"``)
and, later, the actor's structured data, where ActivityStreams' ``type`` aliases ``@type``
(``type_key="type"``). The page adds ``"@context": "https://schema.org"``.

Opening hours follow Google's documented conventions for ``OpeningHoursSpecification``:

- the week: one entry per interval, its ``dayOfWeek`` listing every day with that interval
  (``https://schema.org/Monday``); closed days are simply absent;
- an interval past midnight belongs to the day it starts: ``opens 22:00, closes 02:00``;
- an end of ``24:00`` is ``closes 23:59`` (schema.org's ``Time`` has no 24:00);
- special hours are entries with ``validFrom``/``validThrough`` dates and no ``dayOfWeek``;
  a closed special day is ``opens 00:00, closes 00:00``.

What a service area hides (street address, postal code, coordinates) is dropped here too,
whatever the caller passes: every reader goes through ``place.published``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from fedi_town.business.categories import category as find_category
from fedi_town.business.hours import MINUTES_PER_DAY, Interval, Schedule
from fedi_town.business.place import coordinates, published

SCHEMA = "https://schema.org/"
DAY_URIS = tuple(
    f"{SCHEMA}{name}"
    for name in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
)
#: ``location`` keys to ``PostalAddress`` properties.
ADDRESS_PROPERTIES = (
    ("street_address", "streetAddress"),
    ("locality", "addressLocality"),
    ("region", "addressRegion"),
    ("postal_code", "postalCode"),
    ("country", "addressCountry"),
)

Document = dict[str, Any]


def _time(minutes: int, *, end: bool) -> str:
    if end and minutes == MINUTES_PER_DAY:
        return "23:59"
    minutes %= MINUTES_PER_DAY
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _entry(interval: Interval, type_key: str) -> Document:
    start, end = interval
    return {
        type_key: "OpeningHoursSpecification",
        "opens": _time(start, end=False),
        "closes": _time(end, end=True),
    }


def opening_hours_specification(
    schedule: Schedule, *, since: date | None = None, type_key: str = "@type"
) -> list[Document]:
    """The week (days sharing an interval merged into one entry), then the special hours
    that have not ended before ``since`` (a local date; None: all of them)."""
    days_of: dict[Interval, list[int]] = {}
    for day, intervals in enumerate(schedule.week):
        for interval in intervals:
            days_of.setdefault(interval, []).append(day)
    weekly = sorted(days_of.items(), key=lambda item: (item[1][0], item[0]))
    entries = [
        {**_entry(interval, type_key), "dayOfWeek": [DAY_URIS[d] for d in days]}
        for interval, days in weekly
    ]
    for special in schedule.special:
        if since is not None and special.end < since:
            continue
        dated = {"validFrom": special.start.isoformat(), "validThrough": special.end.isoformat()}
        if special.label:
            dated["name"] = special.label
        for interval in special.intervals or ((0, 0),):
            entries.append({**_entry(interval, type_key), **dated})
    return entries


def postal_address(location: Mapping[str, Any], *, type_key: str = "@type") -> Document | None:
    """A ``PostalAddress`` of the parts given (pass the ``published`` location), or None."""
    parts = {
        prop: str(location[key])
        for key, prop in ADDRESS_PROPERTIES
        if location.get(key) not in (None, "")
    }
    return {type_key: "PostalAddress", **parts} if parts else None


def geo_coordinates(location: Mapping[str, Any], *, type_key: str = "@type") -> Document | None:
    point = coordinates(location)
    if point is None:
        return None
    return {type_key: "GeoCoordinates", "latitude": point[0], "longitude": point[1]}


def local_business(
    *,
    name: str,
    url: str,
    category: str | None = None,
    description: str | None = None,
    telephone: str | None = None,
    email: str | None = None,
    website: str | None = None,
    price_range: str | None = None,
    location: Mapping[str, Any] | None = None,
    service_area: str | None = None,
    schedule: Schedule | None = None,
    image: str | None = None,
    since: date | None = None,
    type_key: str = "@type",
) -> Document:
    """The whole ``LocalBusiness`` (``@type`` its category, a schema.org subtype); empty
    values are left out. ``location`` goes through ``place.published`` with
    ``service_area``; ``since`` is passed to ``opening_hours_specification``."""
    known = find_category(category)
    doc: Document = {type_key: known.name if known else "LocalBusiness", "name": name, "url": url}
    shown = published(location, service_area)
    values: dict[str, Any] = {
        "description": description,
        "image": image,
        "telephone": telephone,
        "email": email,
        "priceRange": price_range,
        "sameAs": website,
        "address": postal_address(shown, type_key=type_key),
        "geo": geo_coordinates(shown, type_key=type_key),
        "areaServed": service_area,
    }
    if schedule is not None:
        values["openingHoursSpecification"] = opening_hours_specification(
            schedule, since=since, type_key=type_key
        )
    doc |= {key: value for key, value in values.items() if value not in (None, "", [])}
    return doc


def script_text(document: Mapping[str, Any]) -> str:
    """JSON for a ``<script type="application/ld+json">``: ``<``, ``>`` and ``&`` written as
    ``\\u003c`` ``\\u003e`` ``\\u0026`` so no text in it can close the script or open a
    comment; it parses back to the same value."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


__all__ = [
    "DAY_URIS",
    "geo_coordinates",
    "local_business",
    "opening_hours_specification",
    "postal_address",
    "script_text",
]
