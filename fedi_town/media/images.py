"""Check and re-encode an uploaded image: pure bytes in, bytes out (no files, no database).

    ImageRejected               the upload is not an image we keep
    ├── NotAnImage              not JPEG, PNG, WebP, GIF or HEIC (by its bytes; names are ignored)
    ├── TooManyPixels           bigger than ``MAX_PIXELS`` (a decompression bomb, or just huge)
    └── BrokenImage             the header looked right but the pixels do not decode

The format is sniffed from the bytes by Pillow, restricted to the four formats Mastodon
shows, plus HEIC (``is_heif``: an iPhone's photos), which is kept as JPEG since most
browsers cannot show it; the filename and the declared content type are never trusted. The
size is checked from the header *before* any pixel is decoded. The image is turned upright
(a HEIC by its container's rotation, which libheif applies; the others by their EXIF
orientation), then re-encoded from pixels alone, so EXIF (GPS, camera, owner names), XMP and
comments are gone; only the colour profile is kept. The longest side is cut to ``MAX_SIDE``.

**Memory is bounded**, whatever the upload (the service runs under ``MemoryMax=400M``):

- a JPEG is decoded at a reduced scale (Pillow's ``draft``: the decoder skips the pixels
  the resize would throw away), so a 40-megapixel photo costs a few megapixels;
- any other still is decoded at full size, so it may have at most ``MAX_DECODED_PIXELS``
  (a HEIC ``MAX_HEIC_PIXELS``, an iPhone's 24 megapixels; only its primary image is decoded,
  never its thumbnails, depth or bursts);
- an animation's frames are decoded one at a time; the frames it keeps (to encode them
  together) hold at most ``ANIMATION_PIXELS`` (frames x width x height): a longer or larger
  animation keeps all its frames but is scaled down to fit, and one that would then be
  smaller than ``MIN_ANIMATION_SIDE`` keeps only its first frame, as a still image;
- the work to decode is bounded too: frames x width x height at most ``MAX_DECODE_WORK``;
- one image is processed at a time per process (``_DECODING``): uploads wait their turn
  (they run in worker threads) instead of adding up.
"""

from __future__ import annotations

import functools
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
#: ``ftyp`` brands of HEVC-coded HEIF, an iPhone's HEIC (stills, collections, sequences).
#: AVIF is HEIF too, but coded in AV1, which the HEIF decoder we use cannot read.
HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
#: Generic HEIF brands: the file is HEIC when a compatible brand says HEVC.
_HEIF_GENERIC_BRANDS = frozenset({b"mif1", b"msf1"})
#: An ``ftyp`` box lists a few brands (an iPhone's: 24 bytes); a longer one is not HEIC.
_MAX_FTYP_BYTES = 1024
#: The format a HEIF upload is kept in.
HEIF_KEPT_AS = "JPEG"
#: Longest side after resizing (Mastodon keeps about 1920x1080 worth of pixels).
MAX_SIDE = 1920
#: Refuse before decoding anything larger (width x height of one frame).
MAX_PIXELS = 40_000_000
#: Stills other than JPEG (decoded at full size: 4 bytes a pixel at most) and every frame of
#: an animation may have at most this many pixels (64 MiB as RGBA).
MAX_DECODED_PIXELS = 16_777_216
#: A HEIC is decoded at full size too, but an iPhone 15 or 16 takes 24-megapixel photos by
#: default (5712x4284): they must go through. Measured: 3.2 s and a 187 MB peak for one, and
#: one image is processed at a time per process, under the 400 MB ``MemoryMax``.
MAX_HEIC_PIXELS = 25_000_000
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


