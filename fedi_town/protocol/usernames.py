"""Usernames that Mastodon accepts (app/models/account.rb USERNAME_RE), and nothing else."""

from __future__ import annotations

import re

from fedi_town.protocol.urls import RESERVED_USERNAMES

# ASCII letters, digits and "_", with "." and "-" allowed only between them. re.ASCII: with
# IGNORECASE alone, [a-z] also matches the Kelvin sign, long s and dotless i (homoglyphs).
USERNAME_RE = re.compile(r"\A[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*\Z", re.IGNORECASE | re.ASCII)
MAX_USERNAME = 30


def is_username(value: str) -> bool:
    """Whether ``value`` has a username's shape (reserved names included): cheap, for
    paths to check before any lookup, since a path may hold NUL or anything else."""
    return len(value) <= MAX_USERNAME and USERNAME_RE.match(value) is not None


def username_problem(username: str) -> str | None:
    """Why ``username`` cannot be used, or None when it is fine."""
    if not username:
        return "username must not be empty"
    if len(username) > MAX_USERNAME:
        return f"username must be at most {MAX_USERNAME} characters"
    if not USERNAME_RE.match(username):
        return (
            "username may contain only ASCII letters, digits and '_', with '.' or '-' "
            "only between them"
        )
    if username.lower() in RESERVED_USERNAMES:
        return f"username {username!r} is reserved"
    return None
