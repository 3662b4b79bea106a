"""Offers and events on the wire: the AS2 ``Event`` (FEP-8a8e) and the readable Note.

Mastodon shows an ``Event`` as a title and a link and drops its content (interop §4), so
each offer or event is announced to followers as an ordinary public ``Note`` whose text says
what, when (in the business's zone), where (with an OpenStreetMap link) and for how much,
and links to its page. Peers that understand events fetch the page URL or the event's id
(both content-negotiated) and get the ``Event`` built here. Why this form: FEDERATION.md.

The Note is written as Markdown (``note_source``) because it goes through the same post
machinery as any post (rendered, sanitised, mentions and hashtags linked); every piece that
comes from the owner's short fields is escaped so it stays text. Times: ``wall_time``
reads a local time in a zone, ``when_text`` says an interval the way a shop sign does
("Sat 12 Dec, 10:00–16:00 CET").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fedi_town.errors import Unprocessable

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
FEP_8A8E = "https://w3id.org/fep/8a8e/"
SCHEMA = "https://schema.org/"

#: The Event's ``@context``: ActivityStreams, plus the few schema.org and FEP-8a8e terms
#: it uses defined inline (no remote context a peer would have to fetch).
EVENT_CONTEXT: list[Any] = [
    AS_CONTEXT,
    {
        "PostalAddress": f"{SCHEMA}PostalAddress",
        "address": {"@id": f"{SCHEMA}address"},
        "streetAddress": f"{SCHEMA}streetAddress",
        "addressLocality": f"{SCHEMA}addressLocality",
        "addressRegion": f"{SCHEMA}addressRegion",
        "postalCode": f"{SCHEMA}postalCode",
        "addressCountry": f"{SCHEMA}addressCountry",
        "timezone": f"{FEP_8A8E}timezone",
        "joinMode": f"{FEP_8A8E}joinMode",
        "organizers": {"@id": f"{FEP_8A8E}organizers", "@type": "@id"},
        "sensitive": "as:sensitive",
    },
]

#: Currency signs written before the amount; any other code is written after it.
CURRENCY_SIGNS = {"EUR": "€", "GBP": "£", "USD": "$", "JPY": "¥", "INR": "₹"}
#: The longest Note text (the post limit); the owner's text is cut to fit, the page has it all.
NOTE_LIMIT = 5000

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~&@:])")


def md_escape(text: str) -> str:
    """``text`` as Markdown that renders as exactly that text (one line)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


# -- time -----------------------------------------------------------------------------------


