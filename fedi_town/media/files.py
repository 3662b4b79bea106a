"""Keeping processed images on disk under the media directory.

Each upload gets a new random, unguessable name (128 bits), so a changed avatar is a new URL
and remote servers fetch it again (Mastodon never refetches a URL it already has). Files are
written to a temporary name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def new_name(suffix: str) -> str:
    return f"{secrets.token_hex(16)}.{suffix}"


def save(media_dir: Path, data: bytes, suffix: str) -> str:
    """Write ``data`` under ``media_dir``; return its new file name."""
    media_dir.mkdir(parents=True, exist_ok=True)
    name = new_name(suffix)
    final = media_dir / name
    temporary = media_dir / f".{name}.part"
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, final)
    return name


def remove(media_dir: Path, name: str) -> None:
    """Delete a stored file (gone already is fine). ``name`` must be a bare file name."""
    if "/" in name or "\\" in name or name.startswith("."):
        raise ValueError("not a media file name")
    with contextlib.suppress(FileNotFoundError):
        (media_dir / name).unlink()
