"""Reading received ActivityStreams values the way peers actually write them.

Pure functions, no I/O. Peers disagree on shapes: ``actor`` may be a string or an object
with ``id``; ``to`` a string or a list; ``url`` a string, a ``Link`` or a list of both;
``attributedTo`` a string, an object or a list. These helpers give one answer for each, and
``None`` (or ``[]``) for anything unusable; untyped JSON stops here.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from fedi_town.errors import ProtocolError
from fedi_town.protocol.vocabulary import AS_PUBLIC

#: The three spellings of the public collection Mastodon accepts (interop §4 Visibility).
PUBLIC = frozenset({AS_PUBLIC, "as:Public", "Public"})

Activity = dict[str, Any]


class BadActivity(ProtocolError):
    """A received activity (or its object) lacks something we need to act on it."""


def id_of(value: Any) -> str | None:
    """The id of a value that is a URI string or an object with a string ``id``."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        found = value.get("id")
        return found if isinstance(found, str) and found else None
    return None


def as_list(value: Any) -> list[Any]:
    """A JSON-LD value as a list: ``None`` is empty, a single value is one item."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def ids_of(value: Any) -> list[str]:
    """Every id in a single-or-list value (strings or objects with ``id``)."""
    return [found for item in as_list(value) if (found := id_of(item)) is not None]


def types_of(value: Any) -> set[str]:
    """The ``type`` of an object as a set (a type may be a string or a list)."""
    if not isinstance(value, dict):
        return set()
    return {t for t in as_list(value.get("type")) if isinstance(t, str)}


def first_type(value: Any) -> str | None:
    """The first ``type`` string of an object, or None."""
    if not isinstance(value, dict):
        return None
    for t in as_list(value.get("type")):
        if isinstance(t, str):
            return t
    return None


#: ``http(s)://`` and a plain ASCII authority (no brackets, no spaces) that ends the string
#: or is followed by ``/``, ``?`` or ``#``: for such a URL, ``urlsplit`` would give this very
#: authority as its netloc, without error. Every id in an inbox burst is checked two or three
#: times; ``urlsplit`` on ids it has not seen was a tenth of an inbox request's CPU.
#: Anything else (IPv6 literals, upper-case schemes, stray whitespace) takes ``urlsplit``.
_PLAIN_HTTP_URL = re.compile(r"https?://([A-Za-z0-9._~%!$&'()*+,;=:@-]+)(?:[/?#]|\Z)")


def host_of(uri: str | None) -> str:
    """``host[:port]`` of a URI, lowercase; empty for anything that is not a URL."""
    if not uri:
        return ""
    plain = _PLAIN_HTTP_URL.match(uri)
    if plain is not None:
        return plain.group(1).lower()
    try:
        return urlsplit(uri).netloc.lower()
    except ValueError:
        return ""


def same_host(a: str | None, b: str | None) -> bool:
    return bool(a and b) and host_of(a) == host_of(b) != ""


def is_http_url(value: Any) -> bool:
    """An ``http(s)`` URL with a host (what ``urlsplit`` reads as such)."""
    if not isinstance(value, str):
        return False
    if _PLAIN_HTTP_URL.match(value) is not None:
        return True
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


#: The longest id the inbox takes, in UTF-8 bytes: ids are stored in UNIQUE indexes, and a
#: PostgreSQL index entry holds at most about 2,700 bytes.
MAX_ID_BYTES = 2048

#: What an id we store, compare and log never holds: whitespace and control characters
#: (C0, DEL, C1, which could forge log lines), zero-width and bidirectional controls.
_NOT_IN_ID = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")

#: A plain http(s) URL (as ``_PLAIN_HTTP_URL``) of printable ASCII only: an id in one match.
_PRINTABLE_HTTP_URL = re.compile(r"https?://[A-Za-z0-9._~%!$&'()*+,;=:@-]+(?:[/?#][!-~]*)?\Z")

#: An activity type name: ``Like``, ``as:Like``, a full IRI; never spaces or controls.
_TYPE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.:/#-]{0,99}\Z")


def is_plain_id(value: Any) -> bool:
    """An http(s) URL fit to be stored, compared and logged as an id: at most
    ``MAX_ID_BYTES``, no whitespace, no control or invisible formatting characters."""
    if not isinstance(value, str):
        return False
    if len(value) <= MAX_ID_BYTES and _PRINTABLE_HTTP_URL.match(value) is not None:
        return True  # the common case, in one match
    if not is_http_url(value):
        return False
    if len(value) > MAX_ID_BYTES or (not value.isascii() and len(value.encode()) > MAX_ID_BYTES):
        return False
    return _NOT_IN_ID.search(value) is None


def kind_of(activity: Activity, known: Collection[str]) -> str | None:
    """The type an activity is handled as, or None when ``type`` is unusable.

    ``type`` may be one name or a non-empty list of names (JSON-LD allows several); of a
    list, the first name in ``known`` wins, else the first name (as Mastodon reads
    several types: the first it knows). A name must look like one (``_TYPE_NAME``); a
    number, an empty list or a list holding anything else makes the activity unusable.
    """
    value = activity.get("type")
    if isinstance(value, str):
        return value if _TYPE_NAME.match(value) is not None else None
    names = value if isinstance(value, list) else [value]
    if not names:
        return None
    for name in names:
        if not isinstance(name, str) or _TYPE_NAME.match(name) is None:
            return None
    for name in names:
        if name in known:
            return str(name)
    return str(names[0])


#: C0 and C1 controls but tab and newline: never meaningful in a note, and able to forge
#: log lines or terminal output wherever text is shown raw.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_EMBEDDINGS = ("\u202a", "\u202b", "\u202d", "\u202e")  # closed by U+202C (PDF)
_ISOLATES = ("\u2066", "\u2067", "\u2068")  # closed by U+2069 (PDI)
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def clean_text(value: str) -> str:
    """A peer's text as we keep it: control characters dropped, and every bidirectional
    embedding, override or isolate it leaves open closed at its end, so an unmatched
    RIGHT-TO-LEFT OVERRIDE cannot reverse what is shown after it. Zero-width characters
    stay (they join emoji and scripts)."""
    text = _CONTROLS.sub("", value)
    if _BIDI.search(text) is None:
        return text
    embeddings = sum(text.count(c) for c in _EMBEDDINGS) - text.count("\u202c")
    isolates = sum(text.count(c) for c in _ISOLATES) - text.count("\u2069")
    return text + "\u202c" * max(embeddings, 0) + "\u2069" * max(isolates, 0)


def href_of(value: Any) -> str | None:
    """The first http(s) link in a ``url``-like value (string, Link object, list of both)."""
    for item in as_list(value):
        if isinstance(item, str) and is_http_url(item):
            return item
        if isinstance(item, dict):
            href = item.get("href") or item.get("url")
            if isinstance(href, str | list | dict) and (found := href_of(href)):
                # A Link with a mediaType other than HTML is an attachment, not a page.
                media = item.get("mediaType")
                if media is None or (isinstance(media, str) and "html" in media):
                    return found
    return None


def without_context(activity: Activity) -> Activity:
    """The activity as it is embedded in another (no ``@context``, no LD signature)."""
    return {k: v for k, v in activity.items() if k not in ("@context", "signature")}


def text_of(value: Any, content_map: Any = None) -> str:
    """``content`` (or the first value of ``contentMap``) as a string; "" if neither."""
    if isinstance(value, str):
        return value
    if isinstance(content_map, dict):
        for item in content_map.values():
            if isinstance(item, str):
                return item
    return ""


def parse_time_ms(value: Any) -> int | None:
    """An xsd:dateTime (``2025-01-02T03:04:05Z``, with or without fraction) in epoch ms."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return int(parsed.timestamp() * 1000)


