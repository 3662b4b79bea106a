"""Uploading images through the admin API: only real images, limited, stripped, renamed."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from fedi_town.api.media import MAX_FILE_BYTES
from tests.conftest import create_business
from tests.outbound.conftest import image_bytes, owner, table_count, upload

pytestmark = pytest.mark.anyio


async def test_an_uploaded_image_is_stored_under_a_new_random_name(app_client, settings):
    # Given a business
    business = await create_business(app_client, "bakery")
    # When its owner uploads the same photo twice, with alt text
    first = await upload(app_client, business, image_bytes(), description="Rye loaves")
    second = await upload(app_client, business, image_bytes())
    # Then each gets its own unguessable URL, size and blurhash, and the file is on disk
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["media_type"] == "image/jpeg"
    assert (body["width"], body["height"]) == (64, 48)
    assert body["description"] == "Rye loaves"
    assert body["blurhash"] and body["post_id"] is None
    assert body["url"] != second.json()["url"]
    name = body["url"].rsplit("/", 1)[1]
    assert len(name.split(".")[0]) == 32 and name.endswith(".jpg")
    assert (settings.media_dir / name).is_file()


async def test_a_file_that_is_not_an_image_is_refused_whatever_its_name(app_client):
    business = await create_business(app_client, "bakery")
    response = await upload(
        app_client, business, b"%PDF-1.7 hello", filename="cat.jpg", content_type="image/jpeg"
    )
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert await table_count(app_client.services.store, "media") == 0


async def test_a_png_named_jpeg_is_kept_as_the_png_it_is(app_client):
    business = await create_business(app_client, "bakery")
    response = await upload(app_client, business, image_bytes("PNG"), filename="x.jpg")
    assert response.json()["media_type"] == "image/png"


async def test_a_file_over_ten_megabytes_is_refused_with_413(app_client):
    business = await create_business(app_client, "bakery")
    response = await upload(app_client, business, b"\xff\xd8" + b"0" * MAX_FILE_BYTES)
    assert response.status_code == 413
    assert await table_count(app_client.services.store, "media") == 0


async def test_a_decompression_bomb_is_refused_with_422(app_client):
    business = await create_business(app_client, "bakery")
    buffer = io.BytesIO()
    Image.new("1", (30000, 30000)).save(buffer, "PNG")
    response = await upload(app_client, business, buffer.getvalue(), filename="b.png")
    assert response.status_code == 422
    assert "pixels" in response.json()["detail"]


async def test_alt_text_is_limited_and_can_be_changed(app_client):
    business = await create_business(app_client, "bakery")
    too_long = await upload(app_client, business, image_bytes(), description="x" * 1501)
    assert too_long.status_code == 422
    media = (await upload(app_client, business, image_bytes())).json()
    changed = await app_client.patch(
        f"/api/v1/businesses/bakery/media/{media['id']}",
        json={"description": "A basket of rolls"},
        headers=owner(business),
    )
    assert changed.status_code == 200
    assert changed.json()["description"] == "A basket of rolls"


async def test_unattached_media_can_be_deleted_with_its_file(app_client, settings):
    business = await create_business(app_client, "bakery")
    media = (await upload(app_client, business, image_bytes())).json()
    name = media["url"].rsplit("/", 1)[1]
    response = await app_client.delete(
        f"/api/v1/businesses/bakery/media/{media['id']}", headers=owner(business)
    )
    assert response.status_code == 204
    assert not (settings.media_dir / name).exists()


async def test_an_avatar_in_use_cannot_be_deleted(app_client):
    business = await create_business(app_client, "bakery")
    media = (await upload(app_client, business, image_bytes())).json()
    await app_client.patch(
        "/api/v1/businesses/bakery", json={"avatar_media_id": media["id"]}, headers=owner(business)
    )
    response = await app_client.delete(
        f"/api/v1/businesses/bakery/media/{media['id']}", headers=owner(business)
    )
    assert response.status_code == 409


async def test_another_business_cannot_see_or_touch_my_media(app_client):
    bakery = await create_business(app_client, "bakery")
    cafe = await create_business(app_client, "cafe")
    media = (await upload(app_client, bakery, image_bytes())).json()
    response = await app_client.get(
        f"/api/v1/businesses/cafe/media/{media['id']}", headers=owner(cafe)
    )
    assert response.status_code == 404


async def test_an_upload_without_a_file_part_or_as_json_is_refused(app_client):
    business = await create_business(app_client, "bakery")
    as_json = await app_client.post(
        "/api/v1/businesses/bakery/media", json={"file": "x"}, headers=owner(business)
    )
    assert as_json.status_code == 415
    no_file = await app_client.post(
        "/api/v1/businesses/bakery/media",
        files={"other": ("a.txt", b"x", "text/plain")},
        headers=owner(business),
    )
    assert no_file.status_code == 422


async def test_a_changed_alt_text_shows_in_the_note_at_once(app_client):
    # Given a post with an image whose Note a remote server has fetched (and we keep)
    business = await create_business(app_client, "bakery")
    media = (await upload(app_client, business, image_bytes(), description="Rolls")).json()
    post = await app_client.post(
        "/api/v1/businesses/bakery/posts",
        json={"content": "Today", "media_ids": [media["id"]]},
        headers=owner(business),
    )
    note_path = "/" + post.json()["uri"].split("/", 3)[3]
    accept = {"Accept": "application/activity+json"}
    first = await app_client.get(note_path, headers=accept)
    assert first.json()["attachment"][0]["name"] == "Rolls"
    # When the owner changes the alt text
    changed = await app_client.patch(
        f"/api/v1/businesses/bakery/media/{media['id']}",
        json={"description": "A basket of rye rolls"},
        headers=owner(business),
    )
    assert changed.status_code == 200
    # Then the next fetch of the Note shows it, not the kept answer
    again = await app_client.get(note_path, headers=accept)
    assert again.json()["attachment"][0]["name"] == "A basket of rye rolls"
