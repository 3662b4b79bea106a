"""Names of uploaded media.

Each upload gets a new random, unguessable name (128 bits), so a changed avatar is a new URL
and remote servers fetch it again (Mastodon never refetches a URL it already has). Where the
bytes are kept is ``media/storage.py``'s business.
"""

from __future__ import annotations

import secrets


def new_name(suffix: str) -> str:
    """A fresh name for an upload: 32 hex digits, a dot, ``suffix``."""
    return f"{secrets.token_hex(16)}.{suffix}"
