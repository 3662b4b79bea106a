"""HEIC uploads (an iPhone's photos): sniffed by their bytes, kept as upright JPEG with no
metadata, bombs and broken files refused, pillow-heif imported only when one comes."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from fedi_town.media import images
from tests.media.conftest import claiming_size, heic_bytes, heic_gps, image_bytes, iphone_photo

ROOT = Path(__file__).resolve().parents[2]
SQUARE = heic_bytes(Image.new("RGB", (64, 64), (30, 120, 60)))


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\0\0\0\0" + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + b"\0\0\0\x08meta"


@pytest.mark.parametrize(
    "data",
    [
        _ftyp(b"heic", b"mif1", b"heic"),  # an iPhone's photo
        _ftyp(b"heix", b"mif1"),  # 10-bit
        _ftyp(b"hevc", b"msf1"),  # a sequence
        _ftyp(b"mif1", b"heic"),  # generic HEIF that says it is HEVC among its brands
        _ftyp(b"msf1", b"miaf", b"hevc"),
        SQUARE,
    ],
)
def test_heic_is_recognised_by_its_ftyp_brands(data):
    assert images.is_heif(data)


@pytest.mark.parametrize(
    "data",
    [
        _ftyp(b"avif", b"mif1", b"miaf"),  # AV1, not HEVC
        _ftyp(b"mif1", b"avif", b"miaf"),
        _ftyp(b"isom", b"heic"),  # an MP4 that happens to list heic
        _ftyp(b"qt  "),  # a QuickTime movie (an iPhone's Live Photo half)
        image_bytes("JPEG"),
        image_bytes("PNG"),
        b"",
        b"\0\0\0\x18ftypheic",  # shorter than the box it announces
        b"\0\0\0\x08ftypheic\0\0\0\0",  # a box too small to hold a brand
        b"\0\0\0\x18fty_heic\0\0\0\0mif1heic",
        _ftyp(b"mif1", *[b"miaf"] * 300, b"heic"),  # a box far longer than any real one
    ],
)
def test_anything_else_is_not_heic(data):
    assert not images.is_heif(data)


def test_a_heic_photo_becomes_an_upright_jpeg_without_exif_or_gps():
    # Given an iPhone photo stored sideways, with GPS and camera maker in its EXIF
    data = iphone_photo()
    assert b"SecretCam" in data and heic_gps(data)[1] == "N"
    # When it is processed
    result = images.process(data)
    # Then it is a portrait JPEG, red along its top, and carries no metadata at all
    out = Image.open(io.BytesIO(result.data))
    assert (out.format, result.media_type, result.suffix) == ("JPEG", "image/jpeg", "jpg")
    assert out.size == (result.width, result.height) == (40, 80)
    red, rest = out.getpixel((20, 5)), out.getpixel((20, 70))
    assert red[0] > 200 and red[1] < 60, red
    assert rest[0] < 60, rest
    assert dict(out.getexif()) == {}
    assert not {"exif", "xmp", "comment"} & set(out.info)
    assert b"Exif" not in result.data and b"SecretCam" not in result.data
    assert len(result.blurhash) >= 6


def test_a_heic_named_and_typed_as_anything_is_judged_by_its_bytes():
    # The filename and the declared type never reach the pipeline: bytes alone decide
    assert images.process(SQUARE).media_type == "image/jpeg"


def test_a_large_heic_is_cut_to_1920_pixels():
    result = images.process(heic_bytes(Image.new("RGB", (2400, 1200), (200, 90, 20))))
    assert (result.width, result.height) == (1920, 960)


@pytest.mark.parametrize("width, height", [(10_000, 8_000), (30_000, 30_000)])
def test_a_heic_claiming_too_many_pixels_is_refused_before_decoding(width, height):
    # Given a HEIC of a few hundred bytes whose header claims 80 or 900 megapixels
    bomb = claiming_size(SQUARE, width, height)
    assert len(bomb) < 1000
    # When it is processed, then it is refused for its size, not decoded
    with pytest.raises(images.TooManyPixels, match="pixels"):
        images.process(bomb)


def test_a_heic_over_the_decoding_limit_is_refused_by_name():
    # 6000x4500 is 27 megapixels: over MAX_HEIC_PIXELS (an iPhone's 24 megapixels fit)
    with pytest.raises(images.TooManyPixels, match="a HEIC image may have at most 25 megapixels"):
        images.process(claiming_size(SQUARE, 6000, 4500))


def test_an_iphones_24_megapixel_heic_is_within_the_limit():
    assert 5712 * 4284 <= images.MAX_HEIC_PIXELS < images.MAX_PIXELS


@pytest.mark.parametrize("keep", [0.5, 0.2])
def test_a_truncated_heic_is_a_broken_image_not_an_unknown_format(keep):
    data = iphone_photo()
    with pytest.raises(images.BrokenImage, match="HEIC"):
        images.process(data[: int(len(data) * keep)])


def test_a_heic_whose_pixels_do_not_match_its_header_is_broken():
    # 128x128 claimed, 64x64 coded: libheif finds out while decoding
    with pytest.raises(images.BrokenImage):
        images.process(claiming_size(SQUARE, 128, 128))


def test_a_transparent_heic_is_laid_over_white():
    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    image.paste((0, 0, 255, 255), (0, 0, 32, 64))
    out = Image.open(io.BytesIO(images.process(heic_bytes(image)).data))
    assert min(out.getpixel((56, 32))) > 240  # the transparent half: white, not black
    assert out.getpixel((8, 32))[2] > 200


def test_pillow_heif_is_imported_with_the_first_heic_only():
    # Given a fresh process (idle RSS: libheif and its codecs cost about 8 MB)
    script = (
        "import io, sys\n"
        "from PIL import Image\n"
        "from fedi_town.media import images\n"
        "assert 'pillow_heif' not in sys.modules, 'imported with images'\n"
        "jpeg = io.BytesIO()\n"
        "Image.new('RGB', (8, 8)).save(jpeg, 'JPEG')\n"
        "images.process(jpeg.getvalue())\n"
        "assert 'pillow_heif' not in sys.modules, 'imported for a JPEG'\n"
        f"images.process({SQUARE!r})\n"
        "assert 'pillow_heif' in sys.modules\n"
    )
    # When it processes a JPEG, then a HEIC, then pillow-heif arrives with the HEIC only
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert run.returncode == 0, run.stderr
