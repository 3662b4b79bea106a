"""The parts of a received note beside its text: a poll and custom emoji (its attachments:
``protocol/attachments.py``).

Read as Mastodon, Misskey, Pleroma/Akkoma and GoToSocial send them:

- a poll is a ``Question`` whose ``oneOf`` (one choice) or ``anyOf`` (several) lists the
  options as ``{"type": "Note", "name": ..., "replies": {"totalItems": n}}``; ``endTime``
  says when it closes, ``closed`` when it did (Mastodon writes both once it is over),
  ``votersCount`` how many people voted (Mastodon, Pleroma, GoToSocial; Misskey omits it);
- a custom emoji is a ``tag`` item ``{"type": "Emoji", "name": ":code:", "icon": {"url",
  "mediaType"}}``; only codes of letters, digits and ``_`` are kept (Mastodon's rule), only
  http(s) icons, and never one that says it is SVG.

Everything is capped (options, emoji, text lengths): a sender chooses sizes.
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
#: What an emoji icon may be; anything else (SVG above all) is never fetched.
EMOJI_MEDIA_TYPES = frozenset({"image/png", "image/gif", "image/webp", "image/jpeg"})
_SHORTCODE = re.compile(r":?([A-Za-z0-9_]{1,64}):?\Z")


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


#: Longest reaction text kept (a unicode emoji with its modifiers, or ``:shortcode:``).
MAX_REACTION = 64
#: Misskey writes a reaction with its own emoji as ``:code@.:`` (another server's: ``@host``).
_REACTION_CODE = re.compile(r":([A-Za-z0-9_]{1,64})(?:@[A-Za-z0-9.:-]*)?:\Z")


@dataclass(frozen=True)
class Reaction:
    """An emoji reaction: ``content`` is a unicode emoji or ``:shortcode:``; ``emoji`` the
    custom emoji's tag when the activity carries its icon (else it shows as text)."""

    content: str
    emoji: EmojiTag | None = None


def read_reaction(activity: Activity) -> Reaction | None:
    """The emoji of an ``EmojiReact`` (Pleroma/Akkoma) or a ``Like`` with ``content``
    (Misskey's reactions, ``_misskey_reaction`` too); None for a plain like or when the
    content is not a short emoji (no markup, no spaces, at most ``MAX_REACTION``)."""
    raw = activity.get("content")
    if not isinstance(raw, str) or not raw.strip():
        raw = activity.get("_misskey_reaction")
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if not text or len(text) > MAX_REACTION or any(c in text for c in "<>&\"' \t\r\n"):
        return None
    if any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in text):
        return None
    match = _REACTION_CODE.match(text)
    if match is None:
        # a unicode emoji: no letters or digits of any script
        return None if any(c.isalnum() for c in text) else Reaction(text)
    code = match.group(1)
    emoji = next((e for e in read_emojis(activity) if e.shortcode == code), None)
    return Reaction(f":{code}:", emoji)
