"""Helpers for the media tests: images made on the spot."""

from __future__ import annotations

import io

from PIL import Image


def image_bytes(
    fmt: str = "JPEG", size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (200, 90, 20)
) -> bytes:
    """An image of one colour, encoded in ``fmt``."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()
