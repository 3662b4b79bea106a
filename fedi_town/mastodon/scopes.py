"""OAuth scopes as Mastodon spells them, and whether a grant covers what an endpoint needs.

A top-level scope covers its granular ones (``write`` covers ``write:statuses``); ``follow``
is the old name for the follow-related granular scopes; ``profile`` (Mastodon 4.3) reads only
the signed-in account. Admin scopes are not offered: a business is not an instance admin.
"""

from __future__ import annotations

from collections.abc import Iterable

TOP = ("read", "write", "follow", "push", "profile")
GRANULAR = (
    "read:accounts",
    "read:blocks",
    "read:bookmarks",
    "read:favourites",
    "read:filters",
    "read:follows",
    "read:lists",
    "read:mutes",
    "read:notifications",
    "read:search",
    "read:statuses",
    "write:accounts",
    "write:blocks",
    "write:bookmarks",
    "write:conversations",
    "write:favourites",
    "write:filters",
    "write:follows",
    "write:lists",
    "write:media",
    "write:mutes",
    "write:notifications",
    "write:reports",
    "write:statuses",
)
KNOWN = frozenset(TOP + GRANULAR)
FOLLOW = frozenset(
    ("read:blocks", "read:follows", "read:mutes", "write:blocks", "write:follows", "write:mutes")
)
DEFAULT = ["read"]

#: What the consent page says each scope lets the app do.
WORDS = {
    "read": "read everything the business can see",
    "write": "post, edit and delete as the business, and upload media",
    "follow": "manage follows, blocks and mutes",
    "push": "receive push notifications",
    "profile": "see the business's basic profile",
}


def parse(text: str | None) -> list[str] | None:
    """Scopes from a space- (or ``+``-) separated string, in order, without repeats;
    ``DEFAULT`` for none; None when one is unknown."""
    words = list(dict.fromkeys((text or "").replace("+", " ").split()))
    if not words:
        return list(DEFAULT)
    if any(w not in KNOWN for w in words):
        return None
    return words


def covers(granted: Iterable[str], needed: str) -> bool:
    """Whether scopes ``granted`` allow what needs ``needed``."""
    have = set(granted)
    if needed in have:
        return True
    top = needed.split(":", 1)[0]
    if top in have and top != needed:
        return True
    return "follow" in have and needed in FOLLOW


def subset(asked: Iterable[str], allowed: Iterable[str]) -> bool:
    """Whether every scope ``asked`` is covered by the app's registered ``allowed`` ones."""
    return all(covers(allowed, scope) for scope in asked)


def describe(scope: str) -> str:
    """A phrase for the consent page."""
    if scope in WORDS:
        return WORDS[scope]
    top, _, part = scope.partition(":")
    verb = "read" if top == "read" else "change"
    return f"{verb} {part.replace('_', ' ')}"
