"""A post's Markdown to the HTML Mastodon writes, with mentions and hashtags linked.

Pure text work (no network): ``find_mentions`` and ``find_hashtags`` read the source,
the caller resolves mentions (WebFinger) and ``render_post`` writes the HTML:

- ``#tag``       → ``<a href="…" class="mention hashtag" rel="tag">#<span>tag</span></a>``
- ``@user@host`` → ``<span class="h-card"><a href="…" class="u-url mention">@<span>user</span>
  </a></span>`` (the profile URL; the actor id goes in the Mention tag)

Markdown is rendered and sanitised first; the links are then added to text outside links and
code, so nothing the owner typed can forge one, and a ``#`` inside a URL or code stays text.
An unresolved mention stays plain text, as on Mastodon.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html import escape

from fedi_town.text.render import markdown_to_html

#: ``@user`` or ``@user@host[:port]`` (usernames as Mastodon allows them, ASCII only).
MENTION_RE = re.compile(
    r"(?<![=/\w@])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)"
    r"(?:@((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?::\d{1,5})?))?",
    re.IGNORECASE | re.ASCII,  # else [a-z] matches the Kelvin sign, long s, dotless i
)
#: ``#tag``: word characters with at least one letter, not inside a word or a URL.
HASHTAG_RE = re.compile(r"(?<![=/)\w&#])#(\w*[^\W\d]\w*)")
MAX_TAG_LENGTH = 100
_TAG_NAME_RE = re.compile(r"\A\w*[^\W\d]\w*\Z")

_TAG_SPLIT = re.compile(r"(<[^>]*>)")
_SKIP_TAGS = ("a", "code", "pre")


@dataclass(frozen=True)
class MentionRef:
    """A mention as typed: ``username`` and ``host`` (None for ``@user`` alone)."""

    username: str
    host: str | None

    @property
    def key(self) -> str:
        """Case-insensitive identity, for matching a resolved mention back to the text."""
        return f"{self.username}@{self.host or ''}".lower()

    def handle(self, local_domain: str) -> str:
        """``@user@host`` as typed; a bare ``@user`` gets ``local_domain``."""
        return f"@{self.username}@{self.host or local_domain}"


_MAX_HOST = 253
_MAX_LABEL = 63
_MAX_PORT = 65535


def is_plausible_host(host: str) -> bool:
    """Whether a mention's ``host[:port]`` could name a server: labels of 1 to 63 characters,
    at most 253 in all, a port from 1 to 65535 (``MENTION_RE`` already limits the letters)."""
    name, _, port = host.partition(":")
    if port and not (port.isdigit() and 0 < int(port) <= _MAX_PORT):
        return False
    labels = name.split(".")
    return 0 < len(name) <= _MAX_HOST and all(0 < len(label) <= _MAX_LABEL for label in labels)


@dataclass(frozen=True)
class ResolvedMention:
    """A mention we found the actor of."""

    href: str  # the actor id (what the Mention tag carries and what notifies)
    url: str  # the profile page (what the link in the text points at)
    name: str  # "@user@host"
    username: str  # shown in the link text


def find_mentions(source: str) -> list[MentionRef]:
    """Distinct mentions in the order they first appear."""
    found: dict[str, MentionRef] = {}
    for match in MENTION_RE.finditer(_without_code(source)):
        ref = MentionRef(match.group(1), match.group(2))
        found.setdefault(ref.key, ref)
    return list(found.values())


def normal_tag(tag: str) -> str:
    """A hashtag's name as stored and linked: NFKC, so fullwidth ``ｔａｇ`` and ligatures
    name the same tag as their plain letters (case is kept; matching ignores it)."""
    return unicodedata.normalize("NFKC", tag)


def find_hashtags(source: str) -> list[str]:
    """Distinct hashtags (case-insensitively), spelled as first typed (NFKC), without ``#``."""
    found: dict[str, str] = {}
    for match in HASHTAG_RE.finditer(_without_code(source)):
        tag = normal_tag(match.group(1))
        if is_hashtag(tag):
            found.setdefault(tag.lower(), tag)
    return list(found.values())


def is_hashtag(name: str) -> bool:
    """Whether ``name`` (without ``#``) is a hashtag a post could carry."""
    return len(name) <= MAX_TAG_LENGTH and _TAG_NAME_RE.match(name) is not None


@dataclass(frozen=True)
class Rendered:
    """The HTML, and what it links: hashtags (as first spelled) and mentions (by key)."""

    html: str
    hashtags: list[str]
    mention_keys: list[str]


def render_post(
    source: str,
    *,
    mentions: Mapping[str, ResolvedMention],
    tag_url: Callable[[str], str],
) -> Rendered:
    """Sanitised HTML of ``source`` with resolved ``mentions`` (by ``MentionRef.key``) and
    every hashtag linked."""
    html = markdown_to_html(source)
    tags: dict[str, str] = {}
    linked: dict[str, None] = {}
    out: list[str] = []
    skip_depth = 0
    for part in _TAG_SPLIT.split(html):
        if part.startswith("<"):
            name = part.strip("</>").split()[0].lower() if part.strip("</>") else ""
            if name in _SKIP_TAGS:
                if part.startswith("</"):
                    skip_depth = max(0, skip_depth - 1)
                elif not part.endswith("/>"):
                    skip_depth += 1
            out.append(part)
        elif skip_depth or not part:
            out.append(part)
        else:
            out.append(_link_text(part, mentions, tag_url, tags, linked))
    return Rendered("".join(out), list(tags.values()), list(linked))


def _link_text(
    text: str,
    mentions: Mapping[str, ResolvedMention],
    tag_url: Callable[[str], str],
    tags: dict[str, str],
    linked: dict[str, None],
) -> str:
    def mention(match: re.Match[str]) -> str:
        key = MentionRef(match.group(1), match.group(2)).key
        resolved = mentions.get(key)
        if resolved is None:
            return match.group(0)
        linked[key] = None
        return (
            f'<span class="h-card"><a href="{escape(resolved.url)}" class="u-url mention">'
            f"@<span>{escape(resolved.username)}</span></a></span>"
        )

    def hashtag(match: re.Match[str]) -> str:
        typed = match.group(1)
        tag = normal_tag(typed)
        if not is_hashtag(tag):
            return match.group(0)
        tags.setdefault(tag.lower(), tag)
        return (
            f'<a href="{escape(tag_url(tag))}" class="mention hashtag" rel="tag">'
            f"#<span>{escape(typed)}</span></a>"
        )

    # Mentions first: their output contains no '#' that the hashtag pass could take.
    # Hashtags run on the pieces between the links mentions made.
    with_mentions = MENTION_RE.sub(mention, text)
    pieces = _TAG_SPLIT.split(with_mentions)
    return "".join(
        piece if piece.startswith("<") else HASHTAG_RE.sub(hashtag, piece) for piece in pieces
    )


_CODE_RE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)


def _without_code(source: str) -> str:
    """The source with code spans and fenced blocks blanked (mentions there are text)."""
    return _CODE_RE.sub(lambda m: " " * len(m.group(0)), source)
