"""Media files: served from the media directory with their stored type; no path traversal."""

from __future__ import annotations

import pytest

from tests.conftest import create_business
from tests.read.helpers import insert_media, services

pytestmark = pytest.mark.anyio


async def test_an_uploaded_file_is_served_with_its_type_and_long_caching(app_client):
    # Given an uploaded image
    await create_business(app_client, "bakery")
    await insert_media(app_client, path="ab/cd/bread.png", content=b"PNGDATA")
    # When it is fetched at its URL
    response = await app_client.get("/media/ab/cd/bread.png")
    # Then it comes back as stored, cacheable for a long time
    assert response.status_code == 200
    assert response.content == b"PNGDATA"
    assert response.headers["content-type"] == "image/png"
    assert "immutable" in response.headers["cache-control"]
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_file_not_recorded_as_media_is_not_served(app_client):
    # Given a file in the media directory that no upload row names
    media_dir = services(app_client).settings.media_dir
    media_dir.mkdir(parents=True, exist_ok=True)
    (media_dir / "stray.html").write_text("<script>alert(1)</script>")
    response = await app_client.get("/media/stray.html")
    assert response.status_code == 404


async def test_a_recorded_media_row_without_its_file_is_404(app_client):
    await create_business(app_client, "bakery")
    await insert_media(app_client, path="x/lost.png")
    (services(app_client).settings.media_dir / "x" / "lost.png").unlink()
    assert (await app_client.get("/media/x/lost.png")).status_code == 404


@pytest.mark.parametrize(
    ("recorded", "path"),
    [
        ("../secret.txt", "/media/%2e%2e/secret.txt"),
        ("../secret.txt", "/media/..%2fsecret.txt"),
        ("ab/../../secret.txt", "/media/ab/%2e%2e/%2e%2e/secret.txt"),
        ("/etc/passwd", "/media/%2Fetc%2Fpasswd"),
        ("ab\\..\\secret.txt", "/media/ab%5c..%5csecret.txt"),
    ],
)
async def test_path_traversal_is_refused_even_for_a_recorded_path(app_client, recorded, path):
    # Given a secret outside the media directory, and a media row (wrongly) naming it
    await create_business(app_client, "bakery")
    media_dir = services(app_client).settings.media_dir
    media_dir.mkdir(parents=True, exist_ok=True)
    (media_dir.parent / "secret.txt").write_text("secret")
    await insert_media(app_client, path="ab/ok.png")
    await services(app_client).store.execute("UPDATE media SET path = :p", {"p": recorded})
    # When a traversal path is asked for
    response = await app_client.get(path)
    # Then nothing outside the media directory comes back
    assert response.status_code == 404
    assert "secret" not in response.text


async def test_a_symlink_out_of_the_media_directory_is_not_followed(app_client):
    await create_business(app_client, "bakery")
    media_dir = services(app_client).settings.media_dir
    (media_dir.parent / "secret.txt").write_text("secret")
    await insert_media(app_client, path="link/ok.png")
    target = media_dir / "link" / "ok.png"
    target.unlink()
    target.symlink_to(media_dir.parent / "secret.txt")
    response = await app_client.get("/media/link/ok.png")
    assert response.status_code == 404
