"""Media in an S3-compatible bucket (a real S3-protocol server on loopback, tests/s3.py),
through the admin API and /media: stored in the bucket, served from it or redirected to its
public URL, deleted with the media or the post, and a bucket that fails is a 503 with
nothing half-written. Both database backends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from fedi_town.services import Services
from tests.conftest import _app_client, create_business, make_settings
from tests.outbound.conftest import image_bytes, owner, table_count, upload, write_post
from tests.s3 import SECRET_ACCESS_KEY

pytestmark = pytest.mark.anyio


def client_with(database_url: str, tmp_path: Path, overrides: dict[str, Any]) -> Any:
    settings = make_settings(database_url, tmp_path, **overrides)
    return _app_client(Services.from_settings(settings))


@pytest.fixture
async def s3_client(
    database_url: str, tmp_path: Path, s3_settings: dict[str, Any]
) -> AsyncIterator[httpx.AsyncClient]:
    async with client_with(database_url, tmp_path, s3_settings) as client:
        yield client


def name_of(media: dict[str, Any]) -> str:
    return str(media["url"]).rsplit("/", 1)[1]


async def test_an_upload_is_stored_in_the_bucket_and_served_from_it(
    s3_client, s3_objects: Callable[[], dict[str, bytes]], tmp_path: Path
):
    # Given a business
    business = await create_business(s3_client, "bakery")
    # When its owner uploads a photo
    response = await upload(s3_client, business, image_bytes(), description="Rye")
    assert response.status_code == 201, response.text
    name = name_of(response.json())
    # Then the bucket holds it, and nothing was written to the media folder
    stored = s3_objects()
    assert list(stored) == [name]
    assert not (tmp_path / "media").exists()
    # And /media serves the bucket's bytes with the stored type and a year of caching
    served = await s3_client.get(f"/media/{name}")
    assert served.status_code == 200
    assert served.content == stored[name]
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["content-length"] == str(len(stored[name]))
    assert "immutable" in served.headers["cache-control"]
    assert served.headers["x-content-type-options"] == "nosniff"


async def test_deleting_the_media_deletes_its_object(s3_client, s3_objects):
    business = await create_business(s3_client, "bakery")
    media = (await upload(s3_client, business, image_bytes())).json()
    response = await s3_client.delete(
        f"/api/v1/businesses/bakery/media/{media['id']}", headers=owner(business)
    )
    assert response.status_code == 204
    assert s3_objects() == {}
    assert (await s3_client.get(f"/media/{name_of(media)}")).status_code == 404


async def test_deleting_a_published_post_deletes_its_photos(s3_client, s3_objects):
    # Given a published post with two photos, and a third photo used as the avatar
    business = await create_business(s3_client, "bakery")
    photos = [(await upload(s3_client, business, image_bytes())).json() for _ in range(2)]
    avatar = (await upload(s3_client, business, image_bytes())).json()
    changed = await s3_client.patch(
        "/api/v1/businesses/bakery",
        json={"avatar_media_id": avatar["id"]},
        headers=owner(business),
    )
    assert changed.status_code == 200, changed.text
    post = await write_post(s3_client, business, content="Rye", media_ids=[p["id"] for p in photos])
    assert post.status_code == 201, post.text
    # When the post is deleted
    gone = await s3_client.delete(
        f"/api/v1/businesses/bakery/posts/{post.json()['id']}", headers=owner(business)
    )
    assert gone.status_code == 204, gone.text
    # Then its photos' objects and rows are gone; the avatar stays
    assert list(s3_objects()) == [name_of(avatar)]
    assert await table_count(s3_client.services.store, "media") == 1


async def test_an_unreachable_bucket_refuses_the_upload_with_503_and_records_nothing(
    database_url, tmp_path, unreachable_s3
):
    async with client_with(database_url, tmp_path, unreachable_s3) as client:
        business = await create_business(client, "bakery")
        response = await upload(client, business, image_bytes())
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert "the bucket gone" in response.json()["detail"]
        assert SECRET_ACCESS_KEY not in response.text
        assert "retry-after" in response.headers
        assert await table_count(client.services.store, "media") == 0


async def test_serving_from_an_unreachable_bucket_is_a_503_problem(
    database_url, tmp_path, s3_settings, unreachable_s3
):
    # Given a photo uploaded while the bucket answered
    async with client_with(database_url, tmp_path, s3_settings) as client:
        business = await create_business(client, "bakery")
        name = name_of((await upload(client, business, image_bytes())).json())
    # When the bucket stops answering and the photo is asked for
    async with client_with(database_url, tmp_path, unreachable_s3) as client:
        response = await client.get(f"/media/{name}")
    # Then the answer is a 503 problem naming the bucket, without the secret
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert SECRET_ACCESS_KEY not in response.text


async def test_with_a_public_url_media_gets_redirect_there_and_documents_keep_our_url(
    database_url, tmp_path, s3_settings
):
    # Given a bucket with a public URL (its own or a CDN's)
    overrides = s3_settings | {"s3_public_url": "https://media.town.example"}
    async with client_with(database_url, tmp_path, overrides) as client:
        business = await create_business(client, "bakery")
        media = (await upload(client, business, image_bytes())).json()
        # Then the media's URL is still the instance's own /media/ path
        assert media["url"].startswith("https://town.example/media/")
        # And a GET of it answers a redirect to the public URL of the object
        response = await client.get(f"/media/{name_of(media)}")
        assert response.status_code == 302
        assert response.headers["location"] == f"https://media.town.example/{name_of(media)}"
        # But a name no upload recorded is still 404, not a redirect
        assert (await client.get("/media/nothing.png")).status_code == 404


async def test_a_range_of_a_photo_in_the_bucket_is_served_as_from_a_folder(s3_client, s3_objects):
    # Given a photo in the bucket
    business = await create_business(s3_client, "bakery")
    name = name_of((await upload(s3_client, business, image_bytes())).json())
    stored = s3_objects()[name]
    size = len(stored)
    url = f"/media/{name}"
    # When parts of it are asked for, as a browser or a proxy may
    first = await s3_client.get(url, headers={"Range": "bytes=0-99"})
    tail = await s3_client.get(url, headers={"Range": "bytes=-10"})
    rest = await s3_client.get(url, headers={"Range": "bytes=100-"})
    outside = await s3_client.get(url, headers={"Range": f"bytes={size}-"})
    several = await s3_client.get(url, headers={"Range": "bytes=0-1,5-6"})
    # Then each is the 206 of those bytes, 416 outside the photo, and several ranges whole
    assert (first.status_code, first.content) == (206, stored[:100])
    assert first.headers["content-range"] == f"bytes 0-99/{size}"
    assert (tail.status_code, tail.content) == (206, stored[-10:])
    assert (rest.status_code, rest.content) == (206, stored[100:])
    assert outside.status_code == 416
    assert outside.headers["content-range"] == f"bytes */{size}"
    assert (several.status_code, several.content) == (200, stored)


async def test_a_delete_the_bucket_cannot_do_is_a_503_and_the_media_stays_whole(
    database_url, tmp_path, s3_settings, unreachable_s3, s3_objects
):
    # Given a photo uploaded while the bucket answered
    async with client_with(database_url, tmp_path, s3_settings) as client:
        business = await create_business(client, "bakery")
        media = (await upload(client, business, image_bytes())).json()
    # When its deletion is asked while the bucket does not answer
    async with client_with(database_url, tmp_path, unreachable_s3) as client:
        response = await client.delete(
            f"/api/v1/businesses/bakery/media/{media['id']}", headers=owner(business)
        )
        # Then it is a 503, and the row and the object are both still there
        assert response.status_code == 503
        assert await table_count(client.services.store, "media") == 1
    assert list(s3_objects()) == [name_of(media)]


async def test_deleting_a_published_post_deletes_its_photo_files_in_the_folder_too(
    app_client, settings
):
    business = await create_business(app_client, "bakery")
    photo = (await upload(app_client, business, image_bytes())).json()
    post = await write_post(app_client, business, content="Rye", media_ids=[photo["id"]])
    assert (settings.media_dir / name_of(photo)).is_file()
    gone = await app_client.delete(
        f"/api/v1/businesses/bakery/posts/{post.json()['id']}", headers=owner(business)
    )
    assert gone.status_code == 204
    assert not (settings.media_dir / name_of(photo)).exists()
    assert (await app_client.get(f"/media/{name_of(photo)}")).status_code == 404
