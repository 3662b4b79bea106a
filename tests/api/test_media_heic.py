"""iPhone photos (HEIC) through the admin API's upload: kept as JPEG, upright, with no GPS;
broken or oversized ones refused with a problem and nothing stored."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.conftest import create_business
from tests.media.conftest import claiming_size, heic_bytes, heic_gps, iphone_photo
from tests.outbound.conftest import table_count, upload

pytestmark = pytest.mark.anyio


def _stored_files(settings) -> list[str]:
    media_dir = settings.media_dir
    return sorted(p.name for p in media_dir.iterdir()) if media_dir.exists() else []


async def test_an_iphone_photo_is_kept_as_an_upright_jpeg_without_its_location(
    app_client, settings
):
    # Given a business, and a photo straight from its owner's iPhone: stored sideways,
    # with the shop's GPS position in its EXIF
    business = await create_business(app_client, "bakery")
    data = iphone_photo()
    assert heic_gps(data)[1] == "N"
    # When the owner uploads it as the iPhone names it
    response = await upload(
        app_client, business, data, filename="IMG_0042.HEIC", content_type="image/heic"
    )
    # Then it is a JPEG, upright (portrait), with its blurhash
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["media_type"] == "image/jpeg"
    assert (body["width"], body["height"]) == (40, 80)
    assert body["blurhash"]
    name = body["url"].rsplit("/", 1)[1]
    assert name.endswith(".jpg")
    # And the file published holds no EXIF at all: no GPS, no camera
    stored = (settings.media_dir / name).read_bytes()
    out = Image.open(io.BytesIO(stored))
    assert out.format == "JPEG" and out.size == (40, 80)
    assert dict(out.getexif()) == {} and not out.getexif().get_ifd(0x8825)
    assert "exif" not in out.info
    assert b"Exif" not in stored and b"SecretCam" not in stored
    # And what the API serves is that same file
    served = await app_client.get(body["url"])
    assert served.status_code == 200
    assert served.content == stored


async def test_a_heic_sent_as_octet_stream_is_judged_by_its_bytes(app_client):
    business = await create_business(app_client, "bakery")
    data = heic_bytes(Image.new("RGB", (64, 48), (200, 90, 20)))
    response = await upload(
        app_client, business, data, filename="photo.heic", content_type="application/octet-stream"
    )
    assert response.status_code == 201, response.text
    assert response.json()["media_type"] == "image/jpeg"
    assert (response.json()["width"], response.json()["height"]) == (64, 48)


async def test_a_truncated_heic_is_refused_with_422_and_nothing_is_stored(app_client, settings):
    # Given an iPhone photo cut short in transit
    business = await create_business(app_client, "bakery")
    data = iphone_photo()
    # When it is uploaded
    response = await upload(
        app_client, business, data[: len(data) // 2], filename="IMG.HEIC", content_type="image/heic"
    )
    # Then the owner is told it is damaged, and no row or file is left behind
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert "HEIC" in problem["detail"]
    assert problem["errors"][0]["pointer"] == "/file"
    assert await table_count(app_client.services.store, "media") == 0
    assert _stored_files(settings) == []


async def test_a_heic_claiming_huge_dimensions_is_refused_with_422_before_decoding(
    app_client, settings
):
    # Given a HEIC of a few hundred bytes whose header claims 10000x8000 pixels
    business = await create_business(app_client, "bakery")
    square = heic_bytes(Image.new("RGB", (64, 64), (30, 120, 60)))
    bomb = claiming_size(square, 10_000, 8_000)
    # When it is uploaded
    response = await upload(app_client, business, bomb, filename="big.heic")
    # Then it is refused with a message about its size, and nothing is stored
    assert response.status_code == 422
    assert response.json()["detail"] == "the image is larger than 40 megapixels"
    assert await table_count(app_client.services.store, "media") == 0
    assert _stored_files(settings) == []
