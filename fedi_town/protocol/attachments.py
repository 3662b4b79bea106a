"""A received note's attachments as we show them: referenced by URL, never copied.

Peers write ``attachment`` as one object or a list of ``Document``/``Image``/``Video``/
``Audio`` objects (Mastodon: ``Document`` with ``mediaType``, ``url`` and ``name``, the
description). We keep at most ``MAX_ATTACHMENTS`` of them, each with a plain http(s) URL
(``is_plain_id``: no ``javascript:``, ``data:``, whitespace or controls), a known kind and a
plain-text description of at most ``MAX_DESCRIPTION`` characters. ``PropertyValue`` and
``Link`` items that are not media (a profile's fields, a quote link) are not attachments.
Anything else is dropped, never refused: a note with one bad attachment keeps the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fedi_town.protocol.reading import as_list, clean_text, is_plain_id, types_of

MAX_ATTACHMENTS = 8
MAX_DESCRIPTION = 1500
_MEDIA_TYPE = re.compile(r"[a-z]+/[A-Za-z0-9.+-]{1,100}\Z")
_KINDS = ("image", "video", "audio")


@dataclass(frozen=True)
class Attachment:
    """One attachment: ``kind`` is image, video, audio or unknown (a file we link to)."""

    url: str
    kind: str
    media_type: str | None
    description: str

    def as_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "type": self.kind,
            "media_type": self.media_type,
            "description": self.description,
        }


def _url(value: Any) -> tuple[str | None, str | None]:
    """The URL and media type of ``url`` (a string, a Link, or a list: the first usable)."""
    for item in as_list(value):
        if isinstance(item, str) and is_plain_id(item):
            return item, None
        if isinstance(item, dict):
            href = item.get("href")
            media = item.get("mediaType")
            if isinstance(href, str) and is_plain_id(href):
                return href, media if isinstance(media, str) else None
    return None, None


def _kind(types: set[str], media_type: str | None) -> str:
    if media_type is not None:
        major = media_type.split("/", 1)[0]
        if major in _KINDS:
            return major
    for kind in _KINDS:
        if kind.capitalize() in types:
            return kind
    return "unknown"


def attachments_of(obj: dict[str, Any]) -> tuple[Attachment, ...]:
    """The usable attachments of a received object (see the module docstring)."""
    found: list[Attachment] = []
    for item in as_list(obj.get("attachment")):
        if len(found) == MAX_ATTACHMENTS:
            break
        if not isinstance(item, dict):
            continue
        types = types_of(item)
        if not types & {"Document", "Image", "Video", "Audio"}:
            continue
        url, link_media = _url(item.get("url"))
        if url is None:
            continue
        media = item.get("mediaType")
        media_type = media if isinstance(media, str) else link_media
        if media_type is not None and _MEDIA_TYPE.match(media_type) is None:
            media_type = None
        name = item.get("name")
        description = clean_text(name)[:MAX_DESCRIPTION] if isinstance(name, str) else ""
        found.append(Attachment(url, _kind(types, media_type), media_type, description))
    return tuple(found)


def from_json(value: Any) -> tuple[Attachment, ...]:
    """Stored attachments (``Attachment.as_json`` items) back as values."""
    found = []
    for item in as_list(value):
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            found.append(
                Attachment(
                    str(item["url"]),
                    str(item.get("type") or "unknown"),
                    item.get("media_type"),
                    str(item.get("description") or ""),
                )
            )
    return tuple(found)
