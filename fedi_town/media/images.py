"""Check and re-encode an uploaded image: pure bytes in, bytes out (no files, no database).

    ImageRejected               the upload is not an image we keep
    ├── NotAnImage              not JPEG, PNG, WebP or GIF (by its bytes; names are ignored)
    ├── TooManyPixels           bigger than ``MAX_PIXELS`` (a decompression bomb, or just huge)
    └── BrokenImage             the header looked right but the pixels do not decode

The format is sniffed from the bytes by Pillow, restricted to the four formats Mastodon
shows; the filename and the declared content type are never trusted. The size is checked
from the header *before* any pixel is decoded. The image is turned upright by its EXIF
orientation, then re-encoded from pixels alone, so EXIF (GPS, camera, owner names), XMP and
comments are gone; only the colour profile is kept. The longest side is cut to ``MAX_SIDE``.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import blurhash
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from fedi_town.errors import FediTownError

#: Formats we accept, as Pillow names them, with the media type and file suffix we keep.
FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
}
#: Longest side after resizing (Mastodon keeps about 1920x1080 worth of pixels).
MAX_SIDE = 1920
#: Refuse before decoding anything larger (width x height x frames).
MAX_PIXELS = 40_000_000
MAX_FRAMES = 500


class ImageRejected(FediTownError):
    """The upload cannot be kept. The message is safe to show to the owner."""


class NotAnImage(ImageRejected):
    pass


class TooManyPixels(ImageRejected):
    pass


class BrokenImage(ImageRejected):
    pass


@dataclass(frozen=True)
class ProcessedImage:
    data: bytes
    media_type: str
    suffix: str
    width: int
    height: int
    blurhash: str


def process(data: bytes) -> ProcessedImage:
    """Sniff, check, orient, strip, shrink and re-encode ``data``; compute its blurhash."""
    with warnings.catch_warnings():
        # Pillow's own bomb guard warns first and raises at twice its limit: make both fail.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise TooManyPixels("the image has too many pixels") from None
        except (UnidentifiedImageError, OSError):
            raise NotAnImage("the file is not a JPEG, PNG, WebP or GIF image") from None
        with image:
            return _process_open(image)


def _process_open(image: Image.Image) -> ProcessedImage:
    fmt = str(image.format)
    media_type, suffix = FORMATS[fmt]
    width, height = image.size
    frames = int(getattr(image, "n_frames", 1))
    if width < 1 or height < 1:
        raise BrokenImage("the image has no pixels")
    if width * height > MAX_PIXELS or width * height * frames > MAX_PIXELS * 4:
        raise TooManyPixels(f"the image is larger than {MAX_PIXELS // 1_000_000} megapixels")
    if frames > MAX_FRAMES:
        raise TooManyPixels(f"the animation has more than {MAX_FRAMES} frames")
    try:
        if frames > 1 and fmt in ("GIF", "WEBP"):
            out, size, still = _animated(image, fmt)
        else:
            out, size, still = _still(image, fmt)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise BrokenImage(f"the image could not be decoded ({exc.__class__.__name__})") from None
    except Image.DecompressionBombWarning:
        raise TooManyPixels("the image has too many pixels") from None
    return ProcessedImage(out, media_type, suffix, size[0], size[1], _blurhash(still))


def _target_size(size: tuple[int, int]) -> tuple[int, int]:
    width, height = size
    longest = max(width, height)
    if longest <= MAX_SIDE:
        return size
    scale = MAX_SIDE / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def _still(image: Image.Image, fmt: str) -> tuple[bytes, tuple[int, int], Image.Image]:
    icc = image.info.get("icc_profile")
    image.load()
    upright = ImageOps.exif_transpose(image) or image
    target = _target_size(upright.size)
    if target != upright.size:
        upright = upright.resize(target, Image.Resampling.LANCZOS)
    options: dict[str, object] = {}
    if icc:
        options["icc_profile"] = icc
    if fmt == "JPEG":
        if upright.mode not in ("RGB", "L"):
            upright = upright.convert("RGB")
        options.update(quality=85, optimize=True, progressive=True)
    elif fmt == "WEBP":
        if upright.mode not in ("RGB", "RGBA"):
            upright = upright.convert("RGBA" if "A" in upright.getbands() else "RGB")
        options.update(quality=85, method=4)
    elif fmt == "PNG":
        options.update(optimize=False)
    elif fmt == "GIF" and upright.mode not in ("P", "L"):
        upright = upright.convert("P", palette=Image.Palette.ADAPTIVE)
    _strip(upright)
    buffer = io.BytesIO()
    upright.save(buffer, format=fmt, **options)
    return buffer.getvalue(), upright.size, upright


def _animated(image: Image.Image, fmt: str) -> tuple[bytes, tuple[int, int], Image.Image]:
    target = _target_size(image.size)
    frames: list[Image.Image] = []
    durations: list[int] = []
    for frame in ImageSequence.Iterator(image):
        durations.append(int(frame.info.get("duration", 100)))
        copy = frame.convert("RGBA")
        if target != copy.size:
            copy = copy.resize(target, Image.Resampling.LANCZOS)
        frames.append(copy)
    for frame in frames:
        _strip(frame)
    buffer = io.BytesIO()
    options: dict[str, object] = {
        "save_all": True,
        "append_images": frames[1:],
        "duration": durations,
        "loop": int(image.info.get("loop", 0)),
    }
    if fmt == "GIF":
        options["disposal"] = 2
    else:
        options["quality"] = 85
    frames[0].save(buffer, format=fmt, **options)
    return buffer.getvalue(), target, frames[0]


def _strip(image: Image.Image) -> None:
    """Forget every metadata chunk Pillow would copy into the output (comments, XMP, EXIF),
    keeping only what the pixels need (palette transparency)."""
    image.info = {k: v for k, v in image.info.items() if k == "transparency"}


def _blurhash(image: Image.Image) -> str:
    """A 4x3 blurhash from a 32-pixel thumbnail (plenty for a placeholder, and fast)."""
    small = image.convert("RGB")
    small.thumbnail((32, 32))
    width, height = small.size
    raw = small.tobytes()
    rows = [
        [list(raw[(y * width + x) * 3 : (y * width + x) * 3 + 3]) for x in range(width)]
        for y in range(height)
    ]
    return str(blurhash.encode(rows, 4, 3))
