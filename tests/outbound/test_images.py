"""Uploaded images: judged by their bytes, bombs refused, metadata gone, upright, shrunk."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from fedi_town.media import images
from tests.outbound.conftest import image_bytes


def test_each_accepted_format_is_recognised_by_its_bytes():
    for fmt, media_type in [
        ("JPEG", "image/jpeg"),
        ("PNG", "image/png"),
        ("WEBP", "image/webp"),
        ("GIF", "image/gif"),
    ]:
        result = images.process(image_bytes(fmt))
        assert result.media_type == media_type
        assert (result.width, result.height) == (64, 48)
        assert len(result.blurhash) >= 6


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7 not an image", b"GIF89", b"", image_bytes("BMP"), image_bytes("TIFF")],
)
def test_anything_else_is_not_an_image(data):
    with pytest.raises(images.NotAnImage):
        images.process(data)


def test_exif_and_gps_are_stripped_and_the_orientation_applied():
    # Given a landscape JPEG whose EXIF says "rotate 90°" and carries a GPS position
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    exif[0x010F] = "SecretCam"
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0)}
    buffer = io.BytesIO()
    Image.new("RGB", (80, 40), (10, 20, 30)).save(
        buffer, "JPEG", exif=exif.tobytes(), comment=b"owner: Jo"
    )
    # When it is processed
    result = images.process(buffer.getvalue())
    # Then it is upright (portrait) and carries no metadata at all
    out = Image.open(io.BytesIO(result.data))
    assert out.size == (40, 80)
    assert (result.width, result.height) == (40, 80)
    assert dict(out.getexif()) == {}
    assert "exif" not in out.info and "comment" not in out.info
    assert b"SecretCam" not in result.data and b"owner: Jo" not in result.data


def test_the_longest_side_is_cut_to_1920_pixels():
    result = images.process(image_bytes("PNG", size=(4000, 1000)))
    assert (result.width, result.height) == (1920, 480)
    assert Image.open(io.BytesIO(result.data)).size == (1920, 480)


def test_a_decompression_bomb_is_refused_before_decoding():
    # A PNG that claims 30000 x 30000 pixels in a few hundred bytes
    buffer = io.BytesIO()
    Image.new("1", (30000, 30000)).save(buffer, "PNG")
    assert len(buffer.getvalue()) < 200_000
    with pytest.raises(images.TooManyPixels):
        images.process(buffer.getvalue())


def test_an_animated_gif_keeps_its_frames():
    frames = [Image.new("RGB", (50, 40), c) for c in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=80)
    result = images.process(buffer.getvalue())
    assert Image.open(io.BytesIO(result.data)).n_frames == 3


def test_a_truncated_image_is_broken_not_a_crash():
    data = image_bytes("PNG", size=(300, 300))
    with pytest.raises(images.ImageRejected):
        images.process(data[: len(data) // 2])
