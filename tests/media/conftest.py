"""Helpers for the media tests: images made on the spot, HEIC ones by pillow-heif itself."""

from __future__ import annotations

import io

import pillow_heif
from PIL import Image

#: EXIF orientation 6: the camera was held upright, so turn 90° clockwise to show it.
ROTATE_90 = 6


def image_bytes(
    fmt: str = "JPEG", size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (200, 90, 20)
) -> bytes:
    """An image of one colour, encoded in ``fmt``."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def heic_bytes(image: Image.Image, exif: Image.Exif | None = None) -> bytes:
    """``image`` encoded as an iPhone would (HEVC in HEIF), with ``exif`` if given. Pillow is
    not taught to open HEIF here: the code under test must do that itself."""
    buffer = io.BytesIO()
    options = {"exif": exif.tobytes()} if exif is not None else {}
    pillow_heif.from_pillow(image).save(buffer, quality=90, **options)
    return buffer.getvalue()


def iphone_photo() -> bytes:
    """A landscape-stored 80x40 HEIC, red on its left fifth, whose EXIF says "turn 90°
    clockwise" and carries the shop's GPS position and the phone's maker."""
    image = Image.new("RGB", (80, 40), (10, 20, 30))
    image.paste((250, 0, 0), (0, 0, 16, 40))
    exif = Image.Exif()
    exif[0x0112] = ROTATE_90
    exif[0x010F] = "SecretCam"
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    return heic_bytes(image, exif)


def claiming_size(data: bytes, width: int, height: int) -> bytes:
    """``data`` (a HEIC with one ``ispe`` box and no crop) rewritten to claim ``width`` x
    ``height`` pixels: what a decompression bomb's header says, in a few hundred bytes."""
    at = data.index(b"ispe") + 8  # after the box type and its version and flags
    return data[:at] + width.to_bytes(4, "big") + height.to_bytes(4, "big") + data[at + 8 :]


def heic_gps(data: bytes) -> dict[int, object]:
    """The GPS tags in a HEIC's EXIF (read without teaching Pillow HEIF)."""
    exif = Image.Exif()
    exif.load(pillow_heif.open_heif(io.BytesIO(data)).info["exif"])
    return dict(exif.get_ifd(0x8825))
