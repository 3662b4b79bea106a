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

**Memory is bounded**, whatever the upload (the service runs under ``MemoryMax=400M``):

- a JPEG is decoded at a reduced scale (Pillow's ``draft``: the decoder skips the pixels
  the resize would throw away), so a 40-megapixel photo costs a few megapixels;
- any other still is decoded at full size, so it may have at most ``MAX_DECODED_PIXELS``;
- an animation's frames are decoded one at a time; the frames it keeps (to encode them
  together) hold at most ``ANIMATION_PIXELS`` (frames x width x height): a longer or larger
  animation keeps all its frames but is scaled down to fit, and one that would then be
  smaller than ``MIN_ANIMATION_SIDE`` keeps only its first frame, as a still image;
- the work to decode is bounded too: frames x width x height at most ``MAX_DECODE_WORK``;
- one image is processed at a time per process (``_DECODING``): uploads wait their turn
  (they run in worker threads) instead of adding up.
"""

from __future__ import annotations

import io
import math
import threading
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
#: Refuse before decoding anything larger (width x height of one frame).
MAX_PIXELS = 40_000_000
#: Stills other than JPEG (decoded at full size: 4 bytes a pixel at most) and every frame of
#: an animation may have at most this many pixels (64 MiB as RGBA).
MAX_DECODED_PIXELS = 16_777_216
#: Frames x width x height decoded for one upload, at most (the CPU an upload may take).
MAX_DECODE_WORK = 4 * MAX_PIXELS
MAX_FRAMES = 500
#: Frames x width x height an animation keeps after resizing (48 MB as RGBA).
ANIMATION_PIXELS = 12_000_000
#: An animation that would be scaled below this longest side keeps its first frame only.
MIN_ANIMATION_SIDE = 320

#: One decode at a time per process: memory is bounded by one image's budget.
_DECODING = threading.Lock()


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
    """Sniff, check, orient, strip, shrink and re-encode ``data``; compute its blurhash.

    Blocking (CPU and memory): call it in a worker thread. One call runs at a time."""
    with _DECODING, warnings.catch_warnings():
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
    if width * height > MAX_PIXELS:
        raise TooManyPixels(f"the image is larger than {MAX_PIXELS // 1_000_000} megapixels")
    if width * height * frames > MAX_DECODE_WORK:
        raise TooManyPixels(
            f"the animation has more than {MAX_DECODE_WORK // 1_000_000} megapixels in all"
        )
    if width * height > MAX_DECODED_PIXELS and (fmt != "JPEG" or frames > 1):
        raise TooManyPixels(
            f"a {fmt} image may have at most {MAX_DECODED_PIXELS // 1_000_000} megapixels"
        )
    if frames > MAX_FRAMES:
        raise TooManyPixels(f"the animation has more than {MAX_FRAMES} frames")
    try:
        target = _animation_size(image.size, frames) if frames > 1 else None
        if target is not None and fmt in ("GIF", "WEBP"):
            out, size, still = _animated(image, fmt, target)
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


def _animation_size(size: tuple[int, int], frames: int) -> tuple[int, int] | None:
    """The frame size an animation is kept at (within ``ANIMATION_PIXELS`` for all its
    frames), or None when that would be too small to be worth it: then it becomes a still."""
    width, height = _target_size(size)
    if frames * width * height <= ANIMATION_PIXELS:
        return width, height
    scale = math.sqrt(ANIMATION_PIXELS / (frames * width * height))
    width, height = max(1, int(width * scale)), max(1, int(height * scale))
    if max(width, height) < MIN_ANIMATION_SIDE:
        return None
    return width, height


def _still(image: Image.Image, fmt: str) -> tuple[bytes, tuple[int, int], Image.Image]:
    icc = image.info.get("icc_profile")
    if fmt == "JPEG":
        # Decode at the smallest scale (1/2, 1/4, 1/8) still at least the target size.
        image.draft(None, _target_size(image.size))
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


def _animated(
    image: Image.Image, fmt: str, target: tuple[int, int]
) -> tuple[bytes, tuple[int, int], Image.Image]:
    """Re-encode an animation at ``target`` size, decoding one frame at a time (only the
    resized frames are kept, ``ANIMATION_PIXELS`` at most)."""
    frames: list[Image.Image] = []
    durations: list[int] = []
    for frame in ImageSequence.Iterator(image):
        durations.append(int(frame.info.get("duration", 100)))
        copy = frame.convert("RGBA")
        if target != copy.size:
            copy = copy.resize(target, Image.Resampling.LANCZOS)
        frames.append(copy)
        del copy
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
