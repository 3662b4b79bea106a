"""Where a business is: validate ``location``, decide what is published, say it in words,
link it to OpenStreetMap.

``location`` is ``{street_address, locality, region, postal_code, country, latitude,
longitude}``, each optional; latitude and longitude come together. With a ``service_area``
(a business without a shopfront) the street address, the postal code and the coordinates
are never published: ``published`` drops them, and every reader (actor, page, feeds,
JSON-LD, directory) goes through it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote_plus, urlencode

from fedi_town.business.hours import Problem

TEXT_KEYS = ("street_address", "locality", "region", "postal_code", "country")
KEYS = (*TEXT_KEYS, "latitude", "longitude")
MAX_LENGTHS = {"street_address": 200, "locality": 100, "region": 100, "postal_code": 20}
#: What a service area hides.
PRIVATE_KEYS = ("street_address", "postal_code", "latitude", "longitude")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def location_problems(location: Any, pointer: str = "/location") -> list[Problem]:
    """What is wrong with a ``location``: unknown keys, lengths, a country that is not
    ISO 3166-1 alpha-2 upper case, coordinates out of range or alone."""
    if location is None:
        return []
    if not isinstance(location, Mapping):
        return [Problem(pointer, "must be an object")]
    problems = [Problem(f"{pointer}/{k}", "unknown key") for k in location if k not in KEYS]
    for key, limit in MAX_LENGTHS.items():
        value = location.get(key)
        if value is not None and not (isinstance(value, str) and len(value) <= limit):
            problems.append(Problem(f"{pointer}/{key}", f"text of at most {limit} characters"))
    country = location.get("country")
    if country is not None and not (isinstance(country, str) and _COUNTRY.match(country)):
        problems.append(
            Problem(f"{pointer}/country", "an ISO 3166-1 alpha-2 code in capitals, like DE")
        )
    for key, limit in (("latitude", 90), ("longitude", 180)):
        value = location.get(key)
        if value is not None and not (_number(value) and -limit <= value <= limit):
            problems.append(Problem(f"{pointer}/{key}", f"a number from -{limit} to {limit}"))
    if (location.get("latitude") is None) != (location.get("longitude") is None):
        missing = "longitude" if location.get("longitude") is None else "latitude"
        problems.append(Problem(f"{pointer}/{missing}", "latitude and longitude come together"))
    return problems


def published(location: Mapping[str, Any] | None, service_area: str | None) -> dict[str, Any]:
    """The parts of a location anyone may see: all of them, or without the street address,
    postal code and coordinates when the business works in a service area. Empty parts go."""
    shown = {k: v for k, v in (location or {}).items() if k in KEYS and v not in (None, "")}
    if service_area:
        for key in PRIVATE_KEYS:
            shown.pop(key, None)
    return shown


def coordinates(location: Mapping[str, Any]) -> tuple[float, float] | None:
    lat, lon = location.get("latitude"), location.get("longitude")
    if isinstance(lat, int | float) and isinstance(lon, int | float):
        return float(lat), float(lon)
    return None


#: Where the postal code goes, by country (the order people there write an address):
#: after the region on the town's line ("Springfield, IL 62701"), on a line of its own
#: after the town ("Bristol" / "BS1 4DJ"), or, elsewhere, before the town ("10115 Berlin").
POSTCODE_AFTER_REGION = frozenset({"US", "CA", "AU"})
POSTCODE_OWN_LINE = frozenset({"GB", "IE", "NZ"})


def postcode_style(country: str | None) -> str:
    """ "after_region", "own_line" or "before_locality": how ``country`` writes it."""
    if country in POSTCODE_AFTER_REGION:
        return "after_region"
    if country in POSTCODE_OWN_LINE:
        return "own_line"
    return "before_locality"


def address_lines(location: Mapping[str, Any]) -> list[str]:
    """The address as lines, in the order its country writes one: street; town with the
    postal code and region where they go there; country code."""
    street, town, region, postcode, country = (
        str(location.get(k) or "")
        for k in ("street_address", "locality", "region", "postal_code", "country")
    )
    style = postcode_style(country or None)
    if style == "after_region":
        tail = " ".join(p for p in (region, postcode) if p)
        lines = [street, ", ".join(p for p in (town, tail) if p)]
    elif style == "own_line":
        lines = [street, town, region, postcode]
    else:
        lines = [street, " ".join(p for p in (postcode, town) if p), region]
    return [line for line in [*lines, country] if line]


def address_text(location: Mapping[str, Any]) -> str:
    """The address on one line: "1 High Street, BS1 4DJ Bristol, GB"."""
    return ", ".join(address_lines(location))


def osm_link(location: Mapping[str, Any]) -> str | None:
    """An OpenStreetMap link: a marker at the coordinates, else a search for the address.
    Pass the ``published`` location, so a service area links to a search for the town."""
    if point := coordinates(location):
        lat, lon = (f"{v:.6f}".rstrip("0").rstrip(".") for v in point)
        query = urlencode({"mlat": lat, "mlon": lon})
        return f"https://www.openstreetmap.org/?{query}#map=18/{lat}/{lon}"
    text = address_text(location)
    if not text:
        return None
    return f"https://www.openstreetmap.org/search?query={quote_plus(text)}"