def audience(activity: Activity, obj: Activity | None = None) -> tuple[list[str], list[str]]:
    """``to`` and ``cc`` of an object, falling back to its activity's (as Mastodon reads)."""
    source = obj if obj is not None and ("to" in obj or "cc" in obj) else activity
    return ids_of(source.get("to")), ids_of(source.get("cc"))


def mentioned_hrefs(obj: Activity) -> list[str]:
    """``href`` of every ``Mention`` tag (the only mentions that notify, interop pitfall 9)."""
    found = []
    for tag in as_list(obj.get("tag")):
        if isinstance(tag, dict) and "Mention" in types_of(tag):
            href = tag.get("href")
            if isinstance(href, str) and href:
                found.append(href)
    return found


def visibility(
    to: Iterable[str], cc: Iterable[str], *, followers_uri: str | None, mentions: Iterable[str]
) -> str:
    """Visibility as Mastodon computes it (app/lib/activitypub/parser/status_parser.rb).

    public: Public in ``to``; unlisted: Public in ``cc``; private: the author's followers
    collection in ``to``; direct: addressed only to actors that are all mentioned;
    limited: anything else.
    """
    to_list, cc_list = list(to), list(cc)
    if any(uri in PUBLIC for uri in to_list):
        return "public"
    if any(uri in PUBLIC for uri in cc_list):
        return "unlisted"
    if followers_uri is not None and followers_uri in to_list:
        return "private"
    addressed = set(to_list) | set(cc_list)
    if followers_uri is not None:
        addressed.discard(followers_uri)
    if addressed and addressed <= set(mentions):
        return "direct"
    return "limited"
