"""Uploaded images: judged by their bytes, bombs refused, metadata gone, upright, shrunk."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from fedi_town.media import images
from tests.media.conftest import image_bytes
from tests.reliability import record


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


def _animation(frames: int, size: tuple[int, int], fmt: str = "GIF") -> bytes:
    """An animation of ``frames`` frames of ``size`` that compresses to a few kilobytes:
    a small square moving over a flat background."""
    shots = []
    for n in range(frames):
        shot = Image.new("RGB", size, (250, 250, 240))
        shot.paste((200, 40, 40), (n * 7 % size[0], 10, n * 7 % size[0] + 40, 50))
        shots.append(shot)
    buffer = io.BytesIO()
    shots[0].save(buffer, fmt, save_all=True, append_images=shots[1:], duration=60)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_a_large_animation_keeps_every_frame_scaled_down_to_its_pixel_budget(fmt):
    # Given a 30-frame 1920x1080 animation: 62 million pixels of frames, five times the
    # budget one upload may hold decoded
    data = _animation(30, (1920, 1080), fmt)
    # When it is processed
    result = images.process(data)
    # Then it still animates, all 30 frames, at the largest size whose frames fit the budget
    out = Image.open(io.BytesIO(result.data))
    record("media", f"animated {fmt} 30x1920x1080", f"kept {result.width}x{result.height}")
    assert out.n_frames == 30
    assert 30 * result.width * result.height <= images.ANIMATION_PIXELS
    assert result.width > 800 and abs(result.width / result.height - 16 / 9) < 0.02
    assert out.size == (result.width, result.height)


def test_an_animation_too_long_to_stay_readable_becomes_its_first_frame():
    # Given 480 frames of 640x360: at the budget each frame would be 210 pixels wide
    data = _animation(480, (640, 360))
    # When it is processed
    result = images.process(data)
    # Then the owner gets a still GIF of the first frame at full size, not a refusal
    out = Image.open(io.BytesIO(result.data))
    record("media", "animated GIF 480x640x360", f"still {getattr(out, 'n_frames', 1)} frame")
    assert getattr(out, "n_frames", 1) == 1
    assert (result.width, result.height) == (640, 360)
    assert out.convert("RGB").getpixel((20, 30)) == (200, 40, 40)


def test_a_still_png_over_the_decoding_limit_is_refused_before_decoding():
    # Given a PNG of 5000x4000 (20 megapixels: 80 MB once decoded), a few kilobytes on disk
    data = image_bytes("PNG", size=(5000, 4000))
    # When it is processed, then it is refused as too many pixels
    with pytest.raises(images.TooManyPixels):
        images.process(data)
    record("media", "PNG of 20 megapixels", "TooManyPixels")


def test_a_large_jpeg_photo_is_decoded_at_a_reduced_scale_and_kept():
    # Given a 7000x5000 JPEG (35 megapixels, a phone's full-resolution photo)
    data = image_bytes("JPEG", size=(7000, 5000))
    # When it is processed, then it is kept, cut to 1920 pixels on its longest side
    result = images.process(data)
    assert (result.width, result.height) == (1920, 1371)


def test_frames_times_pixels_over_the_decoding_work_limit_are_refused():
    # Given a GIF whose header promises 200 frames of 1000x1000 (200 million pixels)
    data = _animation(200, (1000, 1000))
    # When it is processed, then it is refused before its frames are decoded
    with pytest.raises(images.TooManyPixels):
        images.process(data)
    record("media", "GIF of 200 megapixels in all", "TooManyPixels")


# -- small images kept as they came (custom emoji) ------------------------------------


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [("PNG", "image/png"), ("GIF", "image/gif"), ("WEBP", "image/webp"), ("JPEG", "image/jpeg")],
)
def test_a_small_image_of_each_kept_format_is_recognised_by_its_bytes(fmt, media_type):
    found = images.check_small_image(image_bytes(fmt, (32, 24)))
    assert (found.media_type, found.width, found.height) == (media_type, 32, 24)


def test_a_small_image_over_512_a_side_is_refused_before_decoding():
    with pytest.raises(images.TooManyPixels):
        images.check_small_image(image_bytes("PNG", (513, 10)))


@pytest.mark.parametrize(
    "data",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b"<!doctype html><html><body>not an image</body></html>",
        b"",
    ],
)
def test_svg_html_and_nothing_are_not_small_images(data):
    with pytest.raises(images.NotAnImage):
        images.check_small_image(data)


def test_a_cut_short_small_image_is_broken():
    data = image_bytes("PNG", (64, 64), (1, 2, 3))
    with pytest.raises(images.ImageRejected):
        images.check_small_image(data[: len(data) // 2])


def test_a_long_animation_of_small_frames_is_refused():
    frames = [Image.new("RGB", (256, 256), (i % 256, i // 256, 0)) for i in range(260)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(images.TooManyPixels):
        images.check_small_image(buffer.getvalue())
