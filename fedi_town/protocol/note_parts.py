"""The parts of a received note beside its text: a poll, custom emoji, attachments.

Read as Mastodon, Misskey, Pleroma/Akkoma and GoToSocial send them:

- a poll is a ``Question`` whose ``oneOf`` (one choice) or ``anyOf`` (several) lists the
  options as ``{"type": "Note", "name": ..., "replies": {"totalItems": n}}``; ``endTime``
  says when it closes, ``closed`` when it did (Mastodon writes both once it is over),
  ``votersCount`` how many people voted (Mastodon, Pleroma, GoToSocial; Misskey omits it);
- a custom emoji is a ``tag`` item ``{"type": "Emoji", "name": ":code:", "icon": {"url",
  "mediaType"}}``; only codes of letters, digits and ``_`` are kept (Mastodon's rule), only
  http(s) icons, and never one that says it is SVG;
- an attachment is a ``Document``/``Image``/``Video``/``Audio`` (or a ``Link``) with a
  ``url`` (a string or a Link) and an optional ``name``, its description.

Everything is capped (options, emoji, attachments, text lengths): a sender chooses sizes.
The results are plain data (``as_json``) stored beside the note.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from fedi_town.protocol.reading import (
    Activity,
    as_list,
    clean_text,
    is_plain_id,
    parse_time_ms,
    types_of,
)

MAX_OPTIONS = 20
MAX_OPTION_TITLE = 200
MAX_EMOJIS = 50
MAX_ATTACHMENTS = 16
MAX_DESCRIPTION = 1500
#: What an emoji icon may be; anything else (SVG above all) is never fetched.
EMOJI_MEDIA_TYPES = frozenset({"image/png", "image/gif", "image/webp", "image/jpeg"})
_SHORTCODE = re.compile(r":?([A-Za-z0-9_]{1,64}):?\Z")
_ATTACHMENT_TYPES = frozenset({"Document", "Image", "Video", "Audio", "Link"})
_MEDIA_TYPE = re.compile(r"[a-z0-9.+-]{1,40}/[a-z0-9.+-]{1,80}\Z")


@dataclass(frozen=True)
class PollOption:
    title: str
    votes: int


@dataclass(frozen=True)
class Poll:
    options: tuple[PollOption, ...]
    multiple: bool
    #: when voting ends or ended (ms): ``closed`` when it is a time, else ``endTime``
    ends_at: int | None
    #: said closed with no time (``"closed": true``); otherwise closed once ``ends_at`` passed
    closed: bool
    voters: int | None

    def as_json(self) -> dict[str, Any]:
        """Plain JSON data (lists, not tuples), equal to itself read back from the database."""
        return {**asdict(self), "options": [asdict(o) for o in self.options]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Poll:
        options = tuple(PollOption(str(o["title"]), int(o["votes"])) for o in data["options"])
        return cls(
            options=options,
            multiple=bool(data["multiple"]),
            ends_at=data.get("ends_at"),
            closed=bool(data.get("closed")),
            voters=data.get("voters"),
        )


@dataclass(frozen=True)
class EmojiTag:
    """``:shortcode:`` (without colons) and the icon's URL."""

    shortcode: str
    url: str


@dataclass(frozen=True)
class Attachment:
    url: str
    media_type: str | None
    description: str | None


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return 0
    return value


def read_poll(note: Activity) -> Poll | None:
    """The poll of a ``Question``, or None (not a Question, or no usable option)."""
    if "Question" not in types_of(note):
        return None
    multiple = "anyOf" in note and "oneOf" not in note
    options: list[PollOption] = []
    for item in as_list(note.get("anyOf") if multiple else note.get("oneOf"))[:MAX_OPTIONS]:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        title = clean_text(item["name"]).strip()[:MAX_OPTION_TITLE]
        replies = item.get("replies")
        votes = _count(replies.get("totalItems")) if isinstance(replies, dict) else 0
        options.append(PollOption(title, votes))
    if not options:
        return None
    # Pleroma writes the closing time as "closed" even while the poll is open; Mastodon and
    # GoToSocial write it there once closed: either way it is when voting ends (as Mastodon
    # reads it). A bare "closed": true closes it now.
    closed = note.get("closed")
    ends_at = parse_time_ms(closed) or parse_time_ms(note.get("endTime"))
    said_closed = closed not in (None, False) and parse_time_ms(closed) is None
    voters = note.get("votersCount")
    return Poll(
        options=tuple(options),
        multiple=multiple,
        ends_at=ends_at,
        closed=said_closed,
        voters=_count(voters) if voters is not None else None,
    )


def read_emojis(note: Activity) -> list[EmojiTag]:
    """The note's custom emoji, at most ``MAX_EMOJIS``, one per shortcode."""
    found: dict[str, EmojiTag] = {}
    for tag in as_list(note.get("tag")):
        if len(found) >= MAX_EMOJIS:
            break
        if not isinstance(tag, dict) or "Emoji" not in types_of(tag):
            continue
        name = tag.get("name")
        match = _SHORTCODE.match(name) if isinstance(name, str) else None
        icon = tag.get("icon")
        if isinstance(icon, list):
            icon = icon[0] if icon else None
        if match is None or not isinstance(icon, dict):
            continue
        url = icon.get("url")
        if isinstance(url, dict):
            url = url.get("href")
        media_type = icon.get("mediaType")
        if media_type is not None and media_type not in EMOJI_MEDIA_TYPES:
            continue  # SVG, HTML, anything but the four raster formats
        if isinstance(url, str) and is_plain_id(url):
            found.setdefault(match.group(1), EmojiTag(match.group(1), url))
    return list(found.values())


def read_attachments(note: Activity) -> list[Attachment]:
    """The note's attachments with an http(s) address, at most ``MAX_ATTACHMENTS``."""
    kept: list[Attachment] = []
    for item in as_list(note.get("attachment")):
        if len(kept) >= MAX_ATTACHMENTS:
            break
        if not isinstance(item, dict) or not (types_of(item) & _ATTACHMENT_TYPES):
            continue
        url: Any = item.get("url") or item.get("href")
        media_type = item.get("mediaType")
        for candidate in as_list(url):  # Misskey/Peertube: a list of Links
            if isinstance(candidate, dict):
                media_type = media_type or candidate.get("mediaType")
                candidate = candidate.get("href")
            if is_plain_id(candidate):
                url = candidate
                break
        else:
            continue
        name = item.get("name") or item.get("summary")
        description = clean_text(name).strip()[:MAX_DESCRIPTION] if isinstance(name, str) else ""
        kind = media_type.lower() if isinstance(media_type, str) else ""
        kept.append(
            Attachment(
                url=url,
                media_type=kind if _MEDIA_TYPE.match(kind) else None,
                description=description or None,
            )
        )
    return kept