def is_heif(data: bytes) -> bool:
    """Whether ``data`` starts as HEIC does: an ISO base media ``ftyp`` box whose major
    brand is an HEVC one of ``HEIF_BRANDS``, or a generic ``mif1``/``msf1`` with one of
    them among its compatible brands. Pure and cheap: the bytes decide, not the name."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return False
    box_size = int.from_bytes(data[:4], "big")
    if not 16 <= box_size <= min(len(data), _MAX_FTYP_BYTES) or box_size % 4:
        return False
    major = data[8:12]
    if major in HEIF_BRANDS:
        return True
    return major in _HEIF_GENERIC_BRANDS and any(
        data[at : at + 4] in HEIF_BRANDS for at in range(16, box_size, 4)
    )


def process(data: bytes) -> ProcessedImage:
    """Sniff, check, orient, strip, shrink and re-encode ``data``; compute its blurhash.

    Blocking (CPU and memory): call it in a worker thread. One call runs at a time."""
    heif = is_heif(data)
    with _DECODING, warnings.catch_warnings():
        # Pillow's own bomb guard warns first and raises at twice its limit: make both fail.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        if heif:
            _register_heif()
        try:
            image = Image.open(io.BytesIO(data), formats=["HEIF"] if heif else list(FORMATS))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise TooManyPixels("the image has too many pixels") from None
        except (UnidentifiedImageError, OSError):
            if heif:
                raise BrokenImage("the HEIC image is damaged or cut short") from None
            raise NotAnImage("the file is not a JPEG, PNG, WebP, GIF or HEIC image") from None
        with image:
            return _process_open(image)


@functools.cache
def _register_heif() -> None:
    """Teach Pillow to open HEIF, once, with the first HEIC upload. Only the primary image
    is wanted: thumbnails, depth maps and auxiliary images are not even listed."""
    import pillow_heif  # deferred: libheif and its codecs cost 7.8 MB of RSS; few uploads are HEIC

    pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)


def _process_open(image: Image.Image) -> ProcessedImage:
    fmt = str(image.format)
    kept = HEIF_KEPT_AS if fmt == "HEIF" else fmt
    media_type, suffix = FORMATS[kept]
    width, height = image.size
    # A HEIF's other images (a burst, a sequence) are not decoded: it keeps its primary one.
    frames = 1 if fmt == "HEIF" else int(getattr(image, "n_frames", 1))
    if width < 1 or height < 1:
        raise BrokenImage("the image has no pixels")
    if width * height > MAX_PIXELS:
        raise TooManyPixels(f"the image is larger than {MAX_PIXELS // 1_000_000} megapixels")
    if width * height * frames > MAX_DECODE_WORK:
        raise TooManyPixels(
            f"the animation has more than {MAX_DECODE_WORK // 1_000_000} megapixels in all"
        )
    limit = MAX_HEIC_PIXELS if fmt == "HEIF" else MAX_DECODED_PIXELS
    if width * height > limit and (fmt != "JPEG" or frames > 1):
        name = "HEIC" if fmt == "HEIF" else fmt
        raise TooManyPixels(f"a {name} image may have at most {limit // 1_000_000} megapixels")
    if frames > MAX_FRAMES:
        raise TooManyPixels(f"the animation has more than {MAX_FRAMES} frames")
    try:
        target = _animation_size(image.size, frames) if frames > 1 else None
        if target is not None and fmt in ("GIF", "WEBP"):
            out, size, still = _animated(image, fmt, target)
        else:
            out, size, still = _still(image, kept)
    except (OSError, ValueError, SyntaxError, RuntimeError, Image.DecompressionBombError) as exc:
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
    """Decode one image and re-encode it as ``fmt``."""
    icc = image.info.get("icc_profile")
    if image.format == "JPEG":
        # Decode at the smallest scale (1/2, 1/4, 1/8) still at least the target size.
        image.draft(None, _target_size(image.size))
    image.load()
    ImageOps.exif_transpose(image, in_place=True)  # no full-size copy when already upright
    upright = image
    target = _target_size(upright.size)
    if target != upright.size:
        upright = upright.resize(target, Image.Resampling.LANCZOS)
    options: dict[str, object] = {}
    if icc:
        options["icc_profile"] = icc
    if fmt == "JPEG":
        if "A" in upright.getbands():  # a HEIC with transparency: over white, not black
            upright = _over_white(upright)
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


def _over_white(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


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


#: A custom emoji: at most this many pixels a side, and this much decoding work in all
#: (frames x width x height), so a small file cannot hide a long animation.
EMOJI_MAX_SIDE = 512
EMOJI_MAX_WORK = EMOJI_MAX_SIDE * EMOJI_MAX_SIDE * 64


@dataclass(frozen=True)
class SmallImage:
    """A small image kept as it came (its bytes are served unchanged): what it is."""

    media_type: str
    suffix: str
    width: int
    height: int


def check_small_image(data: bytes, max_side: int = EMOJI_MAX_SIDE) -> SmallImage:
    """Whether ``data`` is a JPEG, PNG, WebP or GIF of at most ``max_side`` a side whose
    every frame decodes; what it is. The bytes decide (never a name or a Content-Type), the
    size is read from the header before any pixel is decoded. Blocking: a worker thread."""
    with _DECODING, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise TooManyPixels("the image has too many pixels") from None
        except (UnidentifiedImageError, OSError):
            raise NotAnImage("the file is not a JPEG, PNG, WebP or GIF image") from None
        with image:
            width, height = image.size
            if width > max_side or height > max_side or width < 1 or height < 1:
                raise TooManyPixels(f"the image is over {max_side} pixels a side")
            frames = getattr(image, "n_frames", 1)
            if frames * width * height > EMOJI_MAX_WORK:
                raise TooManyPixels("the animation has too many frames")
            try:
                for frame in ImageSequence.Iterator(image):
                    frame.load()
            except (OSError, ValueError, SyntaxError):
                raise BrokenImage("the image is damaged or cut short") from None
            fmt = image.format or ""
            media_type, suffix = FORMATS[fmt]
            return SmallImage(media_type, suffix, width, height)