def wall_time(raw: str, tz: ZoneInfo, pointer: str) -> int:
    """An ISO 8601 date-time as epoch ms: with an offset as given, without one read in
    ``tz`` (an owner types the time on the shop's clock). Else 422 naming ``pointer``."""
    name = pointer.rsplit("/", 1)[-1]
    text = raw.strip()
    if len(text) < 16 or "T" not in text.upper():
        raise _problem(pointer, f"{name} is not an ISO 8601 date and time (2026-12-12T10:00)")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise _problem(pointer, f"{name} is not an ISO 8601 date and time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    try:
        return int(moment.astimezone(UTC).timestamp() * 1000)
    except (OverflowError, ValueError):
        raise _problem(pointer, f"{name} is out of range") from None


def local(ms: int, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(tz)


def local_iso(ms: int, tz: ZoneInfo) -> str:
    """``2026-12-12T10:00:00+01:00``: the instant with the zone's offset at that moment."""
    return local(ms, tz).isoformat(timespec="seconds")


def _day(moment: datetime, now: datetime | None) -> str:
    text = f"{moment:%a} {moment.day} {moment:%b}"
    return text if now is None or now.year == moment.year else f"{text} {moment.year}"


def when_text(start_ms: int, end_ms: int, tz: ZoneInfo, now_ms: int | None = None) -> str:
    """``Sat 12 Dec, 10:00–16:00 CET``; over midnight or days, both days are named. The year
    only when it is not ``now``'s."""
    start, end = local(start_ms, tz), local(end_ms, tz)
    now = local(now_ms, tz) if now_ms is not None else None
    zone_name = end.tzname() or ""
    if start.date() == end.date():
        text = f"{_day(start, now)}, {start:%H:%M}–{end:%H:%M}"
    else:
        text = f"{_day(start, now)}, {start:%H:%M} – {_day(end, now)}, {end:%H:%M}"
    return f"{text} {zone_name}".strip()


def moment_text(ms: int, tz: ZoneInfo, now_ms: int | None = None) -> str:
    """``Sat 12 Dec, 18:00 CET``."""
    moment = local(ms, tz)
    now = local(now_ms, tz) if now_ms is not None else None
    return f"{_day(moment, now)}, {moment:%H:%M} {moment.tzname() or ''}".strip()


# -- places ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """Where an event happens: a name, postal address parts and coordinates (each optional)."""

    name: str | None = None
    street_address: str | None = None
    locality: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    latitude: float | None = None
    longitude: float | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, name: str | None = None) -> Place:
        def text(key: str) -> str | None:
            value = data.get(key)
            return str(value).strip() or None if value is not None else None

        def number(key: str) -> float | None:
            value = data.get(key)
            return float(value) if isinstance(value, int | float) else None

        return cls(
            name=text("name") or name,
            street_address=text("street_address"),
            locality=text("locality"),
            region=text("region"),
            postal_code=text("postal_code"),
            country=text("country"),
            latitude=number("latitude"),
            longitude=number("longitude"),
        )

    @property
    def has_coordinates(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def address_line(self) -> str:
        """``1 High St, BS1 4DJ Bristol, GB``: the address parts that are set."""
        town = " ".join(p for p in (self.postal_code, self.locality) if p)
        return ", ".join(p for p in (self.street_address, town, self.region, self.country) if p)

    @property
    def text(self) -> str:
        """Name and address on one line."""
        return ", ".join(p for p in (self.name, self.address_line) if p)

    def map_url(self) -> str | None:
        """An OpenStreetMap link: the coordinates if known, else a search for the address."""
        if self.has_coordinates:
            lat, lon = f"{self.latitude:.6f}", f"{self.longitude:.6f}"
            return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=18/{lat}/{lon}"
        if self.address_line:
            return f"https://www.openstreetmap.org/search?query={quote(self.text, safe='')}"
        return None


def place_document(place: Place) -> dict[str, Any]:
    """The AS2 ``Place`` of FEP-8a8e: name, a schema.org ``PostalAddress``, coordinates."""
    doc: dict[str, Any] = {"type": "Place", "name": place.name or place.address_line}
    address = {
        "streetAddress": place.street_address,
        "addressLocality": place.locality,
        "addressRegion": place.region,
        "postalCode": place.postal_code,
        "addressCountry": place.country,
    }
    if any(address.values()):
        doc["address"] = {"type": "PostalAddress"} | {k: v for k, v in address.items() if v}
    if place.has_coordinates:
        doc["latitude"] = place.latitude
        doc["longitude"] = place.longitude
    return doc


# -- the documents --------------------------------------------------------------------------


@dataclass(frozen=True)
class Picture:
    url: str
    media_type: str
    description: str = ""


@dataclass(frozen=True)
class EventInput:
    """What an event says, with its URLs minted and its place resolved."""

    id: str
    url: str
    attributed_to: str
    followers: str
    title: str
    content_html: str
    starts_ms: int
    ends_ms: int
    timezone: str
    place: Place | None
    published_ms: int
    updated_ms: int
    image: Picture | None = None


def event_document(e: EventInput) -> dict[str, Any]:
    """The AS2 ``Event`` (FEP-8a8e) served at the event's id."""
    tz = ZoneInfo(e.timezone)
    doc: dict[str, Any] = {
        "@context": EVENT_CONTEXT,
        "id": e.id,
        "type": "Event",
        "name": e.title,
        "content": e.content_html,
        "mediaType": "text/html",
        "url": e.url,
        "attributedTo": e.attributed_to,
        "organizers": {"type": "Collection", "totalItems": 1, "items": [e.attributed_to]},
        "to": [AS_PUBLIC],
        "cc": [e.followers],
        "startTime": local_iso(e.starts_ms, tz),
        "endTime": local_iso(e.ends_ms, tz),
        "timezone": e.timezone,
        "joinMode": "none",
        "published": _utc(e.published_ms),
        "updated": _utc(e.updated_ms),
        "sensitive": False,
    }
    if e.place is not None:
        doc["location"] = place_document(e.place)
    if e.image is not None:
        image = {"type": "Image", "url": e.image.url, "mediaType": e.image.media_type}
        if e.image.description:
            image["name"] = e.image.description
        doc["attachment"] = [image]
    return doc


def _utc(ms: int) -> str:
    return (
        datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


def price_text(price: str | None, currency: str | None) -> str | None:
    """``€3.50``, ``12.00 CHF``; None without a price."""
    if not price:
        return None
    code = currency or ""
    sign = CURRENCY_SIGNS.get(code)
    return f"{sign}{price}" if sign else f"{price} {code}".strip()


def _fit(parts_before: list[str], text: str, parts_after: list[str]) -> str:
    """Join the parts with blank lines, the owner's ``text`` cut to keep under NOTE_LIMIT."""
    fixed = "\n\n".join([*parts_before, *parts_after])
    room = NOTE_LIMIT - len(fixed) - 4
    body = text.strip()
    if len(body) > room:
        body = body[: max(room - 1, 0)].rstrip() + "…"
    return "\n\n".join(p for p in [*parts_before, body, *parts_after] if p)


def event_note_source(
    *,
    title: str,
    text: str,
    starts_ms: int,
    ends_ms: int,
    tz: ZoneInfo,
    place: Place,
    at_the_shop: bool,
    page_url: str,
    ics_url: str,
    now_ms: int,
) -> str:
    """The Markdown of the Note announcing an event: title (linked to the page), when,
    where (with a map link), the owner's text, and an "Add to calendar" link."""
    lines = [f"When: {md_escape(when_text(starts_ms, ends_ms, tz, now_ms))}"]
    where = md_escape(place.text or "the shop")
    if at_the_shop:
        address = place.address_line
        where = f"at the shop, {md_escape(address)}" if address else "at the shop"
    map_url = place.map_url()
    lines.append(f"Where: [{where}](<{map_url}>)" if map_url else f"Where: {where}")
    head = [f"**[{md_escape(title)}](<{page_url}>)**", "\n".join(lines)]
    return _fit(head, text, [f"[Add to calendar](<{ics_url}>)"])


def offer_note_source(
    *,
    title: str,
    text: str,
    price: str | None,
    currency: str | None,
    valid_from_ms: int | None,
    valid_until_ms: int | None,
    tz: ZoneInfo,
    page_url: str,
    now_ms: int,
) -> str:
    """The Markdown of the Note announcing an offer: title (linked to the page), price,
    from when and until when, the owner's text."""
    lines = []
    shown_price = price_text(price, currency)
    if shown_price:
        lines.append(f"Price: {md_escape(shown_price)}")
    if valid_from_ms is not None and valid_from_ms > now_ms:
        lines.append(f"From: {md_escape(moment_text(valid_from_ms, tz, now_ms))}")
    if valid_until_ms is not None:
        lines.append(f"Valid until: {md_escape(moment_text(valid_until_ms, tz, now_ms))}")
    head = [f"**[{md_escape(title)}](<{page_url}>)**"]
    if lines:
        head.append("\n".join(lines))
    return _fit(head, text, [])


def _problem(pointer: str, message: str) -> Unprocessable:
    return Unprocessable(message, errors=[{"pointer": pointer, "message": message}])
